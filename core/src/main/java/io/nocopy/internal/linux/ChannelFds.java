package io.nocopy.internal.linux;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.util.function.BooleanSupplier;

/**
 * File descriptors of JDK channels, and readiness waits on descriptors through the JDK's own
 * poller, both through {@code sun.nio.ch} (needs {@code --add-opens java.base/sun.nio.ch=...} for
 * the module or class path that holds nocopy).
 *
 * <h2>Which channels</h2>
 *
 * Every channel implementing {@code sun.nio.ch.SelChImpl} (TCP and Unix-domain {@code
 * SocketChannel}s, accepted ones, {@code Pipe.SourceChannel}/{@code SinkChannel}) and {@code
 * FileChannel}s opened by the JDK. Anything else (TLS wrappers, in-memory channels, {@code
 * Channels.newChannel} adapters) has no descriptor: {@link #fdOf} returns -1.
 *
 * <h2>Waiting without pinning</h2>
 *
 * {@link #await} registers the descriptor with {@code sun.nio.ch.Poller} (the epoll-based poller
 * that parks virtual threads in blocking socket calls) and parks the calling thread with {@code
 * LockSupport}: a virtual thread unmounts from its carrier, a platform thread parks. The wait ends
 * when the descriptor is ready, when the thread is interrupted or unparked, or when the timeout
 * passes, whichever is first; callers re-check their state in a loop. No native call blocks.
 *
 * <p>Thread safety: static and stateless; any thread may call.
 */
public final class ChannelFds {
  /** {@code POLLIN} as the JDK's poller expects it. */
  public static final int POLLIN;
  /** {@code POLLOUT} as the JDK's poller expects it. */
  public static final int POLLOUT;

  private static final Class<?> SEL_CH_IMPL;
  private static final MethodHandle GET_FD_VAL; // (SelChImpl)int
  private static final Class<?> FILE_CHANNEL_IMPL;
  private static final MethodHandle FILE_FD; // (FileChannelImpl)FileDescriptor
  private static final MethodHandle FD_VAL; // (FileDescriptor)int
  private static final MethodHandle POLL; // (int,int,long,BooleanSupplier)void
  private static final String UNAVAILABLE;

  static {
    Class<?> selChImpl = null, fileChImpl = null;
    MethodHandle getFdVal = null, fileFd = null, fdVal = null, poll = null;
    int pollIn = 1, pollOut = 4;
    String why = null;
    try {
      Class<?> net = Class.forName("sun.nio.ch.Net");
      MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(net, MethodHandles.lookup());
      MethodHandles.Lookup self = MethodHandles.lookup();
      pollIn = (short) lookup.findStaticVarHandle(net, "POLLIN", short.class).get();
      pollOut = (short) lookup.findStaticVarHandle(net, "POLLOUT", short.class).get();
      selChImpl = Class.forName("sun.nio.ch.SelChImpl");
      getFdVal =
          MethodHandles.privateLookupIn(selChImpl, self)
              .findVirtual(selChImpl, "getFDVal", MethodType.methodType(int.class))
              .asType(MethodType.methodType(int.class, Object.class));
      fileChImpl = Class.forName("sun.nio.ch.FileChannelImpl");
      Field fd = fileChImpl.getDeclaredField("fd");
      fileFd =
          MethodHandles.privateLookupIn(fileChImpl, self)
              .unreflectGetter(fd)
              .asType(MethodType.methodType(FileDescriptor.class, Object.class));
      Class<?> ioUtil = Class.forName("sun.nio.ch.IOUtil");
      fdVal =
          MethodHandles.privateLookupIn(ioUtil, self).findStatic(
              ioUtil, "fdVal", MethodType.methodType(int.class, FileDescriptor.class));
      Class<?> poller = Class.forName("sun.nio.ch.Poller");
      poll =
          MethodHandles.privateLookupIn(poller, self).findStatic(
              poller,
              "poll",
              MethodType.methodType(
                  void.class, int.class, int.class, long.class, BooleanSupplier.class));
    } catch (ReflectiveOperationException | RuntimeException e) {
      why =
          "java.base/sun.nio.ch is not open to "
              + describeSelf()
              + " (add --add-opens java.base/sun.nio.ch="
              + describeSelf()
              + "): "
              + e;
    }
    POLLIN = pollIn;
    POLLOUT = pollOut;
    SEL_CH_IMPL = selChImpl;
    GET_FD_VAL = getFdVal;
    FILE_CHANNEL_IMPL = fileChImpl;
    FILE_FD = fileFd;
    FD_VAL = fdVal;
    POLL = poll;
    UNAVAILABLE = why;
  }

