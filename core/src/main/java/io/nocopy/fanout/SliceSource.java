package io.nocopy.fanout;

import io.nocopy.buffer.Slice;
import java.io.IOException;

/**
 * A stream of slices pulled by a fan-out's source thread: the bodies of a chunked upload, a
 * cascaded pull, anything parsed in userspace. Called by one thread only.
 */
@FunctionalInterface
public interface SliceSource {
  /**
   * The next piece of the stream, blocking until there is one.
   *
   * @return a slice whose handle passes to the fan-out (it closes it), or null at the end
   * @throws IOException if reading fails; the fan-out ends with that error
   */
  Slice next() throws IOException;

  /**
   * Bytes already read from the underlying channel and not yet returned by {@link #next()}: what
   * the next call returns without waiting. Used by the pacer only.
   *
   * @return buffered bytes, 0 or more
   */
  default long buffered() {
    return 0;
  }
}
