package io.nocopy.pipe;

import io.nocopy.internal.linux.KernelPipe;
import io.nocopy.internal.linux.Syscalls;
import java.io.IOException;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * A bounded pool of idle kernel pipes for {@link Transfer}, each with its own syscall scratch.
 *
 * <p>At most {@link #MAX_IDLE} pipes wait idle; a lease released when the pool is full is closed.
 * A pipe released with bytes still in it (a transfer that failed between its two splices) is
 * closed, never reused: the next transfer would otherwise send someone else's bytes.
 *
 * <p>Thread safety: any thread may acquire and release; a lease belongs to one thread between.
 */
final class PipePool {
  static final int MAX_IDLE = 32;

  /**
   * Capacity asked for each pooled pipe ({@code nocopy.pipe.size}, default 1 MiB, HAProxy's
   * {@code tune.pipesize} of the comparison): fewer, larger splices. Best effort: a refusal (above
   * {@code /proc/sys/fs/pipe-max-size}, or over the user's pipe page budget) keeps the kernel's
   * default. Pages are only held while bytes are in flight.
   */
  static final int PIPE_SIZE = Integer.getInteger("nocopy.pipe.size", 1 << 20);

  /** A pooled pipe and the scratch of whoever holds it. */
  static final class Lease {
    final KernelPipe pipe;
    final Syscalls sc;

    Lease(KernelPipe pipe, Syscalls sc) {
      this.pipe = pipe;
      this.sc = sc;
    }
  }

  private static final ArrayBlockingQueue<Lease> IDLE = new ArrayBlockingQueue<>(MAX_IDLE);

  private PipePool() {}

  static Lease acquire() throws IOException {
    Lease l = IDLE.poll();
    if (l != null) {
      return l;
    }
    Syscalls sc = new Syscalls();
    KernelPipe p = KernelPipe.open(sc);
    p.tryResize(sc, PIPE_SIZE);
    return new Lease(p, sc);
  }

  /**
   * Returns a lease.
   *
   * @param empty whether the caller knows the pipe holds no bytes
   */
  static void release(Lease l, boolean empty) {
    if (!empty || !IDLE.offer(l)) {
      l.pipe.close();
    }
  }

  /** Idle pipes now (tests). */
  static int idle() {
    return IDLE.size();
  }

  /** Closes every idle pipe (tests count descriptors after this). */
  static void drain() {
    Lease l;
    while ((l = IDLE.poll()) != null) {
      l.pipe.close();
    }
  }
}
