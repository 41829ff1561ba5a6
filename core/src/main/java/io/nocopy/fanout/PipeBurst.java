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
 * <h2>Pages</h2>
 *
 * A pipe holds at most capacity / 4096 buffers, and a tee'd chunk takes at least one whole buffer
 * (one per socket segment it came in), however few bytes it carries. A slow stream moves in small
 * chunks (128 kbit/s coalesced over 50 ms: about 800 bytes), so tee'd chunks fill the buffers long
 * before the burst's bytes: the burst would hold a few KiB. So the first time a chunk does not
 * fit, the burst switches for good to writing chunks below {@value #COPY_BELOW} bytes into the
 * pipe from the transport's source copy (one read per chunk for the whole fan-out, {@link
 * KernelTransport#sourceCopy}): written bytes merge into full pages, so the burst then holds its
 * bytes in about bytes / 4096 buffers. Larger chunks, and every chunk of a stream whose tees fit
 * (fast streams, where a copy would cost), are tee'd.
 *
 * <p>The pipe is sized to twice the burst plus one chunk where the system allows (room for tee'd
 * chunks' partly filled buffers), else the burst plus one chunk. When a chunk still does not fit,
 * the burst starts afresh from the next chunk rather than keep a hole.
 */
final class PipeBurst {
  /** Chunks smaller than this are copied into the burst pipe rather than tee'd (see above). */
  static final int COPY_BELOW = 16 << 10;
  private final KernelTransport transport;
  private final long bytes;
  private final KernelPipe pipe; // null without a burst
  private final KernelChunk view;
  private long held;
  private boolean copying; // small chunks are written, not tee'd (see above)
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
      if (p.capacity() < 2 * want) {
        try {
          p.resize(sc, (int) Math.min(Integer.MAX_VALUE, 2 * want));
        } catch (IOException overTheLimit) {
          if (p.capacity() < want) {
            p.resize(sc, (int) want);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      p.close();
      throw e;
    }
    this.pipe = p;
  }

  /** The burst pipe's capacity (0 without a burst): a pipe that takes its buffers needs as much. */
  int capacity() {
    return pipe == null ? 0 : pipe.capacity();
  }

  /** Bytes held: the burst is {@code [bytesIn - held, bytesIn)}. */
  long held() {
    return closed ? 0 : held;
  }

  /** Source thread, delivery lock held: adds the chunk, trims the oldest bytes beyond the burst. */
  void keep(KernelChunk c) throws IOException {
    if (pipe == null || closed) {
      return;
    }
    Syscalls sc = transport.lockedSc();
    long t;
    if (copying && c.length < COPY_BELOW) {
      t = sc.write(pipe.w.fd, transport.sourceCopy(c), c.length);
    } else {
      t = sc.tee(c.fd, pipe.w.fd, c.length, Syscalls.SPLICE_F_NONBLOCK);
    }
    if (t != c.length) {
      KernelTransport.discard(sc, pipe.r.fd, held + Math.max(0, t), "burst");
      held = 0;
      copying = true; // the pipe's buffers ran out before its bytes
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
