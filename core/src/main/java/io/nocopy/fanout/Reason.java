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
  CLOSED
}
