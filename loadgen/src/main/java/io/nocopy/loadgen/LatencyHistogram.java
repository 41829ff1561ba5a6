package io.nocopy.loadgen;

/**
 * A fixed-size log-linear histogram of nanosecond values: 16 linear sub-buckets per power of two,
 * so any value is kept to within 1/16 (6.25 %) of itself. Recording allocates nothing. Not thread
 * safe: one writer (a listener's thread); read it after that thread has finished, or merge it into
 * another under the caller's own synchronisation.
 */
public final class LatencyHistogram {
  private static final int SUB_BITS = 4;
  private static final int SUB = 1 << SUB_BITS;
  private static final int BUCKETS = (64 - SUB_BITS + 1) * SUB;

  private final long[] counts = new long[BUCKETS];
  private long total;
  private long max;

  /** Creates an empty histogram. */
  public LatencyHistogram() {}

  /**
   * Adds one value; negative values count as zero.
   *
   * @param nanos the value
   */
  public void record(long nanos) {
    long v = Math.max(0, nanos);
    counts[index(v)]++;
    total++;
    if (v > max) {
      max = v;
    }
  }

  static int index(long v) {
    if (v < SUB) {
      return (int) v;
    }
    int e = 63 - Long.numberOfLeadingZeros(v); // >= SUB_BITS
    int sub = (int) (v >>> (e - SUB_BITS)) & (SUB - 1);
    return (e - SUB_BITS + 1) * SUB + sub;
  }

  /** The largest value that falls into bucket {@code i}. */
  static long upperBound(int i) {
    if (i < SUB) {
      return i;
    }
    int e = i / SUB + SUB_BITS - 1;
    long low = (long) (SUB + i % SUB) << (e - SUB_BITS);
    return low + (1L << (e - SUB_BITS)) - 1;
  }

  /**
   * Adds every value of {@code other} to this one.
   *
   * @param other a histogram no thread is writing to
   */
  public void add(LatencyHistogram other) {
    for (int i = 0; i < BUCKETS; i++) {
      counts[i] += other.counts[i];
    }
    total += other.total;
    max = Math.max(max, other.max);
  }

  /**
   * The value at quantile {@code q}: the upper bound of the bucket holding it, never above the
   * largest recorded value.
   *
   * @param q 0..1, e.g. 0.99
   * @return the value in nanoseconds, or -1 if nothing was recorded
   */
  public long percentile(double q) {
    if (total == 0) {
      return -1;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Math.min(upperBound(i), max);
      }
    }
    return max;
  }

  /** @return how many values were recorded */
  public long count() {
    return total;
  }

  /** @return the largest value recorded, 0 if none */
  public long max() {
    return max;
  }
}
