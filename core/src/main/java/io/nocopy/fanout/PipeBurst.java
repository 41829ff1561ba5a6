package io.nocopy.fanout;

import io.nocopy.internal.linux.KernelPipe;
import io.nocopy.internal.linux.Syscalls;
import java.io.IOException;

/**
 * The kernel transport's burst: a pipe holding the last {@code bytes} of the stream, tee'd from
 * each chunk like a sink's copy and trimmed from its head. A new sink gets it as one chunk (from
 * its start position on), tee'd into the sink's pipe; the burst pipe keeps its bytes. Under the
 * fan-out's delivery lock.
 *
 * <p>The pipe is sized to the burst plus one chunk (the chunk is tee'd before the trim). The
 * kernel counts pipe capacity in pages, and small chunks use a page each: when a chunk does not
 * fit, the burst starts afresh from the next chunk rather than keep a hole.
 */
final class PipeBurst {
  private final KernelTransport transport;
  private final long bytes;
  private final KernelPipe pipe; // null without a burst
  private final KernelChunk view;
  private long held;
  private boolean closed;

  PipeBurst(KernelTransport transport, long bytes, long chunkMax) throws IOException {
    this.transport = transport;
    this.bytes = bytes;
    this.view = new KernelChunk(transport);
    if (bytes == 0) {
      this.pipe = null;
      return;
    }
    Syscalls sc = transport.lockedSc();
    KernelPipe p = KernelPipe.open(sc);
    try {
      long want = bytes + chunkMax;
      if (p.capacity() < want) {
        p.resize(sc, (int) want);
      }
    } catch (IOException | RuntimeException e) {
      p.close();
      throw e;
    }
    this.pipe = p;
  }

  /** Bytes held: the burst is {@code [bytesIn - held, bytesIn)}. */
  long held() {
    return closed ? 0 : held;
  }

  void keep(KernelChunk c) throws IOException {
    if (pipe == null || closed) {
      return;
    }
    Syscalls sc = transport.lockedSc();
    long t = sc.tee(c.fd, pipe.w.fd, c.length, Syscalls.SPLICE_F_NONBLOCK);
    if (t != c.length) {
      KernelTransport.discard(sc, pipe.r.fd, held + Math.max(0, t), "burst");
      held = 0;
      return;
    }
    held += c.length;
    if (held > bytes) {
      KernelTransport.discard(sc, pipe.r.fd, held - bytes, "old burst");
      held = bytes;
    }
  }

  void give(Sink s, long start, long live) {
    if (pipe == null || closed || held == 0 || start >= live) {
      return;
    }
    s.deliverFrom(view.set(pipe.r.fd, live - held, held), start);
    view.reset();
  }

  void close() {
    if (!closed) {
      closed = true;
      if (pipe != null) {
        pipe.close();
      }
    }
  }
}
