package io.nocopy.fanout;

import io.nocopy.buffer.BlockConsumer;
import io.nocopy.buffer.Chunks;
import io.nocopy.buffer.Slice;

/**
 * A chunk in pooled memory: either references to the blocks it is in ({@link #blocks}, read
 * straight from the source's reader, or a piece of the burst), held by whoever made the chunk and
 * reused for the next one, so a chunk costs no object; or a slice handed over by a slice source
 * ({@link #slice}, owned likewise).
 */
final class UserChunk extends Chunk {
  /** The chunk's blocks when {@link #slice} is null. */
  final Chunks blocks = new Chunks();
  /** The chunk's slice, or null. */
  Slice slice;

  @Override
  void retainTo(long from, long len, BlockConsumer consumer) {
    if (slice != null) {
      slice.retainTo(from, len, consumer);
    } else {
      blocks.retainTo(from, len, consumer);
    }
  }

  @Override
  int nativeRegions(long from, long len, long[] addresses, int[] lengths) {
    return slice != null
        ? slice.nativeRegions(from, len, addresses, lengths)
        : blocks.nativeRegions(from, len, addresses, lengths);
  }

  /** Releases what the chunk holds; it can be reused. */
  void clear() {
    if (slice != null) {
      slice.close();
      slice = null;
    }
    blocks.release();
  }
}
