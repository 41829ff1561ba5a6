package io.nocopy.drpc;

import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Block;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A reusable list of chunks (block, offset, length), each holding one reference to its block: the
 * bytes of one packet without a {@link Slice} handle. The arrays grow by doubling when a packet has
 * more chunks than any before, so steady-state use allocates nothing. Not thread-safe; whoever
 * holds the list owns the references in it and calls {@link #release()}.
 */
final class ChunkList implements BufReader.BlockConsumer {
  Block[] blocks = new Block[4];
  int[] offsets = new int[4];
  int[] lengths = new int[4];
  int count;
  long length;

  /** Adds a chunk; the list takes over the caller's reference to {@code block}. */
  @Override
  public void accept(Block block, int offset, int len) {
    if (count == blocks.length) {
      grow();
    }
    blocks[count] = block;
    offsets[count] = offset;
    lengths[count] = len;
    count++;
    length += len;
  }

  private void grow() {
    int n = blocks.length * 2;
    blocks = java.util.Arrays.copyOf(blocks, n);
    offsets = java.util.Arrays.copyOf(offsets, n);
    lengths = java.util.Arrays.copyOf(lengths, n);
  }

  /** Releases every reference and empties the list. */
  void release() {
    for (int i = 0; i < count; i++) {
      Block b = blocks[i];
      blocks[i] = null;
      b.release();
    }
    count = 0;
    length = 0;
  }

  /** Empties the list without releasing: the references were handed over. */
  void forget() {
    for (int i = 0; i < count; i++) {
      blocks[i] = null;
    }
    count = 0;
    length = 0;
  }

  /** Chunk {@code i} as a segment: the block's own segment when it covers the block. */
  MemorySegment segment(int i) {
    MemorySegment seg = blocks[i].segment();
    int off = offsets[i];
    int len = lengths[i];
    return off == 0 && len == seg.byteSize() ? seg : seg.asSlice(off, len);
  }

  /** A copy of the bytes. */
  byte[] toByteArray() {
    if (length > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("message of " + length + " bytes does not fit an array");
    }
    byte[] out = new byte[(int) length];
    int at = 0;
    for (int i = 0; i < count; i++) {
      MemorySegment.copy(
          blocks[i].segment(), ValueLayout.JAVA_BYTE, offsets[i], out, at, lengths[i]);
      at += lengths[i];
    }
    return out;
  }

  /** Hands the references over to a new slice and empties the list. */
  Slice toSlice() {
    Slice s = Slice.ofBlocks(blocks, offsets, lengths, count);
    forget();
    return s;
  }
}
