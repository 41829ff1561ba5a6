package io.nocopy.buffer;

import io.nocopy.memory.Block;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.util.Objects;

/**
 * A reference-counted, read-only, possibly non-contiguous run of bytes held in pooled blocks: the
 * bytes of one frame, message or chunk of a stream, kept without copying.
 *
 * <h2>Ownership and lifetime</h2>
 *
 * A {@code Slice} object is a <em>handle</em>. Whoever receives one (from {@link
 * BufReader#readSlice}, {@link BufWriter#toSlice}, {@link #retain()} or {@link #slice(long, long)})
 * owns it and calls {@link #close()} exactly once. The blocks under a slice stay out of their pool
 * until every handle sharing them is closed, independent of the reader or writer that produced them
 * (a slice survives {@link BufReader#close()}). Using a handle after its {@code close()} and
 * closing it twice throw {@link IllegalStateException}; each holder's mistakes are caught on its
 * own handle because every holder has its own.
 *
 * <h2>Threads</h2>
 *
 * One handle is used by one thread at a time (it caches the {@link ByteBuffer} views {@link
 * #writeTo} gathers from, so its state is not shareable). To give the same bytes to another thread
 * (a subscriber writing at its own pace), {@link #retain()} and hand over the new handle;
 * retaining and closing are safe from any thread. The bytes themselves are never written after the
 * slice is created, so readers on different threads need no further synchronization.
 *
 * <h2>Cost</h2>
 *
 * {@code retain()} and {@code slice()} allocate one small handle and touch one atomic counter, not
 * the blocks. {@link #forEachChunk} passes the block's own segment for chunks that cover a whole
 * block and a view ({@link MemorySegment#asSlice}) otherwise. The first {@link #writeTo} of a
 * handle creates one direct {@code ByteBuffer} view per block it covers (these views are private
 * to the handle, because {@link Block#byteBuffer()} is scratch state of whoever fills the block);
 * later writes, including resumed partial writes, allocate nothing.
 */
public final class Slice implements AutoCloseable {
  private static final VarHandle HANDLES;

