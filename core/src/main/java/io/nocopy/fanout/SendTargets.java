package io.nocopy.fanout;

import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.GuardedFd;
import io.nocopy.internal.linux.IoUring;
import io.nocopy.internal.linux.Syscalls;
import io.nocopy.internal.linux.Sysconf;
import java.io.IOException;
import java.nio.channels.Channel;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How a fan-out's batched io_uring sends ({@link UringSends}) name each sink's socket: by a slot
 * of the ring's registered file table. The ring holds its own reference to the socket, so a sink
 * needs no second descriptor, the kernel looks no descriptor up per send, and a send in flight
 * keeps its socket even if the caller closes the channel meanwhile.
 *
 * <p>The table has as many slots as the process may open files, at most {@link IoUring#MAX_FILES}
 * (the kernel keeps about 8 bytes per slot: 256 KiB per fan-out at most). A sink's socket goes
 * into a free slot at its first batched send; a sink that finds none, or a ring without a table (a
 * kernel before 5.19), gets a private duplicate of its descriptor instead. Either is guarded
 * ({@link GuardedFd}): the slot is cleared and made free, or the duplicate closed, once the sink's
 * writer has ended and the last send that names it was reaped; until then the table keeps the
 * socket open.
 *
 * <p>{@link #target} on the source thread; a target's guard may be closed, and its slot
 * released, on any thread.
 */
final class SendTargets {
  private static final System.Logger LOG = System.getLogger("io.nocopy.fanout");
  private static final AtomicBoolean TABLE_LOGGED = new AtomicBoolean();

  private final IoUring ring;
  // slots never used start at freshSlot, released ones are stacked
  private final Object lock = new Object();
  private final int tableSlots;
  private int freshSlot;
  private int[] freeSlots = new int[16];
  private int freeCount;

  /**
   * Where one sink's batched sends go: a slot of the ring's file table ({@code fixed}) or a
   * duplicate of its socket's descriptor, guarded so that it is released only after the last send
   * that names it was reaped. Made on the source thread; closed by the sink's writer when it ends.
   */
  static final class Target {
    /** A sink that is not batched (no socket descriptor, or none could be had). */
    static final Target NONE = new Target(null, false);

    final GuardedFd guard;
    final boolean fixed;

    Target(GuardedFd guard, boolean fixed) {
      this.guard = guard;
      this.fixed = fixed;
    }

    /** Releases the slot or closes the duplicate, now or after the send in flight is reaped. */
    void close() {
      if (guard != null) {
        guard.close();
      }
    }
  }

  /**
   * Targets of the sends on {@code ring}, whose file table this registers: a slot for every
   * descriptor the process may open (up to {@link IoUring#MAX_FILES}), fewer if the kernel
   * refuses; none on kernels without sparse tables, whose sinks then use duplicates (logged once).
   */
  SendTargets(IoUring ring) {
    this.ring = ring;
    long limit = Sysconf.openFilesOrMinusOne();
    int n = (int) Math.min(IoUring.MAX_FILES, limit > 0 ? limit : 1024);
    int r;
    while ((r = ring.registerFileTable(n)) == -Syscalls.EMFILE && n > 64) {
      n /= 2;
    }
    if (r != 0 && TABLE_LOGGED.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.INFO, "io_uring has no registered file table here ("
          + Syscalls.describe(-r) + "): each batched listener keeps a second descriptor");
    }
    tableSlots = r == 0 ? n : 0;
  }

  /**
   * Source thread, owning {@code ch}: the target of a sink's batched sends, its socket put into a
   * free slot of the file table, or a duplicate of its descriptor; {@link Target#NONE} if the
   * channel has no descriptor, was closed, or neither could be had.
   */
  Target target(Channel ch) {
    int fd = ChannelFds.fdOf(ch);
    if (fd < 0) {
      return Target.NONE;
    }
    int slot = takeSlot();
    if (slot >= 0) {
      if (ring.setFile(slot, fd) == 0) {
        // The channel marks itself closed before closing its descriptor: open after the update
        // means the slot holds the channel's socket (otherwise perhaps another file: cleared).
        if (ch.isOpen()) {
          return new Target(new GuardedFd(slot, this::releaseSlot), true);
        }
        releaseSlot(slot);
        return Target.NONE;
      }
      releaseSlot(slot);
    }
    GuardedFd d = dup(ch);
    return d == null ? Target.NONE : new Target(d, false);
  }

  private int takeSlot() {
    synchronized (lock) {
      if (freeCount > 0) {
        return freeSlots[--freeCount];
      }
      return freshSlot < tableSlots ? freshSlot++ : -1;
    }
  }

  /** Any thread: clears a slot whose last send was reaped and makes it free again. */
  private void releaseSlot(int slot) {
    if (ring.setFile(slot, -1) != 0) {
      return; // the ring is closed (its table with it)
    }
    synchronized (lock) {
      if (freeCount == freeSlots.length) {
        freeSlots = Arrays.copyOf(freeSlots, freeCount * 2);
      }
      freeSlots[freeCount++] = slot;
    }
  }

  /** Slots of the file table in use now (tests). */
  int slotsInUse() {
    synchronized (lock) {
      return freshSlot - freeCount;
    }
  }

  /** A private duplicate of the channel's socket descriptor, or null if none can be made. */
  private static GuardedFd dup(Channel ch) {
    int d;
    try {
      d = ChannelFds.duplicate(ch, new Syscalls());
    } catch (IOException e) {
      return null; // closed, or out of descriptors
    }
    return d < 0 ? null : new GuardedFd(d);
  }
}
