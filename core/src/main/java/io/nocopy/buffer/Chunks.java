package io.nocopy.buffer;

import io.nocopy.memory.Block;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * An ordered list of chunks of pooled blocks, each chunk a (block, offset, length) that owns one
 * reference to its block: the one representation of bytes held in several pooled blocks. {@link
 * Slice} keeps its chunk table in one, {@link BufReader} its queue of filled blocks, {@link
 * BufWriter} its pending output, and code elsewhere that holds chains of blocks (drpc's receive
 * queue) uses one too; bytes shared between owners travel as a {@link Slice}. It appends at the
 * end and removes at both ends, so it serves as a list and as a ring.
 *
 * <h2>Invariants</h2>
 *
 * <ul>
 *   <li>Chunks {@code 0 .. count()-1}, oldest first, sit in three parallel arrays (block, offset,
 *       length) used as a ring: chunk {@code i} is at slot {@code (head + i) mod capacity}.
 *       Slots outside the ring hold no block, so the list never keeps a block it gave up
 *       reachable.
 *   <li>Every chunk is at least one byte long and lies inside its block's segment; its slot owns
 *       exactly one reference to the block. A block may be in several chunks, with one reference
 *       per chunk.
 *   <li>{@link #length()} is the sum of the chunks' lengths.
 *   <li>The arrays are made at the first chunk (a list that never holds one allocates none),
 *       start small, double when full and never shrink, and never hold more than {@link
 *       #maxCount()} chunks: a list reused for the same traffic allocates nothing once warm, and
 *       appending beyond the maximum fails instead of growing further.
 * </ul>
 *
 * <h2>Ownership and lifetime</h2>
 *
 * Whoever holds the list owns the references in it, and empties it (by {@link #release()} or by
 * handing the chunks on) before dropping it. {@link #accept} appends a chunk and takes over the
 * caller's reference; {@link #moveFrom} moves chunks with their references from another list
 * without touching reference counts, as does {@link Slice#of(Chunks, int)} into a slice; {@link
 * #retainTo} gives a consumer a new reference per chunk and keeps its own. Chunks leave by {@link
 * #removeFirst()} (the reference goes to the caller), or by {@link #skip}, {@link #releaseLast} and
 * {@link #release()}, which release each reference exactly once. A segment from {@link #segment} or
 * {@link #forEach} is valid while its chunk is in the list.
 *
 * <h2>Threads</h2>
 *
 * Not thread-safe: one thread at a time, or under its owner's lock. Block reference counts are
 * atomic, so a reference handed out may be released on any thread.
 */
public final class Chunks implements BlockConsumer {
  /** The largest maximum a list can have: 2^30 chunks. */
  public static final int MAX_COUNT = 1 << 30;

  /** The maximum of a list made by {@link #Chunks()}: 2^20 chunks (12 MiB of arrays when full). */
  public static final int DEFAULT_MAX_COUNT = 1 << 20;

  private static final int INITIAL = 4;

  // the arrays start empty and are made at the first chunk: a list that never holds one (a
  // stream's control-packet list, a queue's staging list on a unary call) allocates nothing
  private static final Block[] NO_BLOCKS = new Block[0];
  private static final int[] NO_INTS = new int[0];

  private final int maxCount;
  private final int initial;
  private Block[] blocks;
  private int[] offsets;
  private int[] lengths;
  private int head;
  private int count;
  private long bytes;

  /** An empty list of at most {@link #DEFAULT_MAX_COUNT} chunks, owned by the caller. */
  public Chunks() {
    this(INITIAL, DEFAULT_MAX_COUNT);
  }

  /**
   * An empty list of at most {@code maxCount} chunks, owned by the caller.
   *
   * @param maxCount the most chunks the list holds, 1 .. {@link #MAX_COUNT}
   * @throws IllegalArgumentException if {@code maxCount} is out of range
   */
  public Chunks(int maxCount) {
    this(Math.min(INITIAL, maxCount), maxCount);
  }

  /** An empty list with room for {@code initial} chunks before it first grows. */
  Chunks(int initial, int maxCount) {
    if (maxCount < 1 || maxCount > MAX_COUNT) {
      throw new IllegalArgumentException(
          "maxCount must be 1.." + MAX_COUNT + " chunks, got " + maxCount);
    }
    this.maxCount = maxCount;
    this.initial = Math.max(1, Math.min(initial, maxCount));
    blocks = NO_BLOCKS;
    offsets = NO_INTS;
    lengths = NO_INTS;
  }

  /** A list that holds exactly {@code n >= 1} chunks in arrays of n: a slice's table. */
  static Chunks exact(int n) {
    return new Chunks(n, n);
  }

  /** The slot of chunk {@code i}, 0 <= i <= capacity (no division: head + i < 2 * capacity). */
  private int slot(int i) {
    int s = head + i;
    int cap = blocks.length;
    return s >= cap ? s - cap : s;
  }

  // --- appending ------------------------------------------------------------------------------

  /**
   * Appends a chunk, taking over the caller's reference to {@code block} in every case: if the
   * chunk is refused (empty, outside the block, or the list is full) the reference is released
   * before the exception is thrown.
   *
   * @param block the chunk's block; one reference now belongs to the list
   * @param offset the chunk's first byte within the block's segment
   * @param length the chunk's length, at least 1
   * @throws IllegalArgumentException if the chunk is empty
   * @throws IndexOutOfBoundsException if the chunk lies outside the block
   * @throws IllegalStateException if the list already holds {@link #maxCount()} chunks
   */
  @Override
  public void accept(Block block, int offset, int length) {
    try {
      if (length < 1) {
        throw new IllegalArgumentException("empty chunk");
      }
      Objects.checkFromIndexSize(offset, length, block.segment().byteSize());
      ensureRoom(1);
    } catch (RuntimeException e) {
      try {
        block.release();
      } catch (RuntimeException r) {
        e.addSuppressed(r);
      }
      throw e;
    }
    int s = slot(count);
    blocks[s] = block;
    offsets[s] = offset;
    lengths[s] = length;
    count++;
    bytes += length;
  }

  /**
   * Moves the first {@code n} chunks of {@code src} to the end of this list, references and all:
   * no reference count changes, {@code src} no longer holds them.
   *
   * @param src the list to take from (not this one)
   * @param n chunks to move, 0 .. src.count()
   * @throws IndexOutOfBoundsException if {@code n} is out of range
   * @throws IllegalArgumentException if {@code src} is this list
   * @throws IllegalStateException if this list would exceed {@link #maxCount()} (nothing moved)
   */
  public void moveFrom(Chunks src, int n) {
    if (src == this) {
      throw new IllegalArgumentException("moving chunks from a list to itself");
    }
    Objects.checkFromIndexSize(0, n, src.count);
    ensureRoom(n);
    long moved = 0;
    for (int i = 0; i < n; i++) {
      int from = src.slot(i);
      int to = slot(count + i);
      blocks[to] = src.blocks[from];
      offsets[to] = src.offsets[from];
      lengths[to] = src.lengths[from];
      src.blocks[from] = null;
      moved += lengths[to];
    }
    count += n;
    bytes += moved;
    src.head = src.slot(n);
    src.count -= n;
    src.bytes -= moved;
  }

  /**
   * Makes room for {@code n} more chunks: the first arrays hold the initial capacity, then they
   * double as needed, up to maxCount.
   */
  private void ensureRoom(int n) {
    long need = (long) count + n;
    if (need > maxCount) {
      throw new IllegalStateException(
          "chunk list full: " + count + " + " + n + " chunks exceed its maximum of " + maxCount);
    }
    if (need > blocks.length) {
      long cap = Math.max(blocks.length, initial);
      while (cap < need) {
        cap <<= 1;
      }
      cap = Math.min(cap, maxCount);
      Block[] b = new Block[(int) cap];
      int[] o = new int[(int) cap];
      int[] l = new int[(int) cap];
      for (int i = 0; i < count; i++) {
        int s = slot(i);
        b[i] = blocks[s];
        o[i] = offsets[s];
        l[i] = lengths[s];
      }
      blocks = b;
      offsets = o;
      lengths = l;
      head = 0;
    }
  }

  /** Lengthens the last chunk by {@code n} bytes that its block already holds (a reader's fill). */
  void extendLast(int n) {
    lengths[slot(count - 1)] += n;
    bytes += n;
  }

  // --- reading --------------------------------------------------------------------------------

  /**
   * The number of chunks.
   *
   * @return 0 or more
   */
  public int count() {
    return count;
  }

  /**
   * Whether the list holds no chunk.
   *
   * @return true when {@link #count()} is 0
   */
  public boolean isEmpty() {
    return count == 0;
  }

  /**
   * The most chunks this list holds.
   *
   * @return the maximum given when it was made
   */
  public int maxCount() {
    return maxCount;
  }

  /**
   * The bytes in all chunks.
   *
   * @return the sum of the chunks' lengths
   */
  public long length() {
    return bytes;
  }

  /**
   * The block of chunk {@code i}. The list keeps its reference: the caller may use the block while
   * the chunk is in the list, and retains it to keep it longer.
   *
   * @param i 0 (the oldest) .. count() - 1
   * @return the block
   * @throws IndexOutOfBoundsException if {@code i} is out of range
   */
  public Block block(int i) {
    return blocks[slot(Objects.checkIndex(i, count))];
  }

  /**
   * The first byte of chunk {@code i} within its block's segment.
   *
   * @param i 0 .. count() - 1
   * @return the offset
   * @throws IndexOutOfBoundsException if {@code i} is out of range
   */
  public int offset(int i) {
    return offsets[slot(Objects.checkIndex(i, count))];
  }

  /**
   * The length of chunk {@code i}.
   *
   * @param i 0 .. count() - 1
   * @return bytes, at least 1
   * @throws IndexOutOfBoundsException if {@code i} is out of range
   */
  public int length(int i) {
    return lengths[slot(Objects.checkIndex(i, count))];
  }

  /**
   * Chunk {@code i} as a segment: the block's own segment when the chunk covers the whole block,
   * otherwise a view of it. Valid while the chunk is in the list; the caller must not write it.
   *
   * @param i 0 .. count() - 1
   * @return the chunk's bytes
   * @throws IndexOutOfBoundsException if {@code i} is out of range
   */
  public MemorySegment segment(int i) {
    int s = slot(Objects.checkIndex(i, count));
    return view(blocks[s].segment(), offsets[s], lengths[s]);
  }

  /** The segment itself when the chunk covers all of it, else a view. */
  static MemorySegment view(MemorySegment seg, int offset, int length) {
    return offset == 0 && length == seg.byteSize() ? seg : seg.asSlice(offset, length);
  }

  /**
   * Passes every chunk, oldest first, as by {@link #segment}.
   *
   * @param consumer receives each chunk, valid while it is in the list
   * @throws IOException what the consumer throws; the remaining chunks are not passed
   */
  public void forEach(ChunkConsumer consumer) throws IOException {
    forEach(0, 0, bytes, consumer);
  }

  /**
   * Passes {@code length} bytes starting {@code skip} bytes into chunk {@code first}; the range
   * must lie within the list.
   */
  void forEach(int first, int skip, long length, ChunkConsumer consumer) throws IOException {
    for (int i = first; length > 0; i++) {
      int s = slot(i);
      int len = (int) Math.min(lengths[s] - skip, length);
      consumer.accept(view(blocks[s].segment(), offsets[s] + skip, len));
      length -= len;
      skip = 0;
    }
  }

  /**
   * Gives {@code consumer} a new reference to each chunk's block, oldest first; the list keeps its
   * own. This is how the same bytes get a second owner (a slice, another list) without a copy.
   *
   * @param consumer takes each chunk and its new reference
   */
  public void retainTo(BlockConsumer consumer) {
    retainTo(0, 0, bytes, consumer);
  }

  /** {@link #retainTo(BlockConsumer)} for the range of {@link #forEach(int, int, long, ChunkConsumer)}. */
  void retainTo(int first, int skip, long length, BlockConsumer consumer) {
    for (int i = first; length > 0; i++) {
      int s = slot(i);
      int len = (int) Math.min(lengths[s] - skip, length);
      consumer.accept(blocks[s].retain(), offsets[s] + skip, len);
      length -= len;
      skip = 0;
    }
  }

  /**
   * Gives {@code consumer} one new reference to the block of each chunk under {@code [offset,
   * offset + length)} of the list's bytes, in order; the list keeps its own. Allocates nothing.
   *
   * @param offset first byte, 0 .. length()
   * @param length bytes, 0 .. length() - offset (0: no call)
   * @param consumer takes each chunk and its new reference
   * @throws IndexOutOfBoundsException if the range is outside the list's bytes
   */
  public void retainTo(long offset, long length, BlockConsumer consumer) {
    checkRange(offset, length);
    if (length == 0) {
      return;
    }
    long at = locate(offset);
    retainTo((int) (at >>> 32), (int) at, length, consumer);
  }

  /**
   * The native memory under {@code [offset, offset + length)} of the list's bytes as regions, as
   * {@link Slice#nativeRegions} gives them for a slice. Allocates nothing.
   *
   * @param offset first byte, 0 .. length()
   * @param length bytes, 0 .. length() - offset
   * @param addresses receives the regions' addresses
   * @param lengths receives the regions' lengths (at least as long as {@code addresses})
   * @return the number of regions (0 for no bytes), or -1 if they need more than {@code
   *     addresses.length} entries or a block is not native memory
   * @throws IndexOutOfBoundsException if the range is outside the list's bytes
   */
  public int nativeRegions(long offset, long length, long[] addresses, int[] lengths) {
    checkRange(offset, length);
    if (length == 0) {
      return 0;
    }
    long at = locate(offset);
    int skip = (int) at;
    int k = 0;
    for (int i = (int) (at >>> 32); length > 0; i++, k++) {
      int s = slot(i);
      MemorySegment seg = blocks[s].segment();
      if (k == addresses.length || !seg.isNative()) {
        return -1;
      }
      int len = (int) Math.min(this.lengths[s] - skip, length);
      addresses[k] = seg.address() + offsets[s] + skip;
      lengths[k] = len;
      length -= len;
      skip = 0;
    }
    return k;
  }

  private void checkRange(long offset, long length) {
    if (offset < 0 || length < 0 || offset > bytes - length) {
      throw new IndexOutOfBoundsException(
          "range (" + offset + ", " + length + ") of a chunk list of " + bytes + " bytes");
    }
  }

  /** The chunk index holding byte {@code offset < length()} and the bytes before it in that chunk. */
  private long locate(long offset) {
    int i = 0;
    while (offset >= lengths[slot(i)]) {
      offset -= lengths[slot(i)];
      i++;
    }
    return (long) i << 32 | offset;
  }

  /** The number of chunks the range of {@link #forEach(int, int, long, ChunkConsumer)} touches. */
  int countCovering(int first, int skip, long length) {
    int n = 0;
    for (int i = first; length > 0; i++, n++) {
      length -= Math.min(lengths[slot(i)] - skip, length);
      skip = 0;
    }
    return n;
  }

  /** Copies the range of {@link #forEach(int, int, long, ChunkConsumer)} into {@code dst[0..)}. */
  void copyTo(int first, int skip, long length, byte[] dst) {
    int at = 0;
    for (int i = first; length > 0; i++) {
      int s = slot(i);
      int len = (int) Math.min(lengths[s] - skip, length);
      MemorySegment.copy(
          blocks[s].segment(), ValueLayout.JAVA_BYTE, offsets[s] + skip, dst, at, len);
      at += len;
      length -= len;
      skip = 0;
    }
  }

  /**
   * Copies the bytes into a new array: for small values, tests and logging, not for hot paths.
   *
   * @return a new array of {@link #length()} bytes, owned by the caller
   * @throws IllegalStateException if the bytes do not fit an array
   */
  public byte[] toByteArray() {
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException(bytes + " bytes do not fit a byte array");
    }
    byte[] out = new byte[(int) bytes];
    copyTo(0, 0, bytes, out);
    return out;
  }

  // --- removing -------------------------------------------------------------------------------

  /**
   * Removes the oldest chunk and hands its reference to the caller, who releases it once. Read
   * its {@link #offset} and {@link #length} before removing it.
   *
   * @return the chunk's block
   * @throws IllegalStateException if the list is empty
   */
  public Block removeFirst() {
    if (count == 0) {
      throw new IllegalStateException("removeFirst on an empty chunk list");
    }
    int s = head;
    Block b = blocks[s];
    blocks[s] = null;
    bytes -= lengths[s];
    head = slot(1);
    count--;
    return b;
  }

  /**
   * Drops the first {@code n} bytes: chunks they cover entirely are removed and their references
   * released, a chunk they cover in part is shortened from the front (a partial write, say).
   *
   * @param n bytes, 0 .. length()
   * @throws IndexOutOfBoundsException if {@code n} is out of range
   */
  public void skip(long n) {
    if (n < 0 || n > bytes) {
      throw new IndexOutOfBoundsException("skip(" + n + ") of a chunk list of " + bytes + " bytes");
    }
    while (n > 0) {
      int s = head;
      int len = lengths[s];
      if (n >= len) {
        n -= len;
        removeFirst().release();
      } else {
        offsets[s] += (int) n;
        lengths[s] = len - (int) n;
        bytes -= n;
        n = 0;
      }
    }
  }

  /**
   * Removes the newest {@code n} chunks and releases their references.
   *
   * @param n chunks, 0 .. count()
   * @throws IndexOutOfBoundsException if {@code n} is out of range
   */
  public void releaseLast(int n) {
    Objects.checkFromIndexSize(0, n, count);
    for (; n > 0; n--) {
      int s = slot(count - 1);
      Block b = blocks[s];
      blocks[s] = null;
      bytes -= lengths[s];
      count--;
      b.release();
    }
  }

  /** Removes every chunk and releases its reference: the list is empty and can be reused. */
  public void release() {
    releaseLast(count);
    head = 0;
  }

  @Override
  public String toString() {
    return "Chunks[" + count + " chunks, " + bytes + " bytes]";
  }
}