  private ChannelFds() {}

  private static String describeSelf() {
    Module m = ChannelFds.class.getModule();
    return m.isNamed() ? m.getName() : "ALL-UNNAMED";
  }

  /**
   * Whether descriptors can be read from JDK channels and waited on.
   *
   * @return true when {@code sun.nio.ch} is open to nocopy
   */
  public static boolean available() {
    return UNAVAILABLE == null;
  }

  /**
   * Why {@link #available()} is false, for a log line.
   *
   * @return the reason, or null when available
   */
  public static String unavailableReason() {
    return UNAVAILABLE;
  }

  /**
   * The descriptor of a JDK channel. The descriptor stays the channel's: it is valid only while
   * the channel is open, and its number may be reused as soon as the channel is closed, so callers
   * that keep using it across a possible concurrent close take a {@link #duplicate} instead.
   *
   * @param ch a channel
   * @return its descriptor, or -1 if it has none or descriptors are not {@link #available()}
   */
  public static int fdOf(Channel ch) {
    if (UNAVAILABLE == null) {
      try {
        if (SEL_CH_IMPL.isInstance(ch)) {
          return (int) GET_FD_VAL.invokeExact((Object) ch);
        }
        if (FILE_CHANNEL_IMPL.isInstance(ch)) {
          FileDescriptor fd = (FileDescriptor) FILE_FD.invokeExact((Object) ch);
          return fd == null ? -1 : (int) FD_VAL.invokeExact(fd);
        }
      } catch (Throwable t) {
        return -1;
      }
    }
    return -1;
  }

  /**
   * A private duplicate of a JDK channel's descriptor ({@code F_DUPFD_CLOEXEC}) that refers to the
   * channel's own file even if another thread closes the channel meanwhile: the channel marks
   * itself closed before closing its descriptor, so a channel still open after the dup was
   * duplicated, not a file that took its number. The duplicate keeps the file open after the
   * channel is closed; the caller owns it and closes it with {@link Syscalls#close}.
   *
   * @param ch a channel
   * @param sc the calling thread's syscall scratch
   * @return the duplicate, or -1 if the channel has no descriptor ({@link #fdOf})
   * @throws ClosedChannelException if the channel is closed
   * @throws IOException if duplicating fails (the open-file limit, EMFILE)
   */
  public static int duplicate(Channel ch, Syscalls sc) throws IOException {
    int fd = fdOf(ch);
    if (fd < 0) {
      if (!ch.isOpen()) {
        throw new ClosedChannelException();
      }
      return -1;
    }
    int d = sc.dup(fd);
    if (!ch.isOpen()) {
      sc.close(d);
      throw new ClosedChannelException();
    }
    return d;
  }

  /**
   * Whether the channel is a file channel (its descriptor is a regular file or a device).
   *
   * @param ch a channel
   * @return true for a JDK {@code FileChannel}
   */
  public static boolean isFile(Channel ch) {
    return ch instanceof java.nio.channels.FileChannel;
  }

  /**
   * Parks the calling thread until {@code fd} is ready for {@code event}, the thread is
   * interrupted or unparked, or {@code nanos} pass. Returns normally in every case; the caller
   * retries its operation and checks its own state (closed, interrupted) in a loop.
   *
   * @param fd a descriptor the caller keeps open for the duration of the call, not waited on by
   *     any other thread for the same event
   * @param event {@link #POLLIN} or {@link #POLLOUT}
   * @param nanos the most to wait, above 0
   * @param stillWanted checked after registration: when it returns false the wait ends at once
   *     (closes racing with the registration are not missed)
   * @throws IOException if the poller cannot register the descriptor
   */
  public static void await(int fd, int event, long nanos, BooleanSupplier stillWanted)
      throws IOException {
    try {
      POLL.invokeExact(fd, event, nanos, stillWanted);
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException(t);
    }
  }
}
