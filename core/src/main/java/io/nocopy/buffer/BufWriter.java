package io.nocopy.buffer;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import io.nocopy.memory.Tier;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;

/**
 * Builds outgoing bytes in pooled blocks: numbers, varints and copied bytes are written into the
 * writer's current block; {@link Slice}s and chunks of blocks ({@link #adopt}) are appended by reference (their blocks join the output,
 * nothing is copied). The result leaves as a {@link Slice} ({@link #toSlice()}) or through
 * gathering writes ({@link #writeTo(GatheringByteChannel)}).
 *
 * <h2>Layout</h2>
 *
 * Pending output is a {@link Chunks} list, each chunk holding one reference to its block,
 * followed by the open chunk: the bytes written into the current block since the last chunk
 * was closed. Appending a slice or taking the output closes the open chunk; later writes continue
 * in the same block after it, so a block is shared by the output taken so far and the writer
 * (never the same bytes: taken bytes are not written again). A number or varint never straddles
 * two blocks: if it does not fit the rest of the block, the rest is left unused (at most 9 bytes).
 *
 * <h2>Ownership and threads</h2>
 *
 * The writer owns its blocks until they are written out or handed over in a slice; {@link
 * #close()} releases whatever is still pending. It is used by one thread at a time. After {@code
 * close()} every method except {@code close} throws {@link IllegalStateException}.
 *
 * <h2>Cost</h2>
 *
 * Steady state allocates nothing: blocks come from the allocator (and once fully written and held
 * by no slice, the current block is reused from its start), and the {@link ByteBuffer} views
 * given to the channel come from a small per-writer cache of views keyed by block. The chunk list
 * grows by doubling if more chunks are pending than ever before, up to {@link
 * Chunks#DEFAULT_MAX_COUNT}.
 */
public final class BufWriter implements AutoCloseable, BlockConsumer {

  private final Allocator allocator;
  private final int blockSize;
  private final ViewCache viewCache = new ViewCache();

  private final Chunks chunks = new Chunks(); // closed chunks, oldest first
  private final BlockConsumer appender = this::append;
  private ByteBuffer[] gather = new ByteBuffer[8];

  // the current block (writer's own reference) and the open chunk [openStart, cursor)
  private Block current;
  private MemorySegment seg;
  private int openStart;
  private int cursor;

  private boolean closed;

  private BufWriter(Allocator allocator, Tier tier) {
    this.allocator = Objects.requireNonNull(allocator, "allocator");
    Objects.requireNonNull(tier, "tier");
    if (tier.size() > (1 << 30)) {
      throw new IllegalArgumentException("block tier " + tier + " is above 1 GiB");
    }
    this.blockSize = (int) tier.size();
  }

  /**
   * A writer with blocks of {@link BufReader#DEFAULT_TIER} (32 KiB).
   *
   * @param allocator where blocks come from; must outlive the writer and every slice it returns
   * @return a new writer, owned by the caller, who closes it
   */
  public static BufWriter of(Allocator allocator) {
    return new BufWriter(allocator, BufReader.DEFAULT_TIER);
  }

  /**
   * A writer with blocks of {@code tier}.
   *
   * @param allocator where blocks come from; must outlive the writer and every slice it returns
   * @param tier the block size (any tier up to GIANT; a number never straddles blocks)
   * @return a new writer, owned by the caller, who closes it
   */
  public static BufWriter of(Allocator allocator, Tier tier) {
    return new BufWriter(allocator, tier);
  }

  // --- room ---------------------------------------------------------------------------------

  /** Makes {@code n <= blockSize} contiguous bytes writable at {@code cursor}. */
  private void room(int n) throws IOException {
    if (current != null && blockSize - cursor >= n) {
      return;
    }
    checkOpen();
    closeOpenChunk();
    if (current != null) {
      current.release();
      current = null;
      seg = null;
    }
    Block b = allocator.allocate(blockSize);
    current = b;
    seg = b.segment();
    openStart = 0;
    cursor = 0;
  }

  /** Turns [openStart, cursor) into a closed chunk holding its own reference to the block. */
  private void closeOpenChunk() {
    if (cursor > openStart) {
      chunks.accept(current.retain(), openStart, cursor - openStart);
      openStart = cursor;
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("BufWriter is closed");
    }
  }

  // --- writes -------------------------------------------------------------------------------

  /**
   * Appends one byte.
   *
   * @param b the byte (low 8 bits)
   * @return this writer
   * @throws IOException if the allocator has no block (PoolExhaustedException)
   * @throws IllegalStateException if the writer is closed
   */
  public BufWriter writeByte(int b) throws IOException {
    checkOpen();
    room(1);
    seg.set(ValueLayout.JAVA_BYTE, cursor++, (byte) b);
    return this;
  }

