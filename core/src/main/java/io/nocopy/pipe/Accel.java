package io.nocopy.pipe;

import io.nocopy.internal.linux.Native;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Tier;
import java.nio.channels.Channel;
import java.util.concurrent.atomic.LongAdder;

/**
 * The pipe package's view of acceleration ({@link Native} decides it), the process-wide counters
 * of its static transfer API that prove which path ran, and the block sizes of its userspace path.
 */
final class Accel {
  /** Size of the pooled blocks the userspace path reads into. */
  static final Tier BLOCK_TIER = Tier.LARGE; // 128 KiB

  /** Size of the pooled blocks of the adaptive small-transfer path. */
  static final Tier SMALL_TIER = Tier.BIG; // 32 KiB

  /** Whether pipes are kernel pipes and channel pairs with descriptors splice. */
  static final boolean NATIVE = Native.ACCELERATED;

  /** Bytes moved by splice(2) out of a pipe into a channel. */
  static final LongAdder SPLICED = new LongAdder();

  /** Bytes duplicated by tee(2). */
  static final LongAdder TEED = new LongAdder();

  /** Tee chunks a target took only in part, finished through the spill pipe. */
  static final LongAdder SPILLED = new LongAdder();

  /** Bytes moved through pooled blocks (userspace path and the adaptive small path). */
  static final LongAdder COPIED = new LongAdder();

  private Accel() {}

  /** Logs once, at the first use that wanted acceleration, why it is off. */
  static void reportOff() {
    Native.reportOff();
  }

  /** Logs once that a channel without a descriptor sent a transfer to the userspace path. */
  static void reportNoFd(Channel ch) {
    Native.reportNoFd(ch);
  }

  /** The allocator of the userspace path when the caller gives none: the library's shared one. */
  static Allocator allocator() {
    return Native.sharedAllocator();
  }
}
