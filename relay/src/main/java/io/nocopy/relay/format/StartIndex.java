package io.nocopy.relay.format;

/**
 * The most recent stream positions where a listener may start, in increasing order, in a ring of
 * fixed capacity: when it is full the oldest position is forgotten. Lookups are binary searches.
 *
 * <p>Not thread-safe: its owner (a {@link FormatScanner}) serializes access.
 */
final class StartIndex {
  private final long[] ring;
  private int first; // index of the oldest position
  private int count;

  StartIndex(int capacity) {
    this.ring = new long[capacity];
  }

  /** Records {@code position}, which must be greater than every position recorded before. */
  void add(long position) {
    if (count > 0 && position <= at(count - 1)) {
      throw new IllegalArgumentException(
          "start positions must increase: " + position + " after " + at(count - 1));
    }
    if (count == ring.length) {
      ring[first] = position;
      first = (first + 1) % ring.length;
    } else {
      ring[(first + count) % ring.length] = position;
      count++;
    }
  }

  /** The smallest recorded position at or after {@code position}, or -1 if there is none. */
  long atOrAfter(long position) {
    int lo = 0;
    int hi = count;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (at(mid) < position) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo < count ? at(lo) : -1;
  }

  /** Forgets every position. */
  void clear() {
    first = 0;
    count = 0;
  }

  int size() {
    return count;
  }

  private long at(int i) {
    return ring[(first + i) % ring.length];
  }
}
