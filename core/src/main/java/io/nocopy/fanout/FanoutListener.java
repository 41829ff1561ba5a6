package io.nocopy.fanout;

import java.io.IOException;

/**
 * Callbacks of a fan-out. Called on the fan-out's threads; keep them short and do not block.
 * Exceptions thrown by a callback are logged and ignored.
 */
public interface FanoutListener {
  /**
   * A sink ended; called exactly once per sink, on its writer thread, after its last write.
   *
   * @param sink the sink; its channel is the caller's again
   * @param reason why it ended
   * @param error the write error for {@link Reason#FAILED}, else null
   */
  default void sinkClosed(Sink sink, Reason reason, IOException error) {}

  /**
   * The source ended (end of stream, error or close); called once on the source thread, before the
   * sinks have drained.
   *
   * @param bytes bytes read from the source
   * @param error the read error, or null at end of stream or close
   */
  default void sourceEnded(long bytes, IOException error) {}
}
