package io.nocopy.buffer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Receives bytes as a sequence of chunks, each a view of pooled memory.
 *
 * <p>Ownership: the chunk belongs to whoever calls {@link #accept}; it is valid only until
 * {@code accept} returns. Keeping the segment (or a view of it) past that point is a bug: the
 * memory goes back to its pool and is reused for other bytes. To keep bytes, take a {@link Slice}
 * ({@link BufReader#readSlice}) or copy them out during the call.
 */
@FunctionalInterface
public interface ChunkConsumer {
  /**
   * Handles one chunk. Chunks of one call sequence arrive in stream order and are never empty.
   *
   * @param chunk a read-only-by-convention view of the next bytes; valid only during this call
   * @throws IOException to stop the sequence; the caller propagates it
   */
  void accept(MemorySegment chunk) throws IOException;
}
