package io.nocopy.fanout;

/** Why a sink ended; reported once per sink to {@link FanoutListener#sinkClosed}. */
public enum Reason {
  /** The source ended and every byte was written to the sink. */
  FINISHED,
  /** {@link Sink#remove()} was called. */
  REMOVED,
  /** The sink fell more than its bound behind. */
  TOO_SLOW,
  /** Writing to the sink failed (the error is reported). */
  FAILED,
  /** The fan-out was closed. */
  CLOSED,
  /**
   * {@link Sink#detach} was called: the sink got the stream up to the position it asked for, every
   * byte of it was written, and its channel is open and the caller's again (to join another
   * fan-out, say).
   */
  DETACHED
}
