package io.nocopy.fanout;

import io.nocopy.buffer.BlockConsumer;
import java.io.IOException;

/**
 * A run of the stream that a transport hands to every sink: {@code [position, position +
 * length)} of the source's stream, held in a kernel pipe ({@link KernelChunk}) or in pooled memory
 * ({@link UserChunk}). The source's current chunk, or a piece of the burst presented as one. Valid
 * until the delivering thread releases the delivery lock.
 */
abstract sealed class Chunk permits KernelChunk, UserChunk {
  /** Returned by a transport's read when the source has nothing now. */
  static final Chunk NONE = new UserChunk();

  long position;
  long length;

  /**
   * For userspace sinks: gives {@code consumer} one new reference to the block of each piece of
   * pooled memory under {@code [from, from + len)} of the chunk (a kernel pipe's chunk is copied
   * into pooled memory once per chunk first).
   *
   * @throws IOException if the copy out of a kernel pipe failed
   */
  abstract void retainTo(long from, long len, BlockConsumer consumer) throws IOException;

  /**
   * The native memory under {@code [from, from + len)} of the chunk as regions ({@link
   * io.nocopy.buffer.Slice#nativeRegions}): valid while the chunk is.
   *
   * @return the number of regions, or -1 if they need more entries than the arrays have
   * @throws IOException if the copy out of a kernel pipe failed
   */
  abstract int nativeRegions(long from, long len, long[] addresses, int[] lengths)
      throws IOException;
}
