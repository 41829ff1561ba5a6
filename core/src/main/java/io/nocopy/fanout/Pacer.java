package io.nocopy.fanout;

import java.util.concurrent.locks.LockSupport;

/**
 * The fan-out's one coalescer: for a slow source, lets a window pass from a step's start before
 * the next step, so each step moves a window's worth (one splice and one tee per sink, or one
 * gathering write) instead of a packet's.
 *
 * <p>It waits after waiting for a quiet source (from when its bytes started arriving again), and
 * after a step that left the source drained (from when that step began), which keeps one step per
 * window however long the steps take: with hundreds of sinks a step takes milliseconds, and a
 * packet-paced source would otherwise be moved a packet or two at a time. It never waits while
 * {@link #DRAINED_BELOW} bytes or more wait in the source, so a source that is ahead is never held
 * back, and never for sources faster than {@link #SLOW_BELOW_BYTES_PER_SECOND} (measured over 100
 * ms windows).
 *
 * <h2>The window</h2>
 *
 * Fixed ({@link Fanout.Builder#coalesce}), or adaptive ({@link Fanout.Builder#coalesceFor}): the
 * time the source takes to bring {@code bytesPerStep} at its measured rate, between a least and a
 * most window ({@link #window}). The cost of a step is per sink, not per byte, so a step should
 * carry enough bytes to be worth its system calls: a 128 kbit/s stream needs a long window for
 * that, a 50 Mbit/s one a short one. The rate is a moving average ({@link #RATE_WEIGHT}) of the 100
 * ms measurements; before the first one the window is the least.
 *
 * <p>Source thread only.
 */
final class Pacer {
  /** A step that leaves fewer bytes than this waiting in the source counts as having drained it. */
  static final int DRAINED_BELOW = 16 << 10;

  /** Sources slower than this are gathered; faster ones move at once. */
  static final long SLOW_BELOW_BYTES_PER_SECOND = 8L << 20;

  /** Each 100 ms measurement moves the rate average by this fraction (about a second's memory). */
  static final int RATE_WEIGHT = 8;

  private static final long MEASURE_NANOS = 100_000_000L;

  private final long fixedNanos; // > 0: a fixed window
  private final long bytesPerStep; // > 0: an adaptive window
  private final long minNanos;
  private final long maxNanos;
  private long windowStart = System.nanoTime();
  private long windowBytes;
  private boolean slow = true;
  // bytes per second, moving average; 0 before the first measurement (written by the source
  // thread only, read by stats)
  private volatile long rate;

  private Pacer(long fixedNanos, long bytesPerStep, long minNanos, long maxNanos) {
    this.fixedNanos = fixedNanos;
    this.bytesPerStep = bytesPerStep;
    this.minNanos = minNanos;
    this.maxNanos = maxNanos;
  }

  /** A fixed window; 0 never waits. */
  static Pacer fixed(long windowNanos) {
    return new Pacer(windowNanos, 0, windowNanos, windowNanos);
  }

  /** A window that aims for {@code bytesPerStep} at the measured rate, within min..max. */
  static Pacer adaptive(long bytesPerStep, long minNanos, long maxNanos) {
    if (bytesPerStep <= 0 || minNanos <= 0 || maxNanos < minNanos) {
      throw new IllegalArgumentException("adaptive coalescing needs bytes > 0 and 0 < min <= max: "
          + bytesPerStep + " bytes, " + minNanos + ".." + maxNanos + " ns");
    }
    return new Pacer(0, bytesPerStep, minNanos, maxNanos);
  }

  /**
   * The adaptive window for a rate: the time {@code bytesPerStep} take at {@code bytesPerSecond},
   * at least {@code minNanos} and at most {@code maxNanos}; the least for an unknown rate (0).
   */
  static long window(long bytesPerSecond, long bytesPerStep, long minNanos, long maxNanos) {
    if (bytesPerSecond <= 0) {
      return minNanos;
    }
    double nanos = bytesPerStep * 1e9 / bytesPerSecond;
    return (long) Math.max(minNanos, Math.min(maxNanos, nanos));
  }

  /** The moving average after one more measurement. */
  static long average(long average, long measured) {
    return average == 0 ? measured : average + (measured - average) / RATE_WEIGHT;
  }

  /** Whether it ever waits (a window was set). */
  boolean active() {
    return maxNanos > 0;
  }

  /** The window now. */
  long windowNanos() {
    return bytesPerStep > 0 ? window(rate, bytesPerStep, minNanos, maxNanos) : fixedNanos;
  }

  /** The source's rate as last measured (a moving average), 0 before the first measurement. */
  long rate() {
    return rate;
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
    if (active() && waiting >= 0 && waiting < DRAINED_BELOW) {
      gather(stepStart, bytesIn, closed);
    }
  }

  private void gather(long from, long bytesIn, boolean closed) {
    if (active() && !closed && slowSource(bytesIn)) {
      long wait = from + windowNanos() - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(this, wait);
      }
    }
  }

  private boolean slowSource(long bytesIn) {
    long now = System.nanoTime();
    long elapsed = now - windowStart;
    if (elapsed >= MEASURE_NANOS) {
      long measured = (long) ((bytesIn - windowBytes) * 1e9 / elapsed);
      slow = measured < SLOW_BELOW_BYTES_PER_SECOND;
      rate = average(rate, measured);
      windowStart = now;
      windowBytes = bytesIn;
    }
    return slow;
  }
}
