package io.nocopy.fanout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The share of the user's pipe page budget that this process's kernel sinks may hold together.
 *
 * <p>Linux counts every pipe's pages against its user: beyond {@code
 * /proc/sys/fs/pipe-user-pages-soft} (16384 pages, 64 MiB, by default) a process without {@code
 * CAP_SYS_RESOURCE} gets one-page pipes and cannot grow them. Left alone, a fan-out's listeners
 * would spend all of it, and a source connecting then would find no room for its staging and burst
 * pipes. So kernel sinks take at most three quarters of the soft limit (the rest stays for the
 * fan-outs' own pipes); a sink beyond it, unless it asked for the kernel transport, is served on the
 * userspace transport instead. With {@code CAP_SYS_RESOURCE}, or without a soft limit, there is no
 * budget.
 *
 * <p>Thread-safe: sinks take and give back bytes from any thread. One instance per process ({@link
 * #user()}), also shared by every fan-out; the user's other processes are not seen, so a refused
 * resize still falls back on its own (see {@link KernelTransport#newPort}).
 */
final class PipeBudget {
  static final int PAGE = 4096;
  private static final int CAP_SYS_RESOURCE = 24;
  private static volatile PipeBudget user;

  private final long limit;
  private final AtomicLong used = new AtomicLong();

  /**
   * A budget of {@code limit} bytes.
   *
   * @param limit the bytes kernel sink pipes may hold together; {@link Long#MAX_VALUE} for none
   */
  PipeBudget(long limit) {
    this.limit = limit;
  }

  /** The process's budget, read from the system on first use. */
  static PipeBudget user() {
    PipeBudget b = user;
    if (b == null) {
      synchronized (PipeBudget.class) {
        b = user;
        if (b == null) {
          b = user = new PipeBudget(forSinks(softPages(), hasCapSysResource()));
        }
      }
    }
    return b;
  }

  /**
   * Replaces the process's budget (tests that need a small one); returns the previous one.
   *
   * @param b the new budget
   * @return the one it replaces
   */
  static PipeBudget replaceUser(PipeBudget b) {
    synchronized (PipeBudget.class) {
      PipeBudget old = user();
      user = b;
      return old;
    }
  }

  /**
   * The sinks' share for a soft limit.
   *
   * @param softPages {@code pipe-user-pages-soft}; 0 or less for none
   * @param privileged whether the process has {@code CAP_SYS_RESOURCE}
   * @return bytes, or {@link Long#MAX_VALUE} for no budget
   */
  static long forSinks(long softPages, boolean privileged) {
    return privileged || softPages <= 0 ? Long.MAX_VALUE : softPages * PAGE / 4 * 3;
  }

  /**
   * The bytes a pipe of {@code bytes} is charged: the kernel rounds a pipe to a power of two pages.
   *
   * @param bytes the pipe's size
   * @return the charged size
   */
  static long charge(long bytes) {
    long pages = Math.max(1, (bytes + PAGE - 1) / PAGE);
    long pow2 = Long.bitCount(pages) == 1 ? pages : Long.highestOneBit(pages) << 1;
    return pow2 * PAGE;
  }

  /**
   * Takes {@code bytes} if they fit.
   *
   * @param bytes the pipe's charge
   * @return false if they do not (nothing taken)
   */
  boolean take(long bytes) {
    long u;
    do {
      u = used.get();
      if (limit - u < bytes) {
        return false;
      }
    } while (!used.compareAndSet(u, u + bytes));
    return true;
  }

  /** Takes {@code bytes} whether they fit or not (a sink that must be a kernel sink). */
  void force(long bytes) {
    used.addAndGet(bytes);
  }

  /** Gives back what {@link #take} or {@link #force} took. */
  void give(long bytes) {
    used.addAndGet(-bytes);
  }

  /** Bytes held by kernel sink pipes now. */
  long used() {
    return used.get();
  }

  /** The limit, {@link Long#MAX_VALUE} for none. */
  long limit() {
    return limit;
  }

  private static long softPages() {
    try {
      // readAllLines: sysctl files report a length of 0
      return Long.parseLong(Files.readAllLines(Path.of("/proc/sys/fs/pipe-user-pages-soft")).get(0).strip());
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static boolean hasCapSysResource() {
    try {
      List<String> status = Files.readAllLines(Path.of("/proc/self/status"));
      for (String line : status) {
        if (line.startsWith("CapEff:")) {
          long caps = Long.parseUnsignedLong(line.substring(7).strip(), 16);
          return (caps & (1L << CAP_SYS_RESOURCE)) != 0;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or not readable: assume unprivileged
    }
    return false;
  }
}
