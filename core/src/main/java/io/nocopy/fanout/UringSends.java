package io.nocopy.fanout;

import io.nocopy.buffer.Slice;
import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.GuardedFd;
import io.nocopy.internal.linux.IoUring;
import io.nocopy.internal.linux.Syscalls;
import java.io.IOException;
import java.nio.channels.Channel;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The userspace transport's direct sends of one chunk, batched: every idle sink's send of the
 * chunk becomes one io_uring SQE, and all of them go to the kernel with one {@code io_uring_enter}
 * instead of one {@code write} each (the system call is about half a listener's cost).
 *
 * <h2>One step</h2>
 *
 * While the source thread delivers a chunk (delivery lock held), {@link #offer} takes each idle
 * sink without hooks: it acquires the sink's channel ({@link Handover#tryAcquire}) and prepares an
 * {@code IORING_OP_SEND} (one region) or {@code SENDMSG} (a chunk over several blocks) with {@code
 * MSG_DONTWAIT} on the writer's private duplicate of the socket's descriptor. After the last sink,
 * {@link #flush} submits them all, reaps every completion and settles each sink exactly as a
 * direct write does: bytes sent are counted, the unsent remainder (a short send, or all of it on
 * {@code EAGAIN}) is queued for the sink's writer, errors are left for the writer to meet on its
 * own write, and the channel is given back. A sink that cannot be batched (a backlog, a chunk of
 * more than {@link IoUring#MAX_IOV} regions, no descriptor yet, a closed channel) is written
 * directly as before. A ring that fills is submitted and settled before the next SQE.
 *
 * <h2>Lifetimes</h2>
 *
 * The chunk's slice stays open until the transport's {@code done}, after {@code flush}: the
 * kernel's reads of it end before the completions are reaped. Each SQE's descriptor is held with
 * {@link GuardedFd#enter} until its completion is reaped, so a writer that ends meanwhile closes
 * the duplicate only after the send (the number is never reused under a send). The ring is opened
 * on the source thread at its first send and closed by {@link #close} on the same thread.
 *
 * <p>If the ring cannot be opened or a submission fails, batching stops for this fan-out (logged
 * once), pending sends are settled as unsent, and every sink is written directly from then on.
 *
 * <p>Source thread only (under the delivery lock), except {@link #dup} (the sink's writer).
 */
final class UringSends {
  private static final System.Logger LOG = System.getLogger("io.nocopy.fanout");
  private static final AtomicBoolean LOGGED = new AtomicBoolean();
  private static final int FLAGS = IoUring.MSG_DONTWAIT | IoUring.MSG_NOSIGNAL;

  private final int entries;
  private IoUring ring;
  private volatile boolean failed;
  private Sink[] sinks = new Sink[16];
  private GuardedFd[] fds = new GuardedFd[16];
  private int pending;
  private Slice slice; // the chunk of the pending sends
  private long length;
  private final long[] addresses = new long[IoUring.MAX_IOV];
  private final int[] lengths = new int[IoUring.MAX_IOV];

  /**
   * Batching for one fan-out, or null where io_uring is not available or socket descriptors cannot
   * be reached (the reason is logged once).
   *
   * @param entries submission slots of the ring: sinks per submission
   */
  static UringSends create(int entries) {
    String why = Fanout.whyNoIoUring();
    if (why != null) {
      logOff(why);
      return null;
    }
    return new UringSends(entries);
  }

  private UringSends(int entries) {
    this.entries = entries;
  }

  private static void logOff(String why) {
    if (LOGGED.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.INFO,
          "io_uring sends are off, the fan-out writes each sink with its own system call: " + why);
    }
  }

  /** Whether sends are batched (false once batching stopped after an error). */
  boolean active() {
    return !failed;
  }

  /**
   * Writer thread: a private duplicate of the channel's socket descriptor for batched sends, or
   * null if the channel has none or duplicating fails (the sink is then written directly).
   */
  static GuardedFd dup(Channel ch) {
    int fd = ChannelFds.fdOf(ch);
    if (fd < 0) {
      return null;
    }
    Syscalls sc = new Syscalls();
    int d;
    try {
      d = sc.dup(fd);
    } catch (IOException e) {
      return null;
    }
    // The channel marks itself closed before closing its descriptor: open after the dup means the
    // duplicate refers to the channel's socket.
    if (!ch.isOpen()) {
      sc.close(d);
      return null;
    }
    return new GuardedFd(d);
  }

  /**
   * Source thread, delivery lock held: takes sink {@code s}'s share of chunk {@code c} (the whole
   * chunk). Returns false if the sink is not idle or has ended (the caller offers as usual); once
   * the sink's channel is acquired this either prepares a batched send or writes directly.
   */
  boolean offer(Sink s, Chunk c) {
    if (failed || !(s.port instanceof UserPort p) || c.length <= 0) {
      return false;
    }
    GuardedFd g = p.sendFd();
    if (g == null || s.handover.stopReason() != null || !s.handover.tryAcquire()) {
      return false;
    }
    Slice sl;
    try {
      sl = c.slice();
    } catch (IOException e) {
      s.offerOwned(c, 0, c.length); // fails the same way there
      return true;
    }
    int regions = sl.nativeRegions(0, c.length, addresses, lengths);
    if (regions < 1 || p.hasBacklog() || !p.channelOpen() || !open()) {
      s.offerOwned(c, 0, c.length);
      return true;
    }
    if (!g.enter()) {
      s.offerOwned(c, 0, c.length);
      return true;
    }
    if (pending > 0 && slice != sl) {
      flush(); // another chunk's sends (never within one step, but keep each batch one chunk)
    }
    if (!prepare(g.fd, regions)) {
      flush(); // the ring is full: settle what it holds, then this one has room
      if (failed || !prepare(g.fd, regions)) {
        g.exit();
        s.offerOwned(c, 0, c.length);
        return true;
      }
    }
    if (pending == sinks.length) {
      sinks = Arrays.copyOf(sinks, pending * 2);
      fds = Arrays.copyOf(fds, pending * 2);
    }
    sinks[pending] = s;
    fds[pending] = g;
    pending++;
    slice = sl;
    length = c.length;
    return true;
  }

  private boolean prepare(int fd, int regions) {
    long userData = pending;
    return regions == 1
        ? ring.prepareSend(fd, addresses[0], lengths[0], FLAGS, userData)
        : ring.prepareSendv(fd, addresses, lengths, regions, FLAGS, userData);
  }

  /** Opens the ring on first use (on the source thread: the ring's single issuer). */
  private boolean open() {
    if (ring != null) {
      return true;
    }
    try {
      ring = IoUring.open(entries);
      return true;
    } catch (IOException | RuntimeException e) {
      stop("opening the ring failed: " + e.getMessage());
      return false;
    }
  }

  /**
   * Source thread, delivery lock held, after every sink was offered the chunk: submits the
   * prepared sends in one system call, reaps every completion and settles each sink.
   */
  void flush() {
    int n = pending;
    if (n == 0) {
      return;
    }
    int r;
    do {
      r = ring.submitAndWait(n);
    } while (r == -Syscalls.EINTR);
    if (r != n) {
      // SUBMIT_ALL consumes every SQE; anything else leaves sends the kernel may still issue
      // later, after their remainders were queued: give the ring up before settling
      stop("io_uring_enter returned " + (r < 0 ? Syscalls.describe(-r) : r + " of " + n));
      for (int i = 0; i < n; i++) {
        settle(i, 0);
      }
    } else {
      int reaped = 0;
      while (reaped < n) {
        if (ring.nextCompletion()) {
          int res = ring.result();
          settle((int) ring.userData(), res > 0 ? res : 0);
          reaped++;
        } else {
          r = ring.submitAndWait(n - reaped); // completions not posted yet: wait for them
          if (r < 0 && r != -Syscalls.EINTR) {
            stop("waiting for completions failed: " + Syscalls.describe(-r));
            for (int i = 0; i < n; i++) {
              if (sinks[i] != null) {
                settle(i, 0);
              }
            }
            break;
          }
        }
      }
    }
    pending = 0;
    slice = null;
  }

  /**
   * One sink's send completed with {@code sent} bytes: the descriptor is released, the remainder
   * queued and the channel given back. Errors count as nothing sent; the writer meets them.
   */
  private void settle(int i, long sent) {
    Sink s = sinks[i];
    sinks[i] = null;
    fds[i].exit();
    fds[i] = null;
    s.released(((UserPort) s.port).wrote(slice, 0, length, sent, s));
  }

  private void stop(String why) {
    failed = true;
    LOG.log(System.Logger.Level.WARNING, "io_uring sends stop for this fan-out: " + why);
    if (ring != null) {
      ring.close();
    }
  }

  /** Source thread, after its last step: closes the ring. */
  void close() {
    if (ring != null && !failed) {
      ring.close();
    }
    ring = null;
  }
}
