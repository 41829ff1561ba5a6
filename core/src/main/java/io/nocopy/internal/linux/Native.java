package io.nocopy.internal.linux;

import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether this process can splice and tee, why not (logged once), and the process-wide resources
 * the kernel and userspace paths share: a descriptor of {@code /dev/null}, the system's pipe size
 * limit and the library's default allocator.
 *
 * <p>Acceleration needs three things: Linux, native access for {@code io.nocopy} (FFM downcalls)
 * and {@code java.base/sun.nio.ch} opened to {@code io.nocopy} (descriptors of JDK channels and
 * the JDK's poller). The system property {@code nocopy.pipe.accelerate=false} turns it off.
 */
public final class Native {
  private static final System.Logger LOG = System.getLogger("io.nocopy.pipe");

  /** Whether kernel pipes, splice and tee are used. */
  public static final boolean ACCELERATED;

  /** How long one readiness wait may park before the waiter re-checks close and interrupt. */
  public static final long WAIT_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private static final String WHY_NOT;
  private static final AtomicBoolean LOGGED_OFF = new AtomicBoolean();
  private static final AtomicBoolean LOGGED_NO_FD = new AtomicBoolean();
  private static volatile Allocator shared;

  static {
    String why = null;
    if (!Boolean.parseBoolean(System.getProperty("nocopy.pipe.accelerate", "true"))) {
      why = "system property nocopy.pipe.accelerate=false";
    } else if (!Syscalls.available()) {
      why = Syscalls.unavailableReason();
    } else if (!ChannelFds.available()) {
      why = ChannelFds.unavailableReason();
    }
    WHY_NOT = why;
    ACCELERATED = why == null;
  }

  private Native() {}

  /**
   * Why acceleration is off.
   *
   * @return the reason, or null when it is on
   */
  public static String whyNot() {
    return WHY_NOT;
  }

  /** Logs once, at the first use that wanted acceleration, why it is off. */
  public static void reportOff() {
    if (!ACCELERATED && LOGGED_OFF.compareAndSet(false, true)) {
      LOG.log(
          System.Logger.Level.INFO,
          "splice acceleration is off, pipes use pooled blocks in userspace: " + WHY_NOT);
    }
  }

  /**
   * Logs once that a channel without a descriptor sent bytes through the userspace path.
   *
   * @param ch the channel
   */
  public static void reportNoFd(Channel ch) {
    if (LOGGED_NO_FD.compareAndSet(false, true)) {
      LOG.log(
          System.Logger.Level.INFO,
          "channel "
              + ch.getClass().getName()
              + " has no file descriptor; its bytes use pooled blocks in userspace (logged once)");
    }
  }

  /**
   * The library's default allocator for code not given one: created on first use, 256 MiB cap,
   * 5 s acquire timeout, never closed (it lives as long as the class).
   *
   * @return the shared allocator
   */
  public static Allocator sharedAllocator() {
    Allocator a = shared;
    if (a == null) {
      synchronized (Native.class) {
        a = shared;
        if (a == null) {
          a = Allocator.builder().maxBytes(256L << 20).acquireTimeout(Duration.ofSeconds(5)).build();
          shared = a;
        }
      }
    }
    return a;
  }

  /**
   * The largest pipe size an unprivileged process may set, from {@code /proc/sys/fs/pipe-max-size}
   * (1 MiB, Linux's default, where it cannot be read).
   *
   * @return the limit in bytes
   */
  public static int pipeMaxSize() {
    try {
      // readAllLines, not readString: the JDK sizes its read by the file's length, and sysctl
      // files under /proc/sys then yield their first byte only
      return Integer.parseInt(
          Files.readAllLines(Path.of("/proc/sys/fs/pipe-max-size")).get(0).strip());
    } catch (IOException | RuntimeException e) {
      return 1 << 20;
    }
  }

  /**
   * A process-wide descriptor of {@code /dev/null}, opened on first use and never closed: where
   * bytes taken out of a pipe unread go.
   *
   * @return the descriptor
   * @throws IOException if it has none (acceleration is off)
   */
  public static int devNull() throws IOException {
    int fd = ChannelFds.fdOf(DevNull.CH);
    if (fd < 0) {
      throw new IOException("no descriptor for /dev/null");
    }
    return fd;
  }

  private static final class DevNull {
    private static final FileChannel CH;

    static {
      try {
        CH = FileChannel.open(Path.of("/dev/null"), StandardOpenOption.WRITE);
      } catch (IOException e) {
        throw new ExceptionInInitializerError(e);
      }
    }
  }
}
