package io.nocopy.internal.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * The Linux system calls behind nocopy's pipes, as FFM downcalls: {@code pipe2}, {@code splice},
 * {@code tee}, {@code fcntl} (linked as variadic), {@code read}, {@code write}, {@code ioctl}
 * ({@code FIONREAD}) and {@code close}.
 *
 * <h2>Errors</h2>
 *
 * Every call is linked with {@link Linker.Option#captureCallState(String...)} for {@code errno};
 * no call is linked {@code critical} (splice and tee may run long). Methods return the call's
 * result when it is not negative and {@code -errno} when the call returned -1, so the hot paths
 * (EAGAIN) never throw or allocate. {@code errno} is read only when the call returned -1. The calls
 * that move bytes ({@code splice}, {@code tee}, {@code read}, {@code write}) retry themselves
 * while a signal interrupts them (EINTR), so callers never see EINTR from them; {@code poll} returns
 * it (its caller decides whether to wait again).
 *
 * <h2>Ownership and threads</h2>
 *
 * An instance owns one small native scratch area for the captured {@code errno}; it is not
 * thread-safe: one instance per thread of control (a transfer, one direction of a pipe). The
 * scratch is freed by the garbage collector with the instance. File descriptors passed in are the
 * caller's; no method here closes one except {@link #close(int)}.
 *
 * <p>Available only on Linux (x86_64, aarch64) with native access enabled; see {@link
 * #available()} and {@link #unavailableReason()}.
 */
public final class Syscalls {
  /** {@code EINTR}: interrupted system call; retry. */
  public static final int EINTR = 4;
  /** {@code EAGAIN}: would block. */
  public static final int EAGAIN = 11;
  /** {@code EBADF}: bad file descriptor. */
  public static final int EBADF = 9;
  /** {@code EPERM}: operation not permitted. */
  public static final int EPERM = 1;
  /** {@code EINVAL}: invalid argument (for splice: an fd type that cannot splice). */
  public static final int EINVAL = 22;
  /** {@code EPIPE}: the reading end is closed. */
  public static final int EPIPE = 32;
  /** {@code ECONNRESET}: connection reset by peer. */
  public static final int ECONNRESET = 104;
  /** {@code EBUSY}: resource busy (F_SETPIPE_SZ below the data held). */
  public static final int EBUSY = 16;
  /** {@code EMFILE}: the process's open-file limit is reached. */
  public static final int EMFILE = 24;

  /** {@code SPLICE_F_MOVE}: a hint to move pages instead of copying. */
  public static final int SPLICE_F_MOVE = 1;
  /** {@code SPLICE_F_NONBLOCK}: do not block on the pipe. */
  public static final int SPLICE_F_NONBLOCK = 2;
  /** {@code SPLICE_F_MORE}: more data will follow (a hint to sockets). */
  public static final int SPLICE_F_MORE = 4;

  /** {@code O_NONBLOCK} (asm-generic value, shared by x86_64 and aarch64). */
  public static final int O_NONBLOCK = 0x800;
  /** {@code O_CLOEXEC} (asm-generic value, shared by x86_64 and aarch64). */
  public static final int O_CLOEXEC = 0x80000;

  private static final int F_GETFL = 3;
  private static final int F_SETFL = 4;
  private static final int F_DUPFD_CLOEXEC = 1030;
  private static final int F_SETPIPE_SZ = 1031;
  private static final int F_GETPIPE_SZ = 1032;
  private static final long FIONREAD = 0x541B;

  static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  static final VarHandle ERRNO =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

  private static final MethodHandle PIPE2;
  private static final MethodHandle SPLICE;
  private static final MethodHandle TEE;
  private static final MethodHandle FCNTL;
  private static final MethodHandle IOCTL;
  private static final MethodHandle READ;
  private static final MethodHandle WRITE;
  private static final MethodHandle SENDMSG;
  private static final MethodHandle CLOSE;
  private static final MethodHandle POLL;
  private static final String UNAVAILABLE;

  static {
    MethodHandle pipe2 = null, splice = null, tee = null, fcntl = null, ioctl = null;
    MethodHandle read = null, write = null, close = null, poll = null, sendmsg = null;
    String why = null;
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (!os.contains("linux")) {
      why = "not Linux (os.name=" + System.getProperty("os.name") + ")";
    } else if (!arch.equals("amd64") && !arch.equals("x86_64") && !arch.equals("aarch64")) {
      why = "unsupported architecture " + arch;
    } else {
      try {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        ValueLayout I = ValueLayout.JAVA_INT;
        ValueLayout L = ValueLayout.JAVA_LONG;
        ValueLayout P = ValueLayout.ADDRESS;
        pipe2 =
            linker.downcallHandle(
                libc.findOrThrow("pipe2"), FunctionDescriptor.of(I, P, I), errno);
        splice =
            linker.downcallHandle(
                libc.findOrThrow("splice"), FunctionDescriptor.of(L, I, P, I, P, L, I), errno);
        tee =
            linker.downcallHandle(
                libc.findOrThrow("tee"), FunctionDescriptor.of(L, I, I, L, I), errno);
        fcntl =
            linker.downcallHandle(
                libc.findOrThrow("fcntl"),
                FunctionDescriptor.of(I, I, I, I),
                Linker.Option.firstVariadicArg(2),
                errno);
        ioctl =
            linker.downcallHandle(
                libc.findOrThrow("ioctl"),
                FunctionDescriptor.of(I, I, L, P),
                Linker.Option.firstVariadicArg(2),
                errno);
        // The buffer pointer is passed as a 64-bit integer (same register class as a pointer in
        // the x86_64 and aarch64 C ABIs) so callers can address inside a block without making a
        // MemorySegment per call.
        read =
            linker.downcallHandle(
                libc.findOrThrow("read"), FunctionDescriptor.of(L, I, L, L), errno);
        write =
            linker.downcallHandle(
                libc.findOrThrow("write"), FunctionDescriptor.of(L, I, L, L), errno);
        sendmsg =
            linker.downcallHandle(
                libc.findOrThrow("sendmsg"), FunctionDescriptor.of(L, I, L, I), errno);
        close =
            linker.downcallHandle(libc.findOrThrow("close"), FunctionDescriptor.of(I, I), errno);
        poll =
            linker.downcallHandle(
                libc.findOrThrow("poll"), FunctionDescriptor.of(I, P, L, I), errno);
        // Probe: native access may be refused only at the first call (IllegalCallerException).
        try (Arena a = Arena.ofConfined()) {
          MemorySegment cs = a.allocate(CAPTURE);
          MemorySegment fds = a.allocate(ValueLayout.JAVA_INT, 2);
          int r = (int) pipe2.invokeExact(cs, fds, O_CLOEXEC | O_NONBLOCK);
          if (r != 0) {
            why = "pipe2 failed: " + describe((int) ERRNO.get(cs, 0L));
          } else {
            int c1 = (int) close.invokeExact(cs, fds.getAtIndex(ValueLayout.JAVA_INT, 0));
            int c2 = (int) close.invokeExact(cs, fds.getAtIndex(ValueLayout.JAVA_INT, 1));
            if (c1 != 0 || c2 != 0) {
              why = "close of a probe pipe failed";
            }
          }
        }
      } catch (Throwable t) {
        why = "native access unavailable: " + t;
      }
    }
    UNAVAILABLE = why;
    PIPE2 = pipe2;
    SPLICE = splice;
    TEE = tee;
    FCNTL = fcntl;
    IOCTL = ioctl;
    READ = read;
    WRITE = write;
    SENDMSG = sendmsg;
    CLOSE = close;
    POLL = poll;
  }

  private final MemorySegment state;
  private final MemorySegment fds;

  /**
   * A new call context with its own errno scratch.
   *
   * @throws UnsupportedOperationException if the calls are not {@link #available()}
   */
  public Syscalls() {
    if (UNAVAILABLE != null) {
      throw new UnsupportedOperationException("Linux syscalls unavailable: " + UNAVAILABLE);
    }
    Arena arena = Arena.ofAuto();
    this.state = arena.allocate(CAPTURE);
    // two ints for pipe2, an int for ioctl, or one struct pollfd {int fd; short events, revents}
    this.fds = arena.allocate(ValueLayout.JAVA_LONG);
  }

  /**
   * Whether the downcalls can be used in this process.
   *
   * @return true on Linux x86_64/aarch64 with native access enabled
   */
  public static boolean available() {
    return UNAVAILABLE == null;
  }

  /**
   * Why the downcalls cannot be used, for a log line.
   *
   * @return the reason, or null when {@link #available()}
   */
  public static String unavailableReason() {
    return UNAVAILABLE;
  }

  private int errno() {
    return (int) ERRNO.get(state, 0L);
  }

  /**
   * {@code pipe2(O_NONBLOCK|O_CLOEXEC)}.
   *
   * @return the read fd in the low 32 bits and the write fd in the high 32 bits; the caller owns
   *     both and closes them
   * @throws IOException with the errno's description (EMFILE, ENFILE)
   */
  public long pipe() throws IOException {
    int r;
    try {
      r = (int) PIPE2.invokeExact(state, fds, O_NONBLOCK | O_CLOEXEC);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r != 0) {
      throw exception("pipe2", errno());
    }
    long readFd = fds.getAtIndex(ValueLayout.JAVA_INT, 0) & 0xFFFF_FFFFL;
    long writeFd = fds.getAtIndex(ValueLayout.JAVA_INT, 1) & 0xFFFF_FFFFL;
    return readFd | (writeFd << 32);
  }

  /**
   * {@code splice(in, NULL, out, NULL, len, flags)}: moves up to {@code len} bytes between two
   * descriptors, one of which is a pipe, at the files' current positions.
   *
   * @param in the source descriptor
   * @param out the destination descriptor
   * @param len the most bytes to move
   * @param flags {@code SPLICE_F_*}
   * @return bytes moved (0 at the source's end of stream), or {@code -errno}
   */
  public long splice(int in, int out, long len, int flags) {
    long r;
    do {
      r = spliceOnce(in, out, len, flags);
    } while (r == -EINTR);
    return r;
  }

  private long spliceOnce(int in, int out, long len, int flags) {
    long r;
    try {
      r = (long) SPLICE.invokeExact(state, in, MemorySegment.NULL, out, MemorySegment.NULL, len,
          flags);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return r >= 0 ? r : -errno();
  }


  /**
   * {@code tee(in, out, len, flags)}: duplicates up to {@code len} bytes from the head of pipe
   * {@code in} into pipe {@code out} without consuming them.
   *
   * @param in the source pipe's read end
   * @param out the destination pipe's write end
   * @param len the most bytes to duplicate
   * @param flags {@code SPLICE_F_*}
   * @return bytes duplicated, or {@code -errno}
   */
  public long tee(int in, int out, long len, int flags) {
    long r;
    do {
      r = teeOnce(in, out, len, flags);
    } while (r == -EINTR);
    return r;
  }

  private long teeOnce(int in, int out, long len, int flags) {
    long r;
    try {
      r = (long) TEE.invokeExact(state, in, out, len, flags);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return r >= 0 ? r : -errno();
  }


  /**
   * {@code read(fd, buf, len)}.
   *
   * @param fd the descriptor
   * @param address the native address of at least {@code len} writable bytes that the caller
   *     keeps alive for the call (for example {@code block.segment().address() + offset})
   * @param len bytes to read at most
   * @return bytes read (0 at end of stream), or {@code -errno}
   */
  public long read(int fd, long address, long len) {
    long r;
    do {
      r = readOnce(fd, address, len);
    } while (r == -EINTR);
    return r;
  }

  private long readOnce(int fd, long address, long len) {
    long r;
    try {
      r = (long) READ.invokeExact(state, fd, address, len);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return r >= 0 ? r : -errno();
  }


  /**
   * {@code write(fd, buf, len)}.
   *
   * @param fd the descriptor
   * @param address the native address of at least {@code len} readable bytes that the caller
   *     keeps alive for the call
   * @param len bytes to write at most
   * @return bytes written, or {@code -errno}
   */
  public long write(int fd, long address, long len) {
    long r;
    do {
      r = writeOnce(fd, address, len);
    } while (r == -EINTR);
    return r;
  }

  private long writeOnce(int fd, long address, long len) {
    long r;
    try {
      r = (long) WRITE.invokeExact(state, fd, address, len);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return r >= 0 ? r : -errno();
  }


  /**
   * {@code sendmsg(fd, msg, flags)}, retried while a signal interrupts it.
   *
   * @param fd a socket
   * @param msghdr the native address of a {@code struct msghdr} (and the iovecs it points to) that
   *     the caller keeps alive for the call
   * @param flags {@code MSG_*} flags
   * @return bytes sent, or {@code -errno}
   */
  public long sendmsg(int fd, long msghdr, int flags) {
    long r;
    do {
      try {
        r = (long) SENDMSG.invokeExact(state, fd, msghdr, flags);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      r = r >= 0 ? r : -errno();
    } while (r == -EINTR);
    return r;
  }

  private int fcntl(int fd, int cmd, int arg) {
    int r;
    try {
      r = (int) FCNTL.invokeExact(state, fd, cmd, arg);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return r >= 0 ? r : -errno();
  }

  /**
   * Duplicates a descriptor with {@code F_DUPFD_CLOEXEC}; the copy shares the open file
   * description (offset, status flags) and stays valid when the original is closed.
   *
   * @param fd the descriptor to duplicate
   * @return the new descriptor, owned by the caller
   * @throws IOException with the errno's description
   */
  public int dup(int fd) throws IOException {
    int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (r < 0) {
      throw exception("fcntl(F_DUPFD_CLOEXEC)", -r);
    }
    return r;
  }

  /**
   * Sets {@code O_NONBLOCK} on the open file description ({@code F_GETFL} then {@code F_SETFL}).
   *
   * @param fd the descriptor
   * @throws IOException with the errno's description
   */
  public void setNonBlocking(int fd) throws IOException {
    int fl = fcntl(fd, F_GETFL, 0);
    if (fl < 0) {
      throw exception("fcntl(F_GETFL)", -fl);
    }
    if ((fl & O_NONBLOCK) == 0) {
      int r = fcntl(fd, F_SETFL, fl | O_NONBLOCK);
      if (r < 0) {
        throw exception("fcntl(F_SETFL)", -r);
      }
    }
  }

  /**
   * {@code fcntl(fd, F_GETPIPE_SZ)}.
   *
   * @param fd either end of a pipe
   * @return the pipe's capacity in bytes
   * @throws IOException with the errno's description
   */
  public int pipeSize(int fd) throws IOException {
    int r = fcntl(fd, F_GETPIPE_SZ, 0);
    if (r < 0) {
      throw exception("fcntl(F_GETPIPE_SZ)", -r);
    }
    return r;
  }

  /**
   * {@code fcntl(fd, F_SETPIPE_SZ, bytes)}.
   *
   * @param fd either end of a pipe
   * @param bytes the requested capacity (the kernel rounds it up to a power-of-two number of pages)
   * @return the capacity set, or {@code -errno} (EPERM above {@code /proc/sys/fs/pipe-max-size}
   *     for an unprivileged process, EBUSY below the bytes it holds)
   */
  public int setPipeSize(int fd, int bytes) {
    return fcntl(fd, F_SETPIPE_SZ, bytes);
  }

  /**
   * {@code ioctl(fd, FIONREAD)}: the bytes waiting to be read (a pipe's fill level).
   *
   * @param fd the descriptor
   * @return the byte count, or {@code -errno}
   */
  public int available(int fd) {
    int r;
    try {
      r = (int) IOCTL.invokeExact(state, fd, FIONREAD, fds);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return r >= 0 ? fds.get(ValueLayout.JAVA_INT, 0) : -errno();
  }

  /**
   * {@code poll} on one descriptor with a zero timeout: never blocks.
   *
   * @param fd the descriptor
   * @param events {@code POLLIN} (1) or {@code POLLOUT} (4)
   * @return the {@code revents} now (0 when not ready; POLLERR/POLLHUP bits included), or {@code
   *     -errno}
   */
  public int pollNow(int fd, int events) {
    fds.set(ValueLayout.JAVA_INT, 0, fd);
    fds.set(ValueLayout.JAVA_SHORT, 4, (short) events);
    fds.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
    int r;
    try {
      r = (int) POLL.invokeExact(state, fds, 1L, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return r >= 0 ? fds.get(ValueLayout.JAVA_SHORT, 6) & 0xFFFF : -errno();
  }

  /**
   * {@code poll} on one descriptor, blocking the calling thread in the kernel for up to {@code
   * timeoutMs}. For platform threads only: a virtual thread would hold its carrier for the wait
   * (use {@link ChannelFds#await} there).
   *
   * @param fd the descriptor
   * @param events {@code POLLIN} (1) or {@code POLLOUT} (4)
   * @param timeoutMs the most to wait, in milliseconds
   * @return the {@code revents} (0 on timeout), or {@code -errno} (EINTR on a signal)
   */
  public int poll(int fd, int events, int timeoutMs) {
    fds.set(ValueLayout.JAVA_INT, 0, fd);
    fds.set(ValueLayout.JAVA_SHORT, 4, (short) events);
    fds.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
    int r;
    try {
      r = (int) POLL.invokeExact(state, fds, 1L, timeoutMs);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return r >= 0 ? fds.get(ValueLayout.JAVA_SHORT, 6) & 0xFFFF : -errno();
  }

  /**
   * {@code close(fd)}. Errors are returned, not thrown: a descriptor is released by close even
   * when it reports one.
   *
   * @param fd the descriptor; the caller must not use it afterwards
   * @return 0 or {@code -errno}
   */
  public int close(int fd) {
    int r;
    try {
      r = (int) CLOSE.invokeExact(state, fd);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return r == 0 ? 0 : -errno();
  }

  /**
   * An IOException for a failed call, naming the call and the error.
   *
   * @param call what was called
   * @param errno the positive errno
   * @return the exception to throw
   */
  public static IOException exception(String call, int errno) {
    return new IOException(call + " failed: " + describe(errno));
  }

  /**
   * A short description of an errno value ("Connection reset by peer (ECONNRESET)").
   *
   * @param errno the positive errno
   * @return its description
   */
  public static String describe(int errno) {
    return switch (errno) {
      case EPERM -> "Operation not permitted (EPERM)";
      case EINTR -> "Interrupted system call (EINTR)";
      case EBADF -> "Bad file descriptor (EBADF)";
      case EAGAIN -> "Resource temporarily unavailable (EAGAIN)";
      case 12 -> "Cannot allocate memory (ENOMEM)";
      case EBUSY -> "Device or resource busy (EBUSY)";
      case EINVAL -> "Invalid argument (EINVAL)";
      case 23 -> "Too many open files in system (ENFILE)";
      case EMFILE -> "Too many open files (EMFILE)";
      case 28 -> "No space left on device (ENOSPC)";
      case EPIPE -> "Broken pipe (EPIPE)";
      case 103 -> "Software caused connection abort (ECONNABORTED)";
      case ECONNRESET -> "Connection reset by peer (ECONNRESET)";
      case 107 -> "Transport endpoint is not connected (ENOTCONN)";
      case 110 -> "Connection timed out (ETIMEDOUT)";
      default -> "errno " + errno;
    };
  }

  static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      throw r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException(t);
  }
}
