package io.nocopy.fanout;

import java.util.concurrent.locks.LockSupport;

/**
 * The fan-out's one coalescer: for a slow source, lets {@code coalesce} pass from a step's start
 * before the next step, so each step moves a window's worth (one splice and one tee per sink, or
 * one gathering write) instead of a packet's.
 *
 * <p>It waits after waiting for a quiet source (from when its bytes started arriving again), and
 * after a step that left the source drained (from when that step began), which keeps one step per
 * window however long the steps take: with hundreds of sinks a step takes milliseconds, and a
 * packet-paced source would otherwise be moved a packet or two at a time. It never waits while
 * {@link #DRAINED_BELOW} bytes or more wait in the source, so a source that is ahead is never held
 * back, and never for sources faster than {@link #SLOW_BELOW_BYTES_PER_SECOND} (measured over 100
 * ms windows). Source thread only.
 */
final class Pacer {
  /** A step that leaves fewer bytes than this waiting in the source counts as having drained it. */
  static final int DRAINED_BELOW = 16 << 10;

  /** Sources slower than this are gathered; faster ones move at once. */
  static final long SLOW_BELOW_BYTES_PER_SECOND = 8L << 20;

  private static final long WINDOW_NANOS = 100_000_000L;

  private final long coalesceNanos;
  private long windowStart = System.nanoTime();
  private long windowBytes;
  private boolean slow = true;

  Pacer(long coalesceNanos) {
    this.coalesceNanos = coalesceNanos;
  }

  /** Whether it ever waits (a coalescing window was set). */
  boolean active() {
    return coalesceNanos > 0;
  }

  /** After waiting for a quiet source: bytes started arriving now. */
  void afterWait(long bytesIn, boolean closed) {
    gather(System.nanoTime(), bytesIn, closed);
  }

  /**
   * After a step that began at {@code stepStart}.
   *
   * @param waiting bytes waiting in the source now, or -1 if unknown (then it does not wait)
   */
  void afterStep(long stepStart, long bytesIn, long waiting, boolean closed) {
    if (coalesceNanos > 0 && waiting >= 0 && waiting < DRAINED_BELOW) {
      gather(stepStart, bytesIn, closed);
    }
  }

  private void gather(long from, long bytesIn, boolean closed) {
    if (coalesceNanos > 0 && !closed && slowSource(bytesIn)) {
      long wait = from + coalesceNanos - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(this, wait);
      }
    }
  }

  private boolean slowSource(long bytesIn) {
    long now = System.nanoTime();
    long elapsed = now - windowStart;
    if (elapsed >= WINDOW_NANOS) {
      slow = (bytesIn - windowBytes) * 1_000_000_000L / elapsed < SLOW_BELOW_BYTES_PER_SECOND;
      windowStart = now;
      windowBytes = bytesIn;
    }
    return slow;
  }
}
