package io.nocopy.pipe;

import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.Syscalls;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Tier;
import java.nio.channels.Channel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Whether this process can splice, why not (logged once), the counters that prove it did, and the
 * pooled memory the userspace path uses.
 *
 * <p>Acceleration needs three things: Linux, native access for {@code io.nocopy} (FFM downcalls)
 * and {@code java.base/sun.nio.ch} opened to {@code io.nocopy} (descriptors of JDK channels and
 * the JDK's poller). The system property {@code nocopy.pipe.accelerate=false} turns it off.
 */
final class Accel {
  private static final System.Logger LOG = System.getLogger("io.nocopy.pipe");

  /** How long one readiness wait may park before the waiter re-checks close and interrupt. */
  static final long WAIT_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** Size of the pooled blocks the userspace path reads into. */
  static final Tier BLOCK_TIER = Tier.LARGE; // 128 KiB

  /** Size of the pooled blocks of the adaptive small-transfer path. */
  static final Tier SMALL_TIER = Tier.BIG; // 32 KiB

  /** Whether pipes are kernel pipes and channel pairs with descriptors splice. */
  static final boolean NATIVE;

  private static final String WHY_NOT;
  private static final AtomicBoolean LOGGED_OFF = new AtomicBoolean();
  private static final AtomicBoolean LOGGED_NO_FD = new AtomicBoolean();

  /** Bytes moved by splice(2) out of a pipe into a channel. */
  static final LongAdder SPLICED = new LongAdder();

  /** Bytes duplicated by tee(2). */
  static final LongAdder TEED = new LongAdder();

  /** Tee chunks a target took only in part, finished through the spill pipe. */
  static final LongAdder SPILLED = new LongAdder();

  /** Bytes moved through pooled blocks (userspace path and the adaptive small path). */
  static final LongAdder COPIED = new LongAdder();

  private static volatile Allocator allocator;

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
    NATIVE = why == null;
  }

  private Accel() {}

  /** Logs once, at the first use that wanted acceleration, why it is off. */
  static void reportOff() {
    if (!NATIVE && LOGGED_OFF.compareAndSet(false, true)) {
      LOG.log(
          System.Logger.Level.INFO,
          "splice acceleration is off, pipes use pooled blocks in userspace: " + WHY_NOT);
    }
  }

  /** Logs once that a channel without a descriptor sent a transfer to the userspace path. */
  static void reportNoFd(Channel ch) {
    if (LOGGED_NO_FD.compareAndSet(false, true)) {
      LOG.log(
          System.Logger.Level.INFO,
          "channel "
              + ch.getClass().getName()
              + " has no file descriptor; its transfers use pooled blocks in userspace"
              + " (logged once)");
    }
  }

  /**
   * The allocator of the userspace path: created on first use, 256 MiB cap, never closed (it
   * lives as long as the class).
   */
  static Allocator allocator() {
    Allocator a = allocator;
    if (a == null) {
      synchronized (Accel.class) {
        a = allocator;
        if (a == null) {
          a =
              Allocator.builder()
                  .maxBytes(256L << 20)
                  .acquireTimeout(java.time.Duration.ofSeconds(5))
                  .build();
          allocator = a;
        }
      }
    }
    return a;
  }
}
