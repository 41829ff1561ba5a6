package io.nocopy.fanout;

import io.nocopy.buffer.Chunks;
import java.io.IOException;

/**
 * The userspace transport's burst: the last {@code bytes} of the stream as references to the
 * blocks they are in (one list, in stream order, no object per chunk), trimmed from the front as
 * chunks arrive, given to a new sink piece by piece from its start position on. Under the
 * fan-out's delivery lock.
 */
final class BlockBurst {
  private final long bytes;
  private final Chunks held = new Chunks();
  private long first; // the stream position of held's first byte
  private boolean closed;
  private final UserChunk view = new UserChunk();

  BlockBurst(long bytes) {
    this.bytes = bytes;
  }

  /** Keeps chunk {@code c} (it continues the stream after what is held), dropping the oldest. */
  void keep(Chunk c) throws IOException {
    if (bytes == 0 || closed || c.length == 0) {
      return;
    }
    if (held.isEmpty() || c.position != first + held.length()) {
      held.release(); // nothing held, or not contiguous: the burst starts again here
      first = c.position;
    }
    c.retainTo(0, c.length, held);
    while (held.length() - held.length(0) >= bytes) {
      first += held.length(0);
      held.removeFirst().release();
    }
  }

  /** The first position a sink can start at: the last {@code bytes} bytes before {@code live}. */
  long start(long live) {
    return held.isEmpty() ? live : Math.max(first, live - bytes);
  }

  /** Delivers every held piece that ends after {@code start} to {@code s}. */
  void give(Sink s, long start) {
    long at = first;
    int n = held.count();
    for (int k = 0; k < n && !closed; k++) {
      int len = held.length(k);
      if (at + len > start) {
        view.blocks.accept(held.block(k).retain(), held.offset(k), len);
        view.position = at;
        view.length = len;
        try {
          s.deliverFrom(view, start);
        } finally {
          view.blocks.release();
        }
      }
      at += len;
    }
  }

  void close() {
    closed = true;
    held.release();
  }
}
