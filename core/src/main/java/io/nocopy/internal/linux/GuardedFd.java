package io.nocopy.internal.linux;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A native descriptor (or a ring's file slot) that several threads may use while one of them
 * closes it, without any of them ever touching a closed (and possibly reused) number.
 *
 * <p>State is one int: {@code 2 * users + closedBit}, or {@code -1} once the descriptor is really
 * closed. {@link #enter()} adds a user unless the closed bit is set; {@link #close()} sets the bit;
 * whoever brings the state to exactly {@code 1} (closed, no users) swaps it to {@code -1} and
 * calls close(2). So a close requested during a splice happens after that splice returns.
 */
public final class GuardedFd {
  /** The descriptor; use it only between a successful {@link #enter()} and {@link #exit()}. */
  public final int fd;
  private final AtomicInteger state = new AtomicInteger();
  private final IntConsumer closer;

  /**
   * Guards {@code fd}, which this object now owns and closes.
   *
   * @param fd an open descriptor
   */
  public GuardedFd(int fd) {
    this(fd, d -> new Syscalls().close(d));
  }

  /**
   * Guards {@code fd}, a descriptor or any number naming a resource that must not be reused while
   * in use (a slot of an io_uring's file table), and hands it to {@code closer} once, when it is
   * closed and no user is left.
   *
   * @param fd the number
   * @param closer releases it; runs on the thread of the last {@link #exit()} or of {@link
   *     #close()}
   */
  public GuardedFd(int fd, IntConsumer closer) {
    this.fd = fd;
    this.closer = closer;
  }

  /**
   * Becomes a user.
   *
   * @return false if the descriptor is closed or closing (then do not use it)
   */
  public boolean enter() {
    while (true) {
      int s = state.get();
      if ((s & 1) != 0 || s < 0) {
        return false;
      }
      if (state.compareAndSet(s, s + 2)) {
        return true;
      }
    }
  }

  /** Stops being a user; closes the descriptor if a close was requested and this was the last. */
  public void exit() {
    if (state.addAndGet(-2) == 1 && state.compareAndSet(1, -1)) {
      closer.accept(fd);
    }
  }

  /** Requests the close: immediate without users, otherwise done by the last {@link #exit()}. */
  public void close() {
    while (true) {
      int s = state.get();
      if ((s & 1) != 0 || s < 0) {
        return;
      }
      if (state.compareAndSet(s, s | 1)) {
        if (s == 0 && state.compareAndSet(1, -1)) {
          closer.accept(fd);
        }
        return;
      }
    }
  }

  /**
   * Whether a close was requested.
   *
   * @return true once {@link #close()} was called
   */
  public boolean closed() {
    int s = state.get();
    return (s & 1) != 0 || s < 0;
  }
}
