package io.nocopy.fanout;

import io.nocopy.buffer.Slice;

/**
 * The userspace transport's burst: the last {@code bytes} of the stream as the chunks' own slice
 * handles (taken over from the transport: no handle of its own), in a ring that grows when
 * needed, trimmed from the front as chunks arrive, given to a new sink as chunks from its start
 * position on. Under the fan-out's delivery lock.
 */
final class SliceBurst {
  private final long bytes;
  private Slice[] slices = new Slice[16];
  private long[] positions = new long[16];
  private int first;
  private int count;
  private long held;
  private boolean closed;
  private final UserChunk view = new UserChunk();

  SliceBurst(long bytes) {
    this.bytes = bytes;
  }

  /**
   * Keeps {@code s}, the chunk at {@code position}, taking the handle over (true), or leaves it to
   * the caller (false: no burst, or closed).
   */
  boolean keep(Slice s, long position) {
    if (bytes == 0 || closed) {
      return false;
    }
    if (count == slices.length) {
      grow();
    }
    int i = (first + count) % slices.length;
    slices[i] = s;
    positions[i] = position;
    count++;
    held += s.length();
    while (held - slices[first].length() >= bytes) {
      dropFirst();
    }
    return true;
  }

  private void grow() {
    Slice[] s = new Slice[slices.length * 2];
    long[] p = new long[s.length];
    for (int k = 0; k < count; k++) {
      s[k] = slices[(first + k) % slices.length];
      p[k] = positions[(first + k) % slices.length];
    }
    slices = s;
    positions = p;
    first = 0;
  }

  /** The first position a sink can start at: the last {@code bytes} bytes before {@code live}. */
  long start(long live) {
    return count == 0 ? live : Math.max(positions[first], live - bytes);
  }

  void give(Sink s, long start) {
    for (int k = 0; k < count && !closed; k++) {
      int i = (first + k) % slices.length;
      Slice sl = slices[i];
      if (positions[i] + sl.length() <= start) {
        continue;
      }
      view.slice = sl;
      view.position = positions[i];
      view.length = sl.length();
      s.deliverFrom(view, start);
    }
    view.slice = null;
  }

  private void dropFirst() {
    Slice old = slices[first];
    slices[first] = null;
    first = (first + 1) % slices.length;
    count--;
    held -= old.length();
    old.close();
  }

  void close() {
    closed = true;
    while (count > 0) {
      dropFirst();
    }
  }
}
