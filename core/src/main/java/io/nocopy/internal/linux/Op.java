package io.nocopy.internal.linux;

import java.io.IOException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.function.BooleanSupplier;

/**
 * The state of one running operation (a transfer, a pipe's read or write loop, a fan-out worker):
 * its syscall scratch, the channels and pipe ends whose close ends it, and the readiness wait.
 *
 * <h2>Closing and interrupts</h2>
 *
 * The operation never uses a channel's own descriptor: {@link #dup} makes a private duplicate,
 * after which a concurrent {@code close()} of the channel cannot make the number refer to another
 * file. {@link #check()} runs before every system call and after every wait: an interrupted
 * thread closes the operation's channels (as {@link java.nio.channels.InterruptibleChannel} does)
 * and gets {@link ClosedByInterruptException}; a closed channel or pipe gives {@link
 * AsynchronousCloseException}. Waits park in slices of {@link Accel#WAIT_SLICE_NANOS} at most, so
 * a close by another thread is seen within one slice even though a JDK close does not wake a
 * thread parked on a duplicate descriptor; interrupts and pipe closes wake it at once.
 *
 * <p>Not thread-safe: one thread runs an operation.
 */
public final class Op implements BooleanSupplier {
  /** The operation's syscall scratch. */
  public final Syscalls sc;
  private Channel c1;
  private Channel c2;
  private GuardedFd g1;
  private GuardedFd g2;
  private int fileFd = -1; // a duplicate of a FileChannel's descriptor: epoll refuses regular files

  /**
   * A new operation.
   *
   * @param sc the syscall scratch of the thread running it
   */
  public Op(Syscalls sc) {
    this.sc = sc;
  }

  /**
   * Makes the close of {@code ch} end this operation.
   *
   * @param ch a channel (two at most)
   * @return this
   */
  public Op watch(Channel ch) {
    if (c1 == null) {
      c1 = ch;
    } else {
      c2 = ch;
    }
    return this;
  }

  /**
   * Makes the close of {@code g} end this operation.
   *
   * @param g a guarded descriptor (two at most)
   * @return this
   */
  public Op watch(GuardedFd g) {
    if (g1 == null) {
      g1 = g;
    } else {
      g2 = g;
    }
    return this;
  }

  /**
   * A private duplicate of the channel's descriptor, set non-blocking (sockets and pipes), owned
   * by the caller who closes it with {@code sc.close}; or -1 if the channel has none.
   *
   * @param ch the channel
   * @return the duplicate, or -1
   * @throws IOException if duplicating fails
   * @throws ClosedChannelException if the channel is closed
   */
  public int dup(Channel ch) throws IOException {
    int d = ChannelFds.duplicate(ch, sc);
    if (d < 0) {
      return -1;
    }
    if (ch instanceof FileChannel) {
      fileFd = d;
    } else {
      try {
        sc.setNonBlocking(d);
      } catch (IOException e) {
        sc.close(d);
        throw e;
      }
    }
    return d;
  }

  /**
   * Whether {@code fd} can be waited on: false for a duplicate of a file's descriptor (regular files
   * are always ready and {@code epoll_ctl} refuses them with EPERM).
   *
   * @param fd a descriptor
   * @return whether it can be waited on
   */
  public boolean pollable(int fd) {
    return fd != fileFd;
  }

  /** Still wanted: not interrupted, nothing watched closed. Used by the poller after registering. */
  @Override
  public boolean getAsBoolean() {
    return !Thread.currentThread().isInterrupted()
        && (c1 == null || c1.isOpen())
        && (c2 == null || c2.isOpen())
        && (g1 == null || !g1.closed())
        && (g2 == null || !g2.closed());
  }

  /**
   * Throws if the operation must end.
   *
   * @throws ClosedByInterruptException if the thread is interrupted (its channels are closed)
   * @throws IOException as below
   * @throws ClosedByInterruptException if the thread is interrupted
   * @throws AsynchronousCloseException if a watched channel or pipe end was closed
   */
  public void check() throws IOException {
    if (Thread.currentThread().isInterrupted()) {
      closeQuietly(c1);
      closeQuietly(c2);
      throw new ClosedByInterruptException();
    }
    if ((c1 != null && !c1.isOpen())
        || (c2 != null && !c2.isOpen())
        || (g1 != null && g1.closed())
        || (g2 != null && g2.closed())) {
      throw new AsynchronousCloseException();
    }
  }

  /**
   * Waits until {@code fd} is ready for {@code event} (or a slice passes), checking before and
   * after. A virtual thread parks through the JDK's poller and unmounts; a platform thread blocks
   * in poll(2) itself, which the kernel wakes directly (no poller thread, no unpark: about half the
   * context switches per wait); a close or interrupt reaches it within the slice.
   *
   * @param fd the descriptor
   * @param event {@code POLLIN} or {@code POLLOUT}
   * @throws IOException as {@link #check()}
   */
  public void await(int fd, int event) throws IOException {
    check();
    if (Thread.currentThread().isVirtual()) {
      ChannelFds.await(fd, event, Native.WAIT_SLICE_NANOS, this);
    } else {
      int r = sc.poll(fd, event, (int) (Native.WAIT_SLICE_NANOS / 1_000_000));
      if (r < 0 && r != -Syscalls.EINTR) {
        throw Syscalls.exception("poll", -r);
      }
    }
    check();
  }

  /**
   * Waits until any descriptor of {@code ep} reports an event (or a slice passes), checking before
   * and after. A platform thread blocks in {@code epoll_wait}; a virtual thread first collects
   * events already queued, and only if there are none parks on the epoll descriptor through the
   * JDK's poller (unmounting), then collects what woke it so the set is quiet for the next wait.
   *
   * @return the number of events collected (read them with {@link Epoll#eventFd}), 0 when a slice
   *     passed or a signal interrupted the wait
   * @param ep the epoll set
   * @throws IOException as {@link #check()}, or if epoll_wait fails
   */
  public int await(Epoll ep) throws IOException {
    check();
    int r;
    if (Thread.currentThread().isVirtual()) {
      r = ep.waitFor(0);
      if (r == 0) {
        ChannelFds.await(ep.fd(), ChannelFds.POLLIN, Native.WAIT_SLICE_NANOS, this);
        r = ep.waitFor(0);
      }
    } else {
      r = ep.waitFor((int) (Native.WAIT_SLICE_NANOS / 1_000_000));
    }
    if (r < 0 && r != -Syscalls.EINTR) {
      throw Syscalls.exception("epoll_wait", -r);
    }
    check();
    return Math.max(r, 0);
  }

  /**
   * Closes a channel, ignoring errors.
   *
   * @param ch the channel, or null
   */
  public static void closeQuietly(Channel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing on interrupt: the interrupt is what gets reported
      }
    }
  }

  /**
   * Converts a failed call's errno into the exception to throw.
   *
   * @param call what was called
   * @param negErrno the call's negative result
   * @return the exception
   */
  public static IOException failure(String call, long negErrno) {
    int errno = (int) -negErrno;
    if (errno == Syscalls.EPIPE) {
      return new IOException("Broken pipe: the reader closed its end (" + call + ")");
    }
    if (errno == Syscalls.ECONNRESET) {
      return new IOException("Connection reset by peer (" + call + ")");
    }
    return Syscalls.exception(call, errno);
  }
}
