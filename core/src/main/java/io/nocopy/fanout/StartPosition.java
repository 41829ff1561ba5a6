package io.nocopy.fanout;

import java.nio.ByteBuffer;

/**
 * Where a new sink's stream starts, chosen by the source's format (a page or frame boundary): a
 * per-sink hook ({@link SinkBuilder#startAt}). Called once, on the thread that adds the sink, while
 * deliveries to every sink wait (keep it short).
 *
 * <p>Positions are stream positions: the number of source bytes before a byte. The fan-out holds
 * the bytes {@code [oldest, live)} (its burst); {@code live} is where the next byte the source
 * reads will be.
 *
 * <p>A format that replays bytes before the stream (an Ogg stream's header pages) decides the start
 * and those bytes together by overriding {@link #decide}: the header a sink gets is then always the
 * one that belongs to the position it starts at.
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

  /**
   * Chooses the sink's first stream byte and the bytes replayed before it, as one decision. By
   * default the position of {@link #choose} and no header of its own (the sink's {@link
   * SinkBuilder#header}, if any, applies).
   *
   * @param oldest as for {@link #choose}
   * @param live as for {@link #choose}
   * @return the choice; called once per sink, so it may allocate
   */
  default Choice decide(long oldest, long live) {
    return new Choice(choose(oldest, live), null);
  }

  /**
   * A start position and the bytes replayed before it.
   *
   * @param position as {@link #choose} returns it
   * @param header bytes replayed before the stream, read from position to limit during {@link
   *     SinkBuilder#add()} and not modified; they replace the sink's {@link SinkBuilder#header};
   *     null for "no header of this choice" (the builder's applies)
   */
  record Choice(long position, ByteBuffer header) {}

  /** The whole burst: the default. */
  StartPosition BURST = (oldest, live) -> oldest;

  /** No burst: the live stream only. */
  StartPosition LIVE = (oldest, live) -> live;
}
