package io.nocopy.relay;

import io.nocopy.fanout.Fanout;
import io.nocopy.pipe.Pipe;
import io.nocopy.pipe.Transfer;
import java.io.IOException;
import java.nio.channels.ServerSocketChannel;

/**
 * The fan-out transports a server uses here, decided once when it starts (the engine and the
 * io_uring choice take a restart to change): whether raw-body sources get the kernel transport
 * (splice), whether the userspace engine batches its sends through io_uring, and how large each
 * listener's kernel pipe is. Immutable.
 */
final class Transports {
  private static final System.Logger LOG = System.getLogger(Transports.class.getName());

  private final boolean splice; // raw-body sources get the kernel transport
  private final boolean ioUring; // userspace mounts batch their sends through io_uring
  private final int startQueueSize;
  private final int startBound; // the pipe size for startQueueSize

  private Transports(boolean splice, boolean ioUring, int startQueueSize, int startBound) {
    this.splice = splice;
    this.ioUring = ioUring;
    this.startQueueSize = startQueueSize;
    this.startBound = startBound;
  }

  /**
   * What {@code config} asks for, checked against what this platform has. Logs once why io_uring
   * is off under {@code --io-uring auto}, and when a listener's pipe is smaller than {@code
   * --queue-size}.
   *
   * @param config the settings the server starts with
   * @param socket a bound socket of the server's, to ask whether splice works on its kind
   * @return the transports
   * @throws IOException naming the flag and the reason, if {@code --engine splice} or {@code
   *     --io-uring on} cannot be had here
   */
  static Transports check(RelayConfig config, ServerSocketChannel socket) throws IOException {
    boolean available = Transfer.accelerated(socket, socket);
    if (config.engine() == RelayConfig.Engine.SPLICE && !available) {
      throw new IOException("--engine splice: splice(2) is not available here (it needs Linux and"
          + " --add-opens java.base/sun.nio.ch=io.nocopy, which ./nocopy passes); use --engine auto");
    } else if (config.ioUring() == RelayConfig.IoUring.ON && Fanout.whyNoIoUring() != null) {
      throw new IOException("--io-uring on: " + Fanout.whyNoIoUring() + "; use --io-uring auto");
    }
    boolean ioUring = MountFanout.ioUring(config);
    if (config.ioUring() == RelayConfig.IoUring.AUTO && !ioUring) {
      // the one line that says why: the fan-outs are then opened without io_uring and stay quiet
      LOG.log(System.Logger.Level.INFO, "io_uring is off, the userspace engine writes each listener"
          + " with its own system call{0}: {1}", config.engine() == RelayConfig.Engine.AUTO
              ? " and --engine auto picks splice where available" : "", Fanout.whyNoIoUring());
    }
    // io_uring sends cost less per delivered byte than splice (BENCHMARKS.md): auto prefers them
    boolean splice = switch (config.engine()) {
      case SPLICE -> available;
      case USERSPACE -> false;
      case AUTO -> available && !ioUring;
    };
    int bound = pipeSize(config.queueSize());
    if (splice && bound < config.queueSize()) {
      LOG.log(System.Logger.Level.INFO, "splice engine: a listener queue is its kernel pipe, at most"
          + " {0} bytes here (/proc/sys/fs/pipe-max-size), not --queue-size {1}", bound,
          config.queueSize());
    }
    return new Transports(splice, ioUring, config.queueSize(), bound);
  }

  /**
   * Whether a raw-body source gets the kernel transport (splice): asked for, or with {@code
   * --engine auto} where it is available and the userspace engine does not use io_uring.
   */
  boolean spliceForRawSources() {
    return splice;
  }

  /**
   * Whether the userspace engine's mounts send each chunk to every idle listener with one io_uring
   * submission ({@code --io-uring} on, or auto where io_uring works).
   *
   * @return true if they do
   */
  boolean ioUring() {
    return ioUring;
  }

  /**
   * The transport raw-body sources get: {@code splice} if chosen, or with {@code --engine auto}
   * where splice is available and io_uring is not used; {@code userspace} otherwise. Parsed bodies
   * (chunked, cascaded) always use the userspace transport; each mount reports its own in the
   * status page.
   */
  String engineName() {
    return splice ? "splice" : "userspace";
  }

  /** The engine and whether io_uring is on, as the startup line names them. */
  String engineSummary() {
    String engine = engineName();
    if (!ioUring) {
      return engine + ", io_uring off";
    }
    return splice ? engine + " (chunked and relayed mounts: userspace, io_uring on)"
        : engine + ", io_uring on";
  }

  /** A kernel sink's pipe size for a mount whose listeners may fall {@code queueSize} bytes behind. */
  int spliceBound(int queueSize) {
    return queueSize == startQueueSize ? startBound : pipeSize(queueSize);
  }

  /** {@code queueSize}, at most the pipe size limit and at least a page. */
  private static int pipeSize(int queueSize) {
    return Math.max(4096, Math.min(queueSize, Pipe.maxSize()));
  }
}