  /**
   * Appends the low {@code n} bytes of {@code v}, most significant first (network order).
   *
   * @param v the value
   * @param n 1..8
   * @return this writer
   * @throws IllegalArgumentException if {@code n} is outside 1..8
   * @throws IOException if the allocator has no block
   * @throws IllegalStateException if the writer is closed
   */
  public BufWriter writeBE(long v, int n) throws IOException {
    checkWidth(n);
    checkOpen();
    room(n);
    switch (n) {
      case 2 -> seg.set(Layouts.SHORT_BE, cursor, (short) v);
      case 4 -> seg.set(Layouts.INT_BE, cursor, (int) v);
      case 8 -> seg.set(Layouts.LONG_BE, cursor, v);
      default -> {
        for (int i = n - 1; i >= 0; i--) {
          seg.set(ValueLayout.JAVA_BYTE, cursor + i, (byte) v);
          v >>>= 8;
        }
      }
    }
    cursor += n;
    return this;
  }

  /**
   * Appends the low {@code n} bytes of {@code v}, least significant first.
   *
   * @param v the value
   * @param n 1..8
   * @return this writer
   * @throws IllegalArgumentException if {@code n} is outside 1..8
   * @throws IOException if the allocator has no block
   * @throws IllegalStateException if the writer is closed
   */
  public BufWriter writeLE(long v, int n) throws IOException {
    checkWidth(n);
    checkOpen();
    room(n);
    switch (n) {
      case 2 -> seg.set(Layouts.SHORT_LE, cursor, (short) v);
      case 4 -> seg.set(Layouts.INT_LE, cursor, (int) v);
      case 8 -> seg.set(Layouts.LONG_LE, cursor, v);
      default -> {
        for (int i = 0; i < n; i++) {
          seg.set(ValueLayout.JAVA_BYTE, cursor + i, (byte) v);
          v >>>= 8;
        }
      }
    }
    cursor += n;
    return this;
  }

  private static void checkWidth(int n) {
    if (n < 1 || n > 8) {
      throw new IllegalArgumentException("width must be 1..8 bytes, got " + n);
    }
  }

  /**
   * Appends {@code v} as an unsigned LEB128 varint (1..10 bytes), the encoding {@link
   * BufReader#readVarint()} reads.
   *
   * @param v the value, all 64 bits unsigned
   * @return this writer
   * @throws IOException if the allocator has no block
   * @throws IllegalStateException if the writer is closed
   */
  public BufWriter writeVarint(long v) throws IOException {
    checkOpen();
    room(10);
    int at = cursor;
    while ((v & ~0x7fL) != 0) {
      seg.set(ValueLayout.JAVA_BYTE, at++, (byte) ((v & 0x7f) | 0x80));
      v >>>= 7;
    }
    seg.set(ValueLayout.JAVA_BYTE, at++, (byte) v);
    cursor = at;
    return this;
  }

  /**
   * The size of {@code v} as an unsigned LEB128 varint.
   *
   * @param v the value, all 64 bits unsigned
   * @return 1..10
   */
  public static int varintSize(long v) {
    int bits = 64 - Long.numberOfLeadingZeros(v | 1);
    return (bits + 6) / 7;
  }

