package io.nocopy.fanout;

import io.nocopy.buffer.Slice;
import java.io.IOException;

/**
 * A run of the stream that a transport hands to every sink: {@code [position, position +
 * length)} of the source's stream, held in a kernel pipe ({@link KernelChunk}) or in pooled memory
 * ({@link UserChunk}). The source's current chunk, or the burst presented as one. Valid until the
 * delivering thread releases the delivery lock.
 */
abstract sealed class Chunk permits KernelChunk, UserChunk {
  /** Returned by a transport's read when the source has nothing now. */
  static final Chunk NONE = new UserChunk();

  long position;
  long length;

  /**
   * The chunk as a slice, for userspace sinks: the chunk's own slice, or a copy made once per
   * chunk from a kernel pipe.
   *
   * @return a handle owned by the chunk (do not close; retain to keep)
   */
  abstract Slice slice() throws IOException;
}
