package io.nocopy.buffer;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import io.nocopy.memory.Tier;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Reads a byte stream from a channel straight into pooled blocks and hands the bytes out as views
 * of those blocks: one copy (kernel to pooled memory), none after that.
 *
 * <h2>Buffering</h2>
 *
 * The reader keeps a queue of blocks holding bytes received but not yet consumed. Each channel read
 * goes into the free tail of the last block (through the block's cached direct {@link ByteBuffer},
 * so no buffer is allocated per read), or into a new block from the {@link Allocator} when the last
 * one is full. A block goes back to the allocator as soon as every byte in it is consumed, unless a
 * {@link Slice} still holds it; the slice then returns it when closed. (Within one {@link
 * #readRange} or {@link #skip} that drains a block and must read on, the drained block takes the
 * next channel read instead of going back and being acquired again; it is back in the allocator
 * by the time the call returns.) Operations buffer only what
 * they need: {@link #readRange} and {@link #skip} stream through at most one read's worth of
 * blocks; {@link #readSlice}, {@link #peek} and the fixed-size reads buffer exactly the bytes they
 * return; {@link #readLine} stops at its limit.
 *
 * <h2>Failures and what they consume</h2>
 *
 * Operations that return a value ({@link #readByte}, {@link #readBE}, {@link #readLE}, {@link
 * #readVarint}, {@link #readLine}, {@link #readSlice}, {@link #peek}) consume nothing when they
 * fail: after an {@link EOFException} or {@link ProtocolException} the bytes they looked at are
 * still buffered and the next call sees them. Streaming operations ({@link #readRange}, {@link
 * #skip}) consume what they delivered or skipped before the stream ended, and their {@code
 * EOFException} says how much that was. A channel that returns 0 bytes {@value #MAX_ZERO_READS}
 * times in a row fails with an {@link IOException} instead of spinning (the reader is for blocking
 * channels).
 *
 * <h2>Block size</h2>
 *
 * The default tier is {@link Tier#BIG} (32 KiB). GoMem uses 16 KiB, which is not a tier; the
 * choice was between 8 KiB and 32 KiB. 32 KiB lets one {@code read(2)} take up to 32 KiB from a
 * busy socket (fewer system calls under load) and costs nothing when idle, because a block is
 * returned as soon as it is consumed. The price is that a small {@link Slice} pins a whole block
 * while held; pass {@link Tier#MEDIUM} (or smaller) to {@link #of(ReadableByteChannel, Allocator,
 * Tier)} when many small slices are held for a long time.
 *
 * <h2>Large reads: blocks from the tier that fits</h2>
 *
 * A reader made with a maximum tier above its block tier ({@link #of(ReadableByteChannel,
 * Allocator, Tier, Tier)}) fills the part of a {@link #readSlice} or {@link #readBlocks} that is
 * not yet buffered from bigger blocks when it is big: the bytes the caller asked for, minus what is
 * buffered, is the <em>remainder</em>. While the remainder is above the block size and the last
 * block is full, the next block is taken by this rule (greedy, largest first):
 *
 * <ul>
 *   <li>if the remainder fills at least half of the smallest tier that holds it (capped at the
 *       maximum tier), one block of that tier: the last piece, wasting less than half the block
 *       (so less than the bytes it holds);
 *   <li>otherwise a block of the tier below it (never below the reader's own tier), filled
 *       completely.
 * </ul>
 *
 * The channel read into such a block is limited to the bytes the request still needs, so the next
 * bytes of the stream (a frame header, say) never land in a big block and pin it; a remainder of at
 * most one block is read into a block of the reader's own tier, as usual, with no limit. Example
 * (32 KiB blocks, 512 KiB maximum): a 1 MiB {@code readSlice} right after a header read is the
 * rest of the header's block, one 512 KiB block and one 512 KiB block holding a bit less than
 * 512 KiB; 4 MiB is that block plus eight 512 KiB blocks. A message of up to one block that arrived
 * in a block already filled stays a view of that block (no copy): it pins the whole block, and the
 * bytes around it, until every holder lets go. That is the price of not copying small messages;
 * choose a smaller block tier if many small messages are held for a long time. With the maximum
 * tier equal to the block tier (the other factories) every block has the reader's tier.
 *
 * <h2>Cost</h2>
 *
 * Steady state allocates nothing: blocks come from the allocator, reads go through the block's own
 * cached {@link ByteBuffer}, and the list of blocks (a {@link Chunks}) only grows when more blocks
 * are buffered at once than ever before. The chunk views passed to a {@link ChunkConsumer} are {@link
 * MemorySegment#asSlice} views; the JIT removes them when the consumer does not let the view
 * escape (measured: 0 B/op in {@code io.nocopy.bench.buffer}), and a consumer that stores or
 * passes the view on pays about 40 bytes per chunk. {@link #readSlice} allocates its handle and,
 * for bytes spanning blocks, a small chunk table; {@link #readBlocks} hands out block references
 * and allocates nothing.
 *
 * <h2>Ownership and threads</h2>
 *
 * The reader owns its blocks, not the channel: {@link #close()} returns the blocks and leaves the
 * channel open. It is used by one thread at a time. After {@link #close()} every method except
 * {@code close} throws {@link IllegalStateException}; so does calling the reader from inside one of
 * its own {@link ChunkConsumer} callbacks.
 *
 * <h2>Why one file</h2>
 *
 * Every read works on the same state, the buffered blocks and the cached head block, and the
 * small reads ({@link #readByte}, {@link #readBE}, {@link #readVarint}) stay fast because they
 * touch those cached fields directly; split into classes, each would reach through accessors
 * into the others' state. So the reader stays one class (a third of it Javadoc), and what is
 * not specific to it lives elsewhere: the chunk list in {@link Chunks}, the views in {@link
 * Slice}.
 */
public final class BufReader implements AutoCloseable {
  /** Consecutive zero-byte reads after which a fill gives up with an {@link IOException}. */
  public static final int MAX_ZERO_READS = 64;

  /** The default block tier: 32 KiB (see the class comment). */
  public static final Tier DEFAULT_TIER = Tier.BIG;

  private final ReadableByteChannel source;
  private final Allocator allocator;
  private final int blockSize;
  private final long maxBlockSize; // largest block a large readSlice/readBlocks may take

  // Blocks with unconsumed bytes, oldest first: chunk k is (block, 0, limit), the block's filled
  // prefix, and its unconsumed bytes are [k == 0 ? pos : 0, limit). Every block in the list holds
  // at least one unconsumed byte: fully consumed blocks leave at once. Each chunk is a different
  // block, so the allocator's cap bounds the list.
  private final Chunks blocks = new Chunks(Chunks.MAX_COUNT);
  private int pos; // read position in the head block
  private MemorySegment headSeg; // cached segment of the head block (null when empty)
  private int headLimit; // cached limit of the head block (0 when empty)
  private int tailCap; // bytes the tail block may be filled to (its size, or less for a piece)
  private long buffered;
  private boolean eof;
  private boolean closed;
  private boolean inCallback;
  // Streaming calls (readRange, skip) consume a block and, when more bytes are wanted, read the
  // next ones at once: the drained block is kept here for that read instead of a release to the
  // pool and an acquire right after (one pair of atomic pool operations per channel read). Only a
  // block of the reader's own tier that no Slice holds is kept, and never past the end of the call
  // (see endStreaming).
  private boolean keepSpare;
  private Block spare;

  private BufReader(ReadableByteChannel source, Allocator allocator, Tier tier) {
    this(source, allocator, tier, tier);
  }

  private BufReader(ReadableByteChannel source, Allocator allocator, Tier tier, Tier maxTier) {
    this.source = Objects.requireNonNull(source, "source");
    this.allocator = Objects.requireNonNull(allocator, "allocator");
    Objects.requireNonNull(tier, "tier");
    Objects.requireNonNull(maxTier, "maxTier");
    if (maxTier.size() > (1 << 30)) {
      throw new IllegalArgumentException("block tier " + maxTier + " is above 1 GiB");
    }
    if (maxTier.compareTo(tier) < 0) {
      throw new IllegalArgumentException("maximum tier " + maxTier + " is below the block tier "
          + tier);
    }
    this.blockSize = (int) tier.size();
    this.maxBlockSize = maxTier.size();
  }

  /**
   * A reader of {@code source} with blocks of {@link #DEFAULT_TIER}.
   *
   * @param source a blocking channel; the reader does not close it
   * @param allocator where blocks come from; must outlive the reader and every slice it returns
   * @return a new reader, owned by the caller, who closes it
   */
  public static BufReader of(ReadableByteChannel source, Allocator allocator) {
    return new BufReader(source, allocator, DEFAULT_TIER);
  }

  /**
   * A reader of {@code source} with blocks of {@code blockTier}.
   *
   * @param source a blocking channel; the reader does not close it
   * @param allocator where blocks come from; must outlive the reader and every slice it returns
   * @param blockTier the size of each block, which is also the most one channel read can return
   * @return a new reader, owned by the caller, who closes it
   */
  public static BufReader of(ReadableByteChannel source, Allocator allocator, Tier blockTier) {
    return new BufReader(source, allocator, blockTier);
  }

  /**
   * A reader of {@code source} with blocks of {@code blockTier} that takes the unbuffered part of a
   * large {@link #readSlice} or {@link #readBlocks} from blocks of up to {@code maxTier} (see "Large
   * reads" in the class comment): a 1 MiB message is then a few big blocks instead of 32 blocks
   * of 32 KiB.
   *
   * @param source a blocking channel; the reader does not close it
   * @param allocator where blocks come from; must outlive the reader and every slice it returns
   * @param blockTier the size of ordinary blocks, also the most one unlimited channel read returns
   * @param maxTier the largest block a large read may take; {@code blockTier} or above
   * @return a new reader, owned by the caller, who closes it
   * @throws IllegalArgumentException if {@code maxTier} is below {@code blockTier} or above 1 GiB
   */
  public static BufReader of(
      ReadableByteChannel source, Allocator allocator, Tier blockTier, Tier maxTier) {
    return new BufReader(source, allocator, blockTier, maxTier);
  }

  /**
   * A reader of an {@link InputStream}, for code that only has a stream. Streams cannot read into
   * native memory, so each read goes through the JDK's stream-to-channel adapter ({@link
   * Channels#newChannel(InputStream)}), which copies from a reused heap array: two copies, not one.
   * Prefer a channel where there is one.
   *
   * @param in the stream; the reader does not close it
   * @param allocator where blocks come from
   * @param blockTier the size of each block
   * @return a new reader, owned by the caller, who closes it
   */
  public static BufReader of(InputStream in, Allocator allocator, Tier blockTier) {
    return new BufReader(Channels.newChannel(Objects.requireNonNull(in, "in")), allocator, blockTier);
  }

  // --- filling --------------------------------------------------------------------------------

  /**
   * One successful channel read of at most {@code maxBytes} into the tail block (a new one if the
   * tail is full). Returns the bytes read, or -1 at end of stream.
   */
  private int fill(long maxBytes) throws IOException {
    if (eof) {
      return -1;
    }
    Block block;
    int start;
    boolean fresh;
    int count = blocks.count();
    if (count > 0 && blocks.length(count - 1) < tailCap) {
      block = blocks.block(count - 1);
      start = blocks.length(count - 1);
      fresh = false;
    } else {
      block = spare;
      if (block != null) {
        spare = null;
      } else {
        block = allocator.allocate(blockSize);
      }
      start = 0;
      fresh = true;
    }
    int cap = fresh ? blockSize : tailCap;
    int r;
    try {
      ByteBuffer bb = block.byteBuffer(); // scratch state of the block's filler: us
      bb.limit(start + (int) Math.min(cap - start, maxBytes)).position(start);
      r = readSome(bb);
    } catch (Throwable t) {
      if (fresh) {
        block.release();
      }
      throw t;
    }
    if (r < 0) {
      eof = true;
      if (fresh) {
        block.release();
      }
      return -1;
    }
    if (fresh) {
      push(block, r, blockSize);
    } else {
      blocks.extendLast(r);
      if (count == 1) {
        headLimit += r;
      }
    }
    buffered += r;
    return r;
  }

  /** One channel read of at least one byte into {@code bb}, or -1; gives up on a stalled channel. */
  private int readSome(ByteBuffer bb) throws IOException {
    int r;
    int zeros = 0;
    while ((r = source.read(bb)) == 0) {
      if (++zeros >= MAX_ZERO_READS) {
        throw new IOException(
            "channel returned 0 bytes " + MAX_ZERO_READS + " times in a row (not a blocking"
                + " channel, or no progress); giving up instead of spinning");
      }
      Thread.yield();
    }
    return r;
  }

  private void push(Block block, int limit, int cap) {
    blocks.accept(block, 0, limit);
    tailCap = cap;
    if (blocks.count() == 1) {
      pos = 0;
      loadHead();
    }
  }

  private void loadHead() {
    if (!blocks.isEmpty()) {
      headSeg = blocks.block(0).segment();
      headLimit = blocks.length(0);
    } else {
      headSeg = null;
      headLimit = 0;
    }
  }

  /** Fills until at least {@code n} bytes are buffered; false if the stream ends first. */
  private boolean ensure(long n) throws IOException {
    while (buffered < n) {
      if (fill(Long.MAX_VALUE) < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Like {@link #ensure} for a request of {@code n} bytes that will be handed out whole (readSlice,
   * readBlocks): when the remainder is more than a block and the tail block is full, the next
   * block comes from the tier that fits the remainder ("Large reads" in the class comment).
   */
  private boolean ensureRequest(long n) throws IOException {
    while (buffered < n) {
      long rem = n - buffered;
      int count = blocks.count();
      boolean tailHasRoom = count > 0 && blocks.length(count - 1) < tailCap;
      int r = (rem > blockSize && maxBlockSize > blockSize && !tailHasRoom)
          ? fillPiece(rem)
          : fill(Long.MAX_VALUE);
      if (r < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * The block size for the next piece of a remainder of {@code rem > blockSize} bytes: the
   * smallest tier holding it (capped at the maximum) if that block is at least half used,
   * otherwise the tier below, filled completely.
   */
  private long pieceSize(long rem) {
    long fit = Tier.forSize(Math.min(rem, maxBlockSize)).size();
    if (2 * rem >= fit) { // also when capped: rem >= fit
      return fit;
    }
    return fit >> 2; // >= blockSize: rem > blockSize, so fit is at least the tier above ours
  }

  /** One channel read into a fresh block sized for {@code rem} (limited to rem); -1 at the end. */
  private int fillPiece(long rem) throws IOException {
    if (eof) {
      return -1;
    }
    long size = pieceSize(rem);
    int cap = (int) Math.min(size, rem);
    Block block = allocator.allocate(size);
    int r;
    try {
      ByteBuffer bb = block.byteBuffer(); // scratch state of the block's filler: us
      bb.limit(cap).position(0);
      r = readSome(bb);
    } catch (Throwable t) {
      block.release();
      throw t;
    }
    if (r < 0) {
      eof = true;
      block.release();
      return -1;
    }
    push(block, r, cap);
    buffered += r;
    return r;
  }

  // --- consuming ------------------------------------------------------------------------------

  /** Consumes {@code n <= headLimit - pos} bytes of the head block. */
  private void consumeHead(int n) {
    pos += n;
    buffered -= n;
    if (pos == headLimit) {
      dropHead();
    }
  }

  /** Consumes {@code n <= buffered} bytes, across blocks. */
  private void consume(long n) {
    while (n > 0) {
      int k = (int) Math.min(n, headLimit - pos);
      consumeHead(k);
      n -= k;
    }
  }

  private void dropHead() {
    Block b = blocks.removeFirst();
    pos = 0;
    loadHead();
    if (keepSpare && blocks.isEmpty() && spare == null && b.refCount() == 1
        && b.tier().size() == blockSize) {
      // ours alone (no Slice holds it) and of our own tier (a big block of a large read is never
      // refilled, see "Large reads"): the streaming call's next fill reuses it
      spare = b;
    } else {
      b.release();
    }
  }

  /** Ends a streaming call: a kept block that no read reused goes back to the allocator now. */
  private void endStreaming() {
    keepSpare = false;
    Block b = spare;
    if (b != null) {
      spare = null;
      b.release();
    }
  }

  /** The buffered byte at logical index {@code i < buffered} (0 = next unread byte). */
  private int byteAt(long i) {
    long inHead = headLimit - pos;
    if (i < inHead) {
      return headSeg.get(ValueLayout.JAVA_BYTE, pos + i) & 0xff;
    }
    i -= inHead;
    for (int k = 1; ; k++) {
      int limit = blocks.length(k);
      if (i < limit) {
        return blocks.block(k).segment().get(ValueLayout.JAVA_BYTE, i) & 0xff;
      }
      i -= limit;
    }
  }

  private void checkUsable() {
    if (closed) {
      throw new IllegalStateException("BufReader is closed");
    }
    if (inCallback) {
      throw new IllegalStateException("BufReader called from inside its own ChunkConsumer");
    }
  }

  // --- reads ----------------------------------------------------------------------------------

  /**
   * The next byte.
   *
   * @return the byte, 0..255
   * @throws EOFException if the stream has ended (nothing consumed)
   * @throws IOException from the channel
   * @throws IllegalStateException if the reader is closed
   */
  public int readByte() throws IOException {
    checkUsable();
    if (buffered == 0 && fill(Long.MAX_VALUE) < 0) {
      throw new EOFException("readByte: end of stream");
    }
    int b = headSeg.get(ValueLayout.JAVA_BYTE, pos) & 0xff;
    consumeHead(1);
    return b;
  }

  /**
   * The next {@code n} bytes as an unsigned big-endian number (network order).
   *
   * @param n 1..8
   * @return the value; for n = 8 all 64 bits (may be negative as a {@code long})
   * @throws IllegalArgumentException if {@code n} is outside 1..8
   * @throws EOFException if the stream ends before {@code n} bytes (nothing consumed)
   * @throws IOException from the channel
   * @throws IllegalStateException if the reader is closed
   */
  public long readBE(int n) throws IOException {
    return readNumber(n, true, "readBE");
  }

  /**
   * The next {@code n} bytes as an unsigned little-endian number.
   *
   * @param n 1..8
   * @return the value; for n = 8 all 64 bits (may be negative as a {@code long})
   * @throws IllegalArgumentException if {@code n} is outside 1..8
   * @throws EOFException if the stream ends before {@code n} bytes (nothing consumed)
   * @throws IOException from the channel
   * @throws IllegalStateException if the reader is closed
   */
  public long readLE(int n) throws IOException {
    return readNumber(n, false, "readLE");
  }

  /**
   * readBE / readLE: one big-endian load (byte-swapped for little-endian) when 2, 4 or 8 bytes sit
   * in the head block, else byte by byte.
   */
  private long readNumber(int n, boolean bigEndian, String op) throws IOException {
    checkWidth(n);
    checkUsable();
    require(n, op);
    long v;
    if (headLimit - pos >= n && (n == 2 || n == 4 || n == 8)) {
      v =
          switch (n) {
            case 2 -> {
              short x = headSeg.get(Layouts.SHORT_BE, pos);
              yield (bigEndian ? x : Short.reverseBytes(x)) & 0xffffL;
            }
            case 4 -> {
              int x = headSeg.get(Layouts.INT_BE, pos);
              yield (bigEndian ? x : Integer.reverseBytes(x)) & 0xffffffffL;
            }
            default -> {
              long x = headSeg.get(Layouts.LONG_BE, pos);
              yield bigEndian ? x : Long.reverseBytes(x);
            }
          };
    } else {
      v = 0;
      for (int k = 0; k < n; k++) {
        v = (v << 8) | byteAt(bigEndian ? k : n - 1 - k);
      }
    }
    consume(n);
    return v;
  }

  private static void checkWidth(int n) {
    if (n < 1 || n > 8) {
      throw new IllegalArgumentException("width must be 1..8 bytes, got " + n);
    }
  }

  private void requireRequest(long n, String op) throws IOException {
    if (!ensureRequest(n)) {
      throw new EOFException(
          op + ": stream ended with " + buffered + " of " + n + " bytes available (nothing"
              + " consumed)");
    }
  }

  private void require(long n, String op) throws IOException {
    if (!ensure(n)) {
      throw new EOFException(
          op + ": stream ended with " + buffered + " of " + n + " bytes available (nothing"
              + " consumed)");
    }
  }

  /**
   * Skips {@code n} bytes, streaming: at most one block is buffered at a time.
   *
   * @param n bytes to skip, 0 or more
   * @throws IllegalArgumentException if {@code n} is negative
   * @throws EOFException if the stream ends first; the bytes before the end were skipped and the
   *     message says how many
   * @throws IOException from the channel
   * @throws IllegalStateException if the reader is closed
   */
  public void skip(long n) throws IOException {
    checkUsable();
    if (n < 0) {
      throw new IllegalArgumentException("negative skip: " + n);
    }
    long done = 0;
    keepSpare = true;
    try {
      while (done < n) {
        if (buffered == 0 && fill(Long.MAX_VALUE) < 0) {
          throw new EOFException("skip(" + n + "): stream ended after " + done + " bytes skipped");
        }
        int k = (int) Math.min(n - done, headLimit - pos);
        consumeHead(k);
        done += k;
      }
    } finally {
      endStreaming();
    }
  }

  /**
   * An unsigned LEB128 varint (7 bits per byte, least significant group first, high bit set on
   * every byte but the last), as used by protobuf and DRPC; at most 10 bytes.
   *
   * @return the value (all 64 bits; may be negative as a {@code long})
   * @throws ProtocolException if the varint is longer than 10 bytes or overflows 64 bits (nothing
   *     consumed)
   * @throws EOFException if the stream ends inside the varint (nothing consumed)
   * @throws IOException from the channel
   * @throws IllegalStateException if the reader is closed
   */
  public long readVarint() throws IOException {
    checkUsable();
    long v = 0;
    for (int i = 0; i < 10; i++) {
      if (i >= buffered && !ensure(i + 1)) {
        throw new EOFException(
            "readVarint: stream ended inside a varint after " + i + " bytes (nothing consumed)");
      }
      int b = (pos + i < headLimit) ? headSeg.get(ValueLayout.JAVA_BYTE, pos + i) & 0xff : byteAt(i);
      if (i == 9 && b > 1) {
        throw new ProtocolException("varint overflows 64 bits (10th byte 0x"
            + Integer.toHexString(b) + "; nothing consumed)");
      }
      v |= (long) (b & 0x7f) << (7 * i);
      if (b < 0x80) {
        consume(i + 1);
        return v;
      }
    }
    throw new AssertionError("unreachable: the 10th byte either ends the varint or overflows");
  }

  /**
   * The next line, ended by LF or CR LF, without its terminator, decoded as UTF-8. At most {@code
   * maxBytes + 2} bytes are ever buffered looking for the end: the channel reads are limited so.
   *
   * @param maxBytes the longest line content accepted, in bytes (terminator excluded)
   * @return the line, or null if the stream ended with nothing buffered
   * @throws ProtocolException if the line is longer than {@code maxBytes} (nothing consumed)
   * @throws EOFException if the stream ends inside a line (nothing consumed)
   * @throws IllegalArgumentException if {@code maxBytes} is negative
   * @throws IOException from the channel
   * @throws IllegalStateException if the reader is closed
   */
  public String readLine(int maxBytes) throws IOException {
    checkUsable();
    if (maxBytes < 0) {
      throw new IllegalArgumentException("negative maxBytes: " + maxBytes);
    }
    long limit = maxBytes + 2L;
    long scanned = 0;
    while (true) {
      long lf = indexOf((byte) '\n', scanned, Math.min(buffered, limit));
      if (lf >= 0) {
        long len = (lf > 0 && byteAt(lf - 1) == '\r') ? lf - 1 : lf;
        if (len > maxBytes) {
          throw new ProtocolException(
              "line of " + len + " bytes is longer than the limit of " + maxBytes);
        }
        byte[] bytes = new byte[(int) len];
        blocks.copyTo(0, pos, len, bytes);
        consume(lf + 1);
        return new String(bytes, StandardCharsets.UTF_8);
      }
      scanned = Math.min(buffered, limit);
      if (buffered >= limit) {
        throw new ProtocolException(
            "no line end within " + limit + " bytes: line longer than the limit of " + maxBytes);
      }
      if (fill(limit - buffered) < 0) {
        if (buffered == 0) {
          return null;
        }
        throw new EOFException(
            "readLine: stream ended inside a line of " + buffered + " bytes (nothing consumed)");
      }
    }
  }

  /** Index of the first {@code b} in buffered bytes [from, to), or -1. */
  private long indexOf(byte b, long from, long to) {
    long base = 0; // logical index of the current block's first unconsumed byte
    int count = blocks.count();
    for (int k = 0; k < count && base < to; k++) {
      int start = k == 0 ? pos : 0;
      long blockLen = blocks.length(k) - start;
      if (base + blockLen > from) {
        MemorySegment seg = k == 0 ? headSeg : blocks.block(k).segment();
        long s = Math.max(from - base, 0);
        long e = Math.min(blockLen, to - base);
        for (long i = s; i < e; i++) {
          if (seg.get(ValueLayout.JAVA_BYTE, start + i) == b) {
            return base + i;
          }
        }
      }
      base += blockLen;
    }
    return -1;
  }

  /**
   * Passes the next {@code n} bytes to {@code consumer} as chunks of pooled blocks, in order, as
   * they arrive: memory held is bounded by the block size, not by {@code n}. Each chunk is valid
   * only during its {@code accept} call and is consumed when that call returns.
   *
   * @param n bytes to deliver, 0 or more
   * @param consumer receives the chunks; must not call this reader
   * @throws IllegalArgumentException if {@code n} is negative
   * @throws EOFException if the stream ends first; the message says how many bytes were delivered
   *     (and consumed)
   * @throws IOException from the channel or the consumer (the chunk being handled when the
   *     consumer threw is not consumed)
   * @throws IllegalStateException if the reader is closed
   */
  public void readRange(long n, ChunkConsumer consumer) throws IOException {
    checkUsable();
    if (n < 0) {
      throw new IllegalArgumentException("negative length: " + n);
    }
    Objects.requireNonNull(consumer, "consumer");
    long delivered = 0;
    inCallback = true;
    keepSpare = true;
    try {
      while (delivered < n) {
        if (buffered == 0 && fill(Long.MAX_VALUE) < 0) {
          throw new EOFException(
              "readRange(" + n + "): stream ended after " + delivered + " bytes delivered");
        }
        int k = (int) Math.min(n - delivered, headLimit - pos);
        consumer.accept(headSeg.asSlice(pos, k));
        consumeHead(k);
        delivered += k;
      }
    } finally {
      inCallback = false;
      endStreaming();
    }
  }

  /**
   * The next {@code n} bytes as a {@link Slice} that stays valid after this reader's next calls and
   * after its {@link #close()}, until the slice is closed. The bytes are not copied: the slice
   * holds the blocks they are in. All {@code n} bytes are buffered before the slice is returned;
   * a large unbuffered part comes from bigger blocks if the reader has a maximum tier above its
   * block tier ("Large reads" in the class comment).
   *
   * @param n bytes, 0 or more
   * @return a slice owned by the caller, who closes it
   * @throws IllegalArgumentException if {@code n} is negative
   * @throws EOFException if the stream ends first (nothing consumed)
   * @throws IOException from the channel or the allocator (pool exhausted)
   * @throws IllegalStateException if the reader is closed
   */
  public Slice readSlice(long n) throws IOException {
    checkUsable();
    if (n < 0) {
      throw new IllegalArgumentException("negative length: " + n);
    }
    if (n == 0) {
      return Slice.empty();
    }
    requireRequest(n, "readSlice");
    if (headLimit - pos >= n) { // within the head block: no chunk table needed
      Slice s = Slice.adopt(blocks.block(0).retain(), pos, (int) n);
      consume(n);
      return s;
    }
    Chunks table = Chunks.exact(blocks.countCovering(0, pos, n));
    blocks.retainTo(0, pos, n, table);
    Slice s = Slice.adopt(table);
    consume(n);
    return s;
  }

  /**
   * The next {@code n} bytes as references to the pooled blocks they are in, without allocating:
   * the zero-allocation form of {@link #readSlice}. All {@code n} bytes are buffered first (a large
   * unbuffered part from bigger blocks, as for {@code readSlice}); then {@code consumer} gets one
   * call per chunk, in order, each passing ownership of one reference to the chunk's block (so the
   * same block can come in several calls, each with its own reference). The bytes of a chunk stay
   * valid until its reference is released, independent of this reader and of its {@link
   * #close()}; nobody writes them again while a reference is held.
   *
   * @param n bytes, 0 or more (0: no call)
   * @param consumer takes the chunks; must not call this reader
   * @throws IllegalArgumentException if {@code n} is negative
   * @throws EOFException if the stream ends first (nothing consumed, no call made)
   * @throws IOException from the channel or the allocator (pool exhausted); nothing consumed
   * @throws IllegalStateException if the reader is closed, or called from inside its consumer
   * @throws RuntimeException what the consumer throws; the {@code n} bytes are consumed anyway
   *     and the references already passed (including the one of the throwing call) are the
   *     consumer's
   */
  public void readBlocks(long n, BlockConsumer consumer) throws IOException {
    checkUsable();
    if (n < 0) {
      throw new IllegalArgumentException("negative length: " + n);
    }
    Objects.requireNonNull(consumer, "consumer");
    if (n == 0) {
      return;
    }
    requireRequest(n, "readBlocks");
    inCallback = true;
    try {
      blocks.retainTo(0, pos, n, consumer);
    } finally {
      inCallback = false;
      consume(n);
    }
  }

  /**
   * Up to {@code maxBytes} of the stream as a {@link Slice}, waiting only for the first byte: what
   * is buffered is returned at once, and when nothing is, one channel read is made. For live
   * streams, where bytes should move on as they arrive and there is no frame length to wait for.
   * Like {@link #readSlice}, the bytes are not copied and the slice outlives this reader.
   *
   * @param maxBytes the most bytes to return, at least 1
   * @return a slice of 1 to {@code maxBytes} bytes owned by the caller, who closes it; null if the
   *     stream ended with nothing buffered
   * @throws IllegalArgumentException if {@code maxBytes < 1}
   * @throws IOException from the channel or the allocator (pool exhausted)
   * @throws IllegalStateException if the reader is closed
   */
  public Slice readSliceUpTo(long maxBytes) throws IOException {
    checkUsable();
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be at least 1, got " + maxBytes);
    }
    if (buffered == 0 && fill(maxBytes) < 0) {
      return null;
    }
    return readSlice(Math.min(buffered, maxBytes));
  }

  /**
   * Up to {@code maxBytes} of the stream as references to the pooled blocks they are in, waiting
   * only for the first byte: the zero-allocation form of {@link #readSliceUpTo}, with the
   * ownership rules of {@link #readBlocks}.
   *
   * @param maxBytes the most bytes to pass, at least 1
   * @param consumer takes the chunks; must not call this reader
   * @return the bytes passed (1 to {@code maxBytes}), or -1 if the stream ended with nothing
   *     buffered (no call made)
   * @throws IllegalArgumentException if {@code maxBytes < 1}
   * @throws IOException from the channel or the allocator (pool exhausted)
   * @throws IllegalStateException if the reader is closed, or called from inside its consumer
   */
  public long readBlocksUpTo(long maxBytes, BlockConsumer consumer) throws IOException {
    checkUsable();
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be at least 1, got " + maxBytes);
    }
    if (buffered == 0 && fill(maxBytes) < 0) {
      return -1;
    }
    long n = Math.min(buffered, maxBytes);
    readBlocks(n, consumer);
    return n;
  }

  /**
   * Passes the next {@code n} bytes to {@code consumer} without consuming them: they are buffered
   * first (so memory held grows with {@code n}), then delivered as chunks valid only during each
   * {@code accept} call. The next read returns the same bytes.
   *
   * @param n bytes, 0 or more
   * @param consumer receives the chunks; must not call this reader
   * @throws IllegalArgumentException if {@code n} is negative
   * @throws EOFException if the stream ends first (nothing consumed)
   * @throws IOException from the channel or the consumer
   * @throws IllegalStateException if the reader is closed
   */
  public void peek(long n, ChunkConsumer consumer) throws IOException {
    checkUsable();
    if (n < 0) {
      throw new IllegalArgumentException("negative length: " + n);
    }
    Objects.requireNonNull(consumer, "consumer");
    require(n, "peek");
    inCallback = true;
    try {
      blocks.forEach(0, pos, n, consumer);
    } finally {
      inCallback = false;
    }
  }

  /**
   * The number of bytes received and not yet consumed: what can be read without touching the
   * channel.
   *
   * @return buffered bytes
   * @throws IllegalStateException if the reader is closed
   */
  public long buffered() {
    checkUsable();
    return buffered;
  }

  /**
   * A stream view of this reader for code that wants an {@link InputStream}. Bytes read through it
   * are consumed from this reader; {@code read(byte[])} copies out of the blocks (the one copy a
   * stream API cannot avoid) and blocks on the channel only when nothing is buffered. Closing the
   * stream closes this reader (not the channel). Use one thread at a time, like the reader.
   *
   * @return a new stream over this reader; the reader stays its owner
   * @throws IllegalStateException if the reader is closed
   */
  public InputStream asInputStream() {
    checkUsable();
    return new InputStream() {
      @Override
      public int read() throws IOException {
        checkUsable();
        if (buffered == 0 && fill(Long.MAX_VALUE) < 0) {
          return -1;
        }
        int b = headSeg.get(ValueLayout.JAVA_BYTE, pos) & 0xff;
        consumeHead(1);
        return b;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        checkUsable();
        if (len == 0) {
          return 0;
        }
        if (buffered == 0 && fill(Long.MAX_VALUE) < 0) {
          return -1;
        }
        int done = 0;
        while (done < len && buffered > 0) {
          int k = Math.min(len - done, headLimit - pos);
          MemorySegment.copy(headSeg, ValueLayout.JAVA_BYTE, pos, b, off + done, k);
          consumeHead(k);
          done += k;
        }
        return done;
      }

      @Override
      public long skip(long n) throws IOException {
        checkUsable();
        if (n <= 0 || (buffered == 0 && fill(Long.MAX_VALUE) < 0)) {
          return 0;
        }
        long k = Math.min(n, buffered);
        consume(k);
        return k;
      }

      @Override
      public int available() {
        checkUsable();
        return (int) Math.min(Integer.MAX_VALUE, buffered);
      }

      @Override
      public void close() {
        BufReader.this.close();
      }
    };
  }

  /**
   * Returns every buffered block to the allocator (blocks held by slices stay with the slices) and
   * makes every later call throw {@link IllegalStateException}. The channel is not closed.
   * Idempotent.
   *
   * @throws IllegalStateException if called from inside one of this reader's consumer callbacks
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    if (inCallback) {
      throw new IllegalStateException("BufReader closed from inside its own ChunkConsumer");
    }
    closed = true;
    blocks.release();
    pos = 0;
    loadHead();
    buffered = 0;
  }

  @Override
  public String toString() {
    return "BufReader[" + (closed ? "closed" : buffered + " bytes buffered in " + blocks.count()
        + " blocks")
        + ", block " + blockSize + " B" + (eof ? ", at end of stream" : "") + "]";
  }
}
