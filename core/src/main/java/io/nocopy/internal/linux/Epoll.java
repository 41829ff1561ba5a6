package io.nocopy.internal.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * A private epoll instance ({@code epoll_create1}, {@code epoll_ctl}, {@code epoll_wait} as FFM
 * downcalls) for one thread that serves several descriptors, the way an event loop such as
 * HAProxy's does: descriptors are registered once, edge-triggered, asking only for the events the
 * loop is blocked on ({@link #modify} when that changes), and one wait covers all of them.
 *
 * <h2>Edge-triggered contract</h2>
 *
 * A registered descriptor reports an event when it becomes readable or writable after the last
 * report (new data arrived, buffer space was freed, the peer hung up). The caller must therefore
 * wait only after the operations it is blocked on returned {@code EAGAIN}; an event that arrives
 * between that {@code EAGAIN} and the wait stays queued and ends the wait at once.
 *
 * <h2>Waiting</h2>
 *
 * {@link #waitFor(int)} blocks the calling thread in the kernel: for platform threads. A virtual
 * thread parks instead through {@link ChannelFds#await} on {@link #fd()} (an epoll descriptor is
 * readable while events are queued) and then collects the events with {@code waitFor(0)}.
 *
 * <h2>Ownership and threads</h2>
 *
 * The creator owns the instance and closes it once ({@link #close()}); registered descriptors stay
 * their owners' (closing one removes it from the set). Not thread-safe: one thread uses it. Errors
 * come back as {@code -errno} (EINTR from a wait) or as {@link IOException}s naming the call.
 */
public final class Epoll implements AutoCloseable {
  /** {@code EPOLLIN}. */
  public static final int EPOLLIN = 0x001;
  /** {@code EPOLLOUT}. */
  public static final int EPOLLOUT = 0x004;
  /** {@code EPOLLRDHUP}: the peer shut its writing half down. */
  public static final int EPOLLRDHUP = 0x2000;
  /** {@code EPOLLERR | EPOLLHUP}: an error or a hang-up; both directions should be retried. */
  public static final int ERROR = 0x008 | 0x010;
  /** {@code EPOLLRDHUP | EPOLLHUP | EPOLLERR}: reading will not block (end of stream or error). */
  public static final int READ_END = EPOLLRDHUP | ERROR;
  /** {@code EPOLLET}: edge-triggered. */
  public static final int EPOLLET = 1 << 31;

  private static final int EPOLL_CTL_ADD = 1;
  private static final int EPOLL_CTL_MOD = 3;
  private static final int EPOLL_CLOEXEC = 0x80000;
  private static final int MAX_EVENTS = 8;

  /** {@code struct epoll_event} is packed on x86_64 (12 bytes), naturally aligned elsewhere (16). */
  private static final boolean PACKED;

  private static final long EVENT_SIZE;
  private static final long DATA_OFFSET;

  private static final StructLayout CAPTURE = Syscalls.CAPTURE;
  private static final VarHandle ERRNO = Syscalls.ERRNO;

  private static final MethodHandle CREATE;
  private static final MethodHandle CTL;
  private static final MethodHandle WAIT;
  private static final MethodHandle CLOSE;

  static {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    PACKED = arch.equals("amd64") || arch.equals("x86_64");
    EVENT_SIZE = PACKED ? 12 : 16;
    DATA_OFFSET = PACKED ? 4 : 8;
    MethodHandle create = null, ctl = null, wait = null, close = null;
    if (Syscalls.available()) {
      Linker linker = Linker.nativeLinker();
      SymbolLookup libc = linker.defaultLookup();
      Linker.Option errno = Linker.Option.captureCallState("errno");
      ValueLayout I = ValueLayout.JAVA_INT;
      ValueLayout P = ValueLayout.ADDRESS;
      create =
          linker.downcallHandle(
              libc.findOrThrow("epoll_create1"), FunctionDescriptor.of(I, I), errno);
      ctl =
          linker.downcallHandle(
              libc.findOrThrow("epoll_ctl"), FunctionDescriptor.of(I, I, I, I, P), errno);
      wait =
          linker.downcallHandle(
              libc.findOrThrow("epoll_wait"), FunctionDescriptor.of(I, I, P, I, I), errno);
      close = linker.downcallHandle(libc.findOrThrow("close"), FunctionDescriptor.of(I, I), errno);
    }
    CREATE = create;
    CTL = ctl;
    WAIT = wait;
    CLOSE = close;
  }

  private final int epfd;
  private final MemorySegment state;
  private final MemorySegment events;
  private boolean closed;

  private Epoll(int epfd, MemorySegment state, MemorySegment events) {
    this.epfd = epfd;
    this.state = state;
    this.events = events;
  }

  /**
   * {@code epoll_create1(EPOLL_CLOEXEC)}.
   *
   * @return a new, empty instance owned by the caller
   * @throws IOException if the kernel refuses (EMFILE, ENFILE, ENOMEM)
   * @throws UnsupportedOperationException if {@link Syscalls#available()} is false
   */
  public static Epoll open() throws IOException {
    if (CREATE == null) {
      throw new UnsupportedOperationException(
          "Linux syscalls unavailable: " + Syscalls.unavailableReason());
    }
    Arena arena = Arena.ofAuto();
    MemorySegment state = arena.allocate(CAPTURE);
    MemorySegment events = arena.allocate(EVENT_SIZE * MAX_EVENTS, 8);
    int fd;
    try {
      fd = (int) CREATE.invokeExact(state, EPOLL_CLOEXEC);
    } catch (Throwable t) {
      throw Syscalls.rethrow(t);
    }
    if (fd < 0) {
      throw Syscalls.exception("epoll_create1", (int) ERRNO.get(state, 0L));
    }
    return new Epoll(fd, state, events);
  }

  /**
   * The epoll descriptor itself (readable while events are queued), for a virtual thread's wait
   * through {@link ChannelFds#await}. Valid until {@link #close()}.
   *
   * @return the descriptor
   */
  public int fd() {
    return epfd;
  }

  /**
   * Registers {@code fd} edge-triggered for {@code events} (any of {@code EPOLLIN | EPOLLOUT |
   * EPOLLRDHUP}, possibly none: errors and hang-ups are always reported; {@link #EPOLLET} is
   * added).
   *
   * @param fd a descriptor the caller keeps open while it is registered
   * @param events the event mask
   * @throws IOException if {@code epoll_ctl} fails (EPERM for a regular file, EEXIST)
   */
  public void add(int fd, int events) throws IOException {
    ctl(EPOLL_CTL_ADD, fd, events);
  }

  /**
   * Changes what a registered descriptor reports ({@code EPOLL_CTL_MOD}). If the descriptor is
   * already ready for a newly asked event, that event is queued at once, so asking for readiness
   * after an {@code EAGAIN} never misses bytes or room that came in between.
   *
   * @param fd a descriptor registered with {@link #add}
   * @param events the new event mask ({@link #EPOLLET} is added)
   * @throws IOException if {@code epoll_ctl} fails
   */
  public void modify(int fd, int events) throws IOException {
    ctl(EPOLL_CTL_MOD, fd, events);
  }

  private void ctl(int op, int fd, int events) throws IOException {
    MemorySegment ev = this.events;
    ev.set(ValueLayout.JAVA_INT, 0, events | EPOLLET);
    ev.set(ValueLayout.JAVA_INT_UNALIGNED, DATA_OFFSET, fd);
    ev.set(ValueLayout.JAVA_INT_UNALIGNED, DATA_OFFSET + 4, 0);
    int r;
    try {
      r = (int) CTL.invokeExact(state, epfd, op, fd, ev);
    } catch (Throwable t) {
      throw Syscalls.rethrow(t);
    }
    if (r != 0) {
      throw Syscalls.exception(
          "epoll_ctl(" + (op == EPOLL_CTL_ADD ? "ADD" : "MOD") + ", " + fd + ")",
          (int) ERRNO.get(state, 0L));
    }
  }

  /**
   * {@code epoll_wait}: collects the queued events (up to 8) and returns how many there were,
   * blocking up to {@code timeoutMs} when none are queued (0: never blocks). Which descriptors were
   * ready is not reported: the caller retries all of its operations.
   *
   * @param timeoutMs the most to wait in milliseconds; 0 returns at once
   * @return the number of events collected (0 on timeout), or {@code -errno} (EINTR on a signal)
   */
  public int waitFor(int timeoutMs) {
    int r;
    try {
      r = (int) WAIT.invokeExact(state, epfd, events, MAX_EVENTS, timeoutMs);
    } catch (Throwable t) {
      throw Syscalls.rethrow(t);
    }
    return r >= 0 ? r : -(int) ERRNO.get(state, 0L);
  }

  /**
   * The descriptor of event {@code i} of the last {@link #waitFor} (as registered by {@link #add}).
   *
   * @param i 0 up to the last wait's result, exclusive
   * @return the descriptor
   */
  public int eventFd(int i) {
    return events.get(ValueLayout.JAVA_INT_UNALIGNED, i * EVENT_SIZE + DATA_OFFSET);
  }

  /**
   * The event mask ({@code EPOLLIN}, {@code EPOLLOUT}, {@link #ERROR} bits...) of event {@code i} of
   * the last {@link #waitFor}.
   *
   * @param i 0 up to the last wait's result, exclusive
   * @return the mask
   */
  public int eventMask(int i) {
    return events.get(ValueLayout.JAVA_INT_UNALIGNED, i * EVENT_SIZE);
  }

  /** Closes the epoll descriptor (idempotent); registered descriptors are not closed. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      try {
        int ignored = (int) CLOSE.invokeExact(state, epfd);
      } catch (Throwable t) {
        throw Syscalls.rethrow(t);
      }
    }
  }
}