  /**
   * Appends a copy of {@code src[offset .. offset+length)}.
   *
   * @param src the bytes; not retained
   * @param offset first byte
   * @param length bytes to copy
   * @return this writer
   * @throws IndexOutOfBoundsException if the range is outside {@code src}
   * @throws IOException if the allocator has no block
   * @throws IllegalStateException if the writer is closed
   */
  public BufWriter write(byte[] src, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, src.length);
    checkOpen();
    while (length > 0) {
      room(1);
      int k = Math.min(length, blockSize - cursor);
      MemorySegment.copy(src, offset, seg, ValueLayout.JAVA_BYTE, cursor, k);
      cursor += k;
      offset += k;
      length -= k;
    }
    return this;
  }

  /**
   * Appends a copy of all of {@code src}.
   *
   * @param src the bytes; not retained
   * @return this writer
   * @throws IOException if the allocator has no block
   * @throws IllegalStateException if the writer is closed
   */
  public BufWriter write(byte[] src) throws IOException {
    return write(src, 0, src.length);
  }

  /**
   * Appends a copy of the bytes of {@code src} (for example a chunk passed to a {@link
   * ChunkConsumer}, which cannot be kept).
   *
   * @param src the bytes; not retained
   * @return this writer
   * @throws IOException if the allocator has no block
   * @throws IllegalStateException if the writer is closed
   */
  public BufWriter write(MemorySegment src) throws IOException {
    checkOpen();
    long at = 0;
    long n = src.byteSize();
    while (at < n) {
      room(1);
      int k = (int) Math.min(n - at, blockSize - cursor);
      MemorySegment.copy(src, at, seg, cursor, k);
      cursor += k;
      at += k;
    }
    return this;
  }

  /**
   * Appends the bytes of {@code slice} by reference: its blocks join this writer's output without
   * a copy. The writer takes its own references; the caller still owns (and closes) {@code slice}.
   *
   * @param slice the bytes to append
   * @return this writer
   * @throws IllegalStateException if the writer or the slice is closed
   */
  public BufWriter write(Slice slice) {
    checkOpen();
    if (current != null) {
      closeOpenChunk();
    }
    slice.retainTo(0, slice.length(), appender);
    return this;
  }

  /**
   * Appends {@code length} bytes of {@code slice} from {@code offset} by reference, like {@link
   * #write(Slice)} for a part of it, without a handle for the part.
   *
   * @param slice the bytes; still the caller's to close
   * @param offset first byte, 0 .. slice.length()
   * @param length bytes, 0 .. slice.length() - offset
   * @return this writer
   * @throws IndexOutOfBoundsException if the range is outside the slice
   * @throws IllegalStateException if the writer or the slice is closed
   */
  public BufWriter write(Slice slice, long offset, long length) {
    checkOpen();
    if (current != null) {
      closeOpenChunk();
    }
    slice.retainTo(offset, length, appender);
    return this;
  }

  /**
   * Appends one chunk of a pooled block by reference, taking over one reference to the block:
   * the writer releases it once the bytes are written out or the writer is closed (also if this
   * call throws).
   *
   * @param block the block; one reference now belongs to the writer
   * @param offset the chunk's first byte within the block's segment
   * @param length the chunk's bytes, at least 1
   * @return this writer
   * @throws IllegalArgumentException if the chunk is empty
   * @throws IndexOutOfBoundsException if the chunk lies outside the block
   * @throws IllegalStateException if the writer is closed
   */
  public BufWriter adopt(Block block, int offset, int length) {
    if (closed) {
      block.release();
      throw new IllegalStateException("BufWriter is closed");
    }
    if (current != null) {
      closeOpenChunk();
    }
    append(block, offset, length);
    return this;
  }

  /**
   * {@link #adopt} as a {@link BlockConsumer}: chunks passed by a reader, a slice or a chunk list
   * join the output by reference, each reference now the writer's.
   *
   * @param block the block; one reference now belongs to the writer
   * @param offset the chunk's first byte within the block's segment
   * @param length the chunk's bytes, at least 1
   * @throws IllegalStateException if the writer is closed (the reference is released)
   */
  @Override
  public void accept(Block block, int offset, int length) {
    adopt(block, offset, length);
  }

  /**
   * Appends a chunk whose reference the writer now owns. A chunk that continues the last one in
   * the same block (the next range of one slice, say) lengthens it and its reference is released:
   * the channel then gets one buffer for both, and the view cache is not asked twice for one block
   * in one write.
   */
  private void append(Block block, int offset, int length) {
    int n = chunks.count();
    if (n > 0 && length > 0 && chunks.block(n - 1) == block
        && chunks.offset(n - 1) + chunks.length(n - 1) == offset
        && (long) offset + length <= block.segment().byteSize()) {
      chunks.extendLast(length);
      block.release(); // the list's reference to the block covers both
      return;
    }
    chunks.accept(block, offset, length);
  }

  /**
   * Moves every pending byte out as block references, oldest first, and leaves the writer empty
   * (as after a complete {@link #writeTo}): each chunk's reference becomes {@code consumer}'s,
   * including the bytes written into the writer's own block. For handing what a channel did not
   * take to a queue without copying it.
   *
   * @param consumer takes each chunk and its reference; if it throws, the chunks not yet passed
   *     stay pending
   * @throws IllegalStateException if the writer is closed
   */
  public void drainTo(BlockConsumer consumer) {
    checkOpen();
    if (current != null) {
      closeOpenChunk();
    }
    while (!chunks.isEmpty()) {
      int offset = chunks.offset(0);
      int length = chunks.length(0);
      consumer.accept(chunks.removeFirst(), offset, length);
    }
  }

  /**
   * The bytes written and not yet taken by {@link #toSlice()} or written out by {@link #writeTo}.
   *
   * @return pending bytes
   * @throws IllegalStateException if the writer is closed
   */
  public long length() {
    checkOpen();
    return chunks.length() + cursor - openStart;
  }

  /**
   * Takes every pending byte as a slice, without copying; the writer is then empty and can go on
   * (later bytes go after the taken ones in the same block, never over them).
   *
   * @return a slice of the pending bytes, owned by the caller, who closes it
   * @throws IllegalStateException if the writer is closed
   */
  public Slice toSlice() {
    checkOpen();
    if (current != null) {
      closeOpenChunk();
    }
    return Slice.of(chunks, chunks.count());
  }

  /**
   * Writes pending bytes to {@code channel} with gathering writes, repeating until all are written
   * or the channel accepts nothing (a full non-blocking socket). Written bytes leave the writer,
   * and blocks no longer needed go back to the allocator; whatever was not accepted stays pending,
   * so calling again resumes where this call stopped.
   *
   * @param channel the destination
   * @return the bytes written by this call
   * @throws IOException from the channel (what it accepted before failing is gone from the writer)
   * @throws IllegalStateException if the writer is closed
   */
  public long writeTo(GatheringByteChannel channel) throws IOException {
    checkOpen();
    if (current != null) {
      closeOpenChunk();
    }
    long total = 0;
    while (!chunks.isEmpty()) {
      int n = chunks.count();
      if (gather.length < n) {
        gather = new ByteBuffer[Math.max(n, gather.length * 2)];
      }
      viewCache.begin();
      for (int i = 0; i < n; i++) {
        gather[i] = viewCache.view(chunks.block(i).segment(), chunks.offset(i), chunks.length(i));
      }
      // one buffer: a plain write (the JDK's gathering write allocates a releaser per
      // segment-backed buffer per call; its single-buffer write allocates nothing)
      long w = n == 1 ? channel.write(gather[0]) : channel.write(gather, 0, n);
      if (w <= 0) {
        break;
      }
      total += w;
      chunks.skip(w);
    }
    if (chunks.isEmpty() && current != null && current.refCount() == 1) {
      openStart = 0; // nobody else holds the block: reuse it from the start
      cursor = 0;
    }
    return total;
  }

  /**
   * The native memory of the first pending bytes as regions, for native I/O that takes addresses
   * (a {@code sendmsg} through FFM) without a {@link ByteBuffer} per chunk: region {@code k} is
   * {@code lengths[k]} bytes at {@code addresses[k]}, in order, covering the first chunks up to
   * {@code addresses.length} of them. The addresses stay valid until those bytes are {@link
   * #skip skipped}, written out or the writer is closed; nobody may write to them. Allocates
   * nothing.
   *
   * @param addresses receives the regions' addresses
   * @param lengths receives the regions' lengths (at least as long as {@code addresses})
   * @return the number of regions (0 with nothing pending), or -1 if a block is not native memory
   * @throws IllegalStateException if the writer is closed
   */
  public int nativeRegions(long[] addresses, int[] lengths) {
    checkOpen();
    if (current != null) {
      closeOpenChunk();
    }
    int n = Math.min(chunks.count(), addresses.length);
    for (int i = 0; i < n; i++) {
      MemorySegment s = chunks.block(i).segment();
      if (!s.isNative()) {
        return -1;
      }
      addresses[i] = s.address() + chunks.offset(i);
      lengths[i] = chunks.length(i);
    }
    return n;
  }

  /**
   * Drops the first {@code n} pending bytes as written (by native I/O over {@link
   * #nativeRegions}); blocks no longer needed go back to the allocator.
   *
   * @param n bytes, 0 .. length()
   * @throws IndexOutOfBoundsException if {@code n} is out of range
   * @throws IllegalStateException if the writer is closed
   */
  public void skip(long n) {
    checkOpen();
    if (current != null) {
      closeOpenChunk();
    }
    chunks.skip(n);
    if (chunks.isEmpty() && current != null && current.refCount() == 1) {
      openStart = 0; // nobody else holds the block: reuse it from the start
      cursor = 0;
    }
  }

  /**
   * Writes the first pending chunk, or what the channel takes of it, with one write call: for a
   * blocking channel, waits until the channel takes some bytes. For a caller that sends natively
   * and needs the channel only to wait for room.
   *
   * @param channel the destination
   * @return the bytes written (0 if nothing is pending or a non-blocking channel took nothing)
   * @throws IOException from the channel
   * @throws IllegalStateException if the writer is closed
   */
  public long writeFirstTo(WritableByteChannel channel) throws IOException {
    checkOpen();
    if (current != null) {
      closeOpenChunk();
    }
    if (chunks.isEmpty()) {
      return 0;
    }
    viewCache.begin();
    int w = channel.write(viewCache.view(chunks.block(0).segment(), chunks.offset(0),
        chunks.length(0)));
    if (w > 0) {
      skip(w);
    }
    return Math.max(w, 0);
  }

  /**
   * Releases every pending block and the current one. Idempotent. Slices taken earlier are not
   * affected.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    chunks.release();
    if (current != null) {
      current.release();
      current = null;
      seg = null;
    }
    viewCache.clear();
  }

  @Override
  public String toString() {
    return "BufWriter[" + (closed ? "closed" : length() + " bytes pending in " + chunks.count()
        + " chunks") + ", block " + blockSize + " B]";
  }
}