  static {
    try {
      HANDLES = MethodHandles.lookup().findVarHandle(Data.class, "handles", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * The chunks shared by all handles of one slice, and the count of open handles. A slice of one
   * chunk (the common case) keeps it in fields and needs no table; a longer one keeps a {@link
   * Chunks} that is never changed until the last handle releases it.
   */
  static final class Data {
    final int count;
    final Block block0; // the one chunk when table is null, with one reference
    final int offset0;
    final int length0;
    final Chunks table; // two or more chunks; null for zero or one
    volatile int handles = 1;

    Data(Block block0, int offset0, int length0) {
      this.count = block0 == null ? 0 : 1;
      this.block0 = block0;
      this.offset0 = offset0;
      this.length0 = length0;
      this.table = null;
    }

    Data(Chunks table) {
      this.count = table.count();
      this.block0 = null;
      this.offset0 = 0;
      this.length0 = 0;
      this.table = table;
    }

    Block block(int i) {
      return table == null ? block0 : table.block(i);
    }

    int offset(int i) {
      return table == null ? offset0 : table.offset(i);
    }

    int length(int i) {
      return table == null ? length0 : table.length(i);
    }

    void acquire() {
      while (true) {
        int h = handles;
        if (h <= 0) {
          throw new IllegalStateException("slice memory already released");
        }
        if (HANDLES.compareAndSet(this, h, h + 1)) {
          return;
        }
      }
    }

    void releaseHandle() {
      int h = (int) HANDLES.getAndAdd(this, -1);
      if (h == 1) {
        if (table != null) {
          table.release();
        } else {
          block0.release();
        }
      } else if (h <= 0) {
        throw new IllegalStateException("slice memory released more often than retained");
      }
    }
  }

  private static final Data EMPTY_DATA = new Data(null, 0, 0);

  private final Data data;
  private final int firstChunk; // index into data of the first chunk this handle covers
  private final int firstSkip; // bytes of that chunk before this handle's first byte
  private final long length;
  private boolean closed;
  private ByteBuffer[] views; // per data chunk from firstChunk, created on first writeTo

  private Slice(Data data, int firstChunk, int firstSkip, long length) {
    this.data = data;
    this.firstChunk = firstChunk;
    this.firstSkip = firstSkip;
    this.length = length;
  }

  /**
   * Makes a slice of one chunk that takes over one reference of {@code block} (the caller retained
   * it for the slice).
   */
  static Slice adopt(Block block, int offset, int length) {
    return new Slice(new Data(block, offset, length), 0, 0, length);
  }

  /** Makes a slice of the {@code count() >= 2} chunks of {@code table}, which it takes over. */
  static Slice adopt(Chunks table) {
    return new Slice(new Data(table), 0, 0, table.length());
  }

  /**
   * A slice over one chunk of a pooled block that takes over one reference to the block: the
   * one-chunk form of {@link #of(Chunks, int)}, with no chunk table.
   *
   * @param block the block; one reference now belongs to the slice
   * @param offset the chunk's first byte within the block's segment
   * @param length the chunk's length, at least 1
   * @return a new slice owned by the caller, who closes it
   * @throws IndexOutOfBoundsException if the chunk lies outside the block (the reference is not
   *     taken over then)
   * @throws IllegalArgumentException if the chunk is empty (the reference is not taken over then)
   */
  public static Slice ofBlock(Block block, int offset, int length) {
    if (length < 1) {
      throw new IllegalArgumentException("empty chunk");
    }
    Objects.checkFromIndexSize(offset, length, block.segment().byteSize());
    return adopt(block, offset, length);
  }

  /**
   * A slice of the first {@code n} chunks of {@code src}, which it takes over: they leave {@code
   * src} with their references, which the new slice releases when its last handle closes. No
   * reference count changes and no byte is copied; a slice of one chunk needs no chunk table, a
   * longer one allocates one of exactly {@code n} entries. Use {@link Chunks#retainTo} first to
   * keep the chunks in {@code src} as well.
   *
   * @param src the chunks; its first {@code n} are moved out
   * @param n the number of chunks, 0 .. src.count() (0: an empty slice)
   * @return a new slice owned by the caller, who closes it
   * @throws IndexOutOfBoundsException if {@code n} is out of range (nothing taken)
   */
  public static Slice of(Chunks src, int n) {
    Objects.checkFromIndexSize(0, n, src.count());
    if (n == 0) {
      return empty();
    }
    if (n == 1) {
      int offset = src.offset(0);
      int length = src.length(0);
      return adopt(src.removeFirst(), offset, length);
    }
    Chunks table = Chunks.exact(n);
    table.moveFrom(src, n);
    return adopt(table);
  }

  /**
   * A new empty slice. Closing it is still required (and checked) for symmetry.
   *
   * @return an empty slice owned by the caller
   */
  public static Slice empty() {
    return new Slice(EMPTY_DATA, 0, 0, 0); // EMPTY_DATA holds no blocks and is never counted
  }

  /**
   * The number of bytes in this slice.
   *
   * @return the length, 0 or more
   * @throws IllegalStateException if this handle is closed
   */
  public long length() {
    checkOpen();
    return length;
  }

  /**
   * Passes the bytes, in order, as one or more non-empty chunks (none for an empty slice). Each
   * chunk is valid while this handle is open; the consumer must not write to it.
   *
   * @param consumer receives the chunks
   * @throws IOException what the consumer throws; the remaining chunks are not delivered
   * @throws IllegalStateException if this handle is closed
   */
  public void forEachChunk(ChunkConsumer consumer) throws IOException {
    checkOpen();
    Data d = data;
    if (d.table != null) {
      d.table.forEach(firstChunk, firstSkip, length, consumer);
    } else if (length > 0) {
      consumer.accept(Chunks.view(d.block0.segment(), d.offset0 + firstSkip, (int) length));
    }
  }

  /**
   * A new handle on the same bytes for another owner. No bytes are copied.
   *
   * @return a new slice the caller owns and must close, independent of this one
   * @throws IllegalStateException if this handle is closed
   */
  public Slice retain() {
    checkOpen();
    if (data != EMPTY_DATA) {
      data.acquire();
    }
    return new Slice(data, firstChunk, firstSkip, length);
  }

  /**
   * A new handle on {@code length} bytes of this slice starting at {@code offset}. No bytes are
   * copied; the blocks stay out of the pool until the new handle is closed too.
   *
   * @param offset first byte, 0 .. length()
   * @param length bytes, 0 .. length() - offset
   * @return a new slice the caller owns and must close
   * @throws IndexOutOfBoundsException if the range is outside this slice
   * @throws IllegalStateException if this handle is closed
   */
  public Slice slice(long offset, long length) {
    checkOpen();
    long at = locate("slice", offset, length);
    if (length == 0) {
      return empty();
    }
    data.acquire();
    return new Slice(data, chunkOf(at), skipOf(at), length);
  }

  /**
   * Checks that {@code [offset, offset + length)} lies in this slice and finds its first byte: the
   * index into {@code data} of the chunk that holds it and the bytes of that chunk before it,
   * packed into one long ({@link #chunkOf}, {@link #skipOf}) so that the hot paths that call this
   * allocate nothing.
   *
   * @param op the operation, named in the exception
   * @return where the range starts; 0 for an empty range, which has no first byte
   * @throws IndexOutOfBoundsException if the range is outside this slice
   */
  private long locate(String op, long offset, long length) {
    if (offset < 0 || length < 0 || offset > this.length - length) {
      throw new IndexOutOfBoundsException(
          op + "(" + offset + ", " + length + ") of a slice of " + this.length + " bytes");
    }
    if (length == 0) {
      return 0;
    }
    Data d = data;
    int i = firstChunk;
    long skip = firstSkip + offset;
    while (skip >= d.length(i)) {
      skip -= d.length(i);
      i++;
    }
    return (long) i << 32 | skip; // skip < that chunk's length, an int
  }

  private static int chunkOf(long located) {
    return (int) (located >>> 32);
  }

  private static int skipOf(long located) {
    return (int) located;
  }

  /**
   * Writes every byte of this slice to {@code channel}; the same as {@code writeTo(channel, 0)}.
   *
   * @param channel the destination
   * @return the bytes written by this call (less than {@link #length()} only if a non-blocking
   *     channel stopped accepting bytes; resume with {@link #writeTo(GatheringByteChannel, long)})
   * @throws IOException from the channel
   * @throws IllegalStateException if this handle is closed
   */
  public long writeTo(GatheringByteChannel channel) throws IOException {
    return writeTo(channel, 0);
  }

  /**
   * Writes the bytes from {@code position} to the end with gathering writes ({@code writev}), one
   * buffer per chunk, repeating until every byte is written or the channel accepts nothing (a
   * non-blocking channel whose send buffer is full). The slice keeps no cursor: a caller resumes a
   * partial write by passing {@code position + written} next time, so several writers can send
   * the same handle (on one thread) at their own pace. A connection that sends many slices is
   * better served by a {@link BufWriter}: {@code writer.write(slice)} appends by reference and its
   * {@link BufWriter#writeTo} reuses its views, so steady-state sends allocate nothing, where the
   * first {@code writeTo} of each slice handle creates that handle's views.
   *
   * @param channel the destination
   * @param position the first byte to write, 0 .. length()
   * @return the bytes written by this call
   * @throws IOException from the channel
   * @throws IndexOutOfBoundsException if {@code position} is outside 0 .. length()
   * @throws IllegalStateException if this handle is closed
   */
  public long writeTo(GatheringByteChannel channel, long position) throws IOException {
    checkOpen();
    if (position < 0 || position > length) {
      throw new IndexOutOfBoundsException(
          "position " + position + " outside a slice of " + length + " bytes");
    }
    long total = 0;
    while (position < length) {
      long n = writeOnce(channel, position);
      if (n <= 0) {
        break;
      }
      total += n;
      position += n;
    }
    return total;
  }

  /** Positions the views for [position, length) and issues one gathering write. */
  private long writeOnce(GatheringByteChannel channel, long position) throws IOException {
    Data d = data;
    ByteBuffer[] v = views;
    if (v == null) {
      v = createViews();
    }
    long remaining = length - position;
    long at = locate("writeTo", position, remaining);
    int i = chunkOf(at);
    long skip = skipOf(at);
    int first = i - firstChunk;
    int k = first;
    for (; remaining > 0; i++, k++) {
      int off = d.offset(i) + (int) skip;
      int len = (int) Math.min(d.length(i) - skip, remaining);
      ByteBuffer b = v[k];
      b.limit(off + len).position(off);
      remaining -= len;
      skip = 0;
    }
    // One buffer: a plain write. The JDK's gathering write allocates a releaser per
    // segment-backed buffer per call; its single-buffer write allocates nothing.
    return k - first == 1 ? channel.write(v[first]) : channel.write(v, first, k - first);
  }

  private ByteBuffer[] createViews() {
    Data d = data;
    int n = 0;
    long remaining = length;
    int skip = firstSkip;
    for (int i = firstChunk; remaining > 0; i++) {
      remaining -= Math.min(d.length(i) - skip, remaining);
      skip = 0;
      n++;
    }
    ByteBuffer[] v = new ByteBuffer[n];
    for (int k = 0; k < n; k++) {
      v[k] = d.block(firstChunk + k).segment().asByteBuffer();
    }
    views = v;
    return v;
  }

  /**
   * The native memory under {@code [position, position + length)} as contiguous regions, for
   * native I/O that takes addresses (io_uring, {@code writev} through FFM) without a view per
   * chunk: region {@code k} is {@code lengths[k]} bytes at address {@code addresses[k]}. The
   * addresses stay valid while this handle is open; nobody may write to them. Allocates nothing.
   *
   * @param position the first byte, 0 .. length()
   * @param length bytes, 0 .. length() - position
   * @param addresses receives the regions' addresses
   * @param lengths receives the regions' lengths (at least as long as {@code addresses})
   * @return the number of regions (0 for no bytes), or -1 if they need more than {@code
   *     addresses.length} entries or a block is not native memory (the arrays' contents are then
   *     unspecified)
   * @throws IndexOutOfBoundsException if the range is outside this slice
   * @throws IllegalStateException if this handle is closed
   */
  public int nativeRegions(long position, long length, long[] addresses, int[] lengths) {
    checkOpen();
    long at = locate("regions", position, length);
    Data d = data;
    int i = chunkOf(at);
    long skip = skipOf(at);
    int k = 0;
    for (; length > 0; i++, k++) {
      MemorySegment seg = d.block(i).segment();
      if (k == addresses.length || !seg.isNative()) {
        return -1;
      }
      int len = (int) Math.min(d.length(i) - skip, length);
      addresses[k] = seg.address() + d.offset(i) + skip;
      lengths[k] = len;
      length -= len;
      skip = 0;
    }
    return k;
  }

  /**
   * Copies the bytes into a new array: a convenience for tests, logging and small values, not for
   * hot paths.
   *
   * @return a new array of {@link #length()} bytes, owned by the caller
   * @throws IllegalStateException if this handle is closed or the slice is longer than an array
   */
  public byte[] toByteArray() {
    checkOpen();
    if (length > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("slice of " + length + " bytes does not fit a byte array");
    }
    byte[] out = new byte[(int) length];
    Data d = data;
    if (d.table != null) {
      d.table.copyTo(firstChunk, firstSkip, length, out);
    } else if (length > 0) {
      MemorySegment.copy(
          d.block0.segment(), ValueLayout.JAVA_BYTE, d.offset0 + firstSkip, out, 0, (int) length);
    }
    return out;
  }

  /**
   * Whether {@link #close()} has been called on this handle.
   *
   * @return true once closed
   */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Gives up this handle. When the last handle sharing the blocks is closed, every block goes
   * back to its pool (unless another owner still holds it).
   *
   * @throws IllegalStateException if this handle was already closed (double release)
   */
  @Override
  public void close() {
    if (closed) {
      throw new IllegalStateException("double close of " + this);
    }
    closed = true;
    views = null;
    if (data != EMPTY_DATA) {
      data.releaseHandle();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("use of a closed Slice (" + length + " bytes)");
    }
  }

  /**
   * Gives {@code consumer} one new reference to the block of each chunk under {@code [offset,
   * offset + length)}, in order: the same bytes get another owner (a queue of block references, a
   * {@link BufWriter}) without a new handle. Allocates nothing; this handle is unchanged and still
   * the caller's to close.
   *
   * @param offset first byte, 0 .. length()
   * @param length bytes, 0 .. length() - offset (0: no call)
   * @param consumer takes each chunk with its new reference (see {@link BlockConsumer} for what it
   *     then owns)
   * @throws IndexOutOfBoundsException if the range is outside this slice
   * @throws IllegalStateException if this handle is closed
   */
  public void retainTo(long offset, long length, BlockConsumer consumer) {
    checkOpen();
    long at = locate("retainTo", offset, length);
    Data d = data;
    int i = chunkOf(at);
    long skip = skipOf(at);
    for (; length > 0; i++) {
      int len = (int) Math.min(d.length(i) - skip, length);
      consumer.accept(d.block(i).retain(), d.offset(i) + (int) skip, len);
      length -= len;
      skip = 0;
    }
  }

  @Override
  public String toString() {
    return "Slice[" + length + " bytes" + (closed ? ", closed]" : "]");
  }
}
