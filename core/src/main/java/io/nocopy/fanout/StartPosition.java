package io.nocopy.fanout;

/**
 * Where a new sink's stream starts, chosen by the source's format (a page or frame boundary): a
 * per-sink hook ({@link SinkBuilder#startAt}). Called once, on the thread that adds the sink, while
 * deliveries to every sink wait (keep it short).
 *
 * <p>Positions are stream positions: the number of source bytes before a byte. The fan-out holds
 * the bytes {@code [oldest, live)} (its burst); {@code live} is where the next byte the source
 * reads will be.
 */
@FunctionalInterface
public interface StartPosition {
  /**
   * Chooses the sink's first stream byte.
   *
   * @param oldest the first byte the fan-out still holds (the burst's start; {@code live} without
   *     a burst)
   * @param live the position of the next byte the source will read
   * @return a position at least {@code oldest}: inside the burst, or at or after {@code live}
   *     (the sink then gets nothing until the stream reaches it); a smaller value means {@code
   *     oldest}
   */
  long choose(long oldest, long live);

  /** The whole burst: the default. */
  StartPosition BURST = (oldest, live) -> oldest;

  /** No burst: the live stream only. */
  StartPosition LIVE = (oldest, live) -> live;
}
