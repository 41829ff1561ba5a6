package io.nocopy.relay;

import io.nocopy.fanout.Fanout;
import io.nocopy.pipe.Pipe;
import io.nocopy.pipe.Transfer;
import java.io.IOException;
import java.nio.channels.ServerSocketChannel;

/**
 * The fan-out transports a server can use here, decided once when it starts (the engine and the
 * io_uring choice take a restart to change): whether raw-body sources get the kernel transport
 * (splice) and how large each listener's kernel pipe is. Immutable.
 */
final class Transports {
  private static final System.Logger LOG = System.getLogger(Transports.class.getName());

  private final boolean splice; // raw-body sources get the kernel transport
  private final int startQueueSize;
  private final int startBound; // the pipe size for startQueueSize

  private Transports(boolean splice, int startQueueSize, int startBound) {
    this.splice = splice;
    this.startQueueSize = startQueueSize;
    this.startBound = startBound;
  }

  /**
   * What {@code config} asks for, checked against what this platform has; logs once when a
   * listener's pipe is smaller than {@code --queue-size}.
   *
   * @param config the settings the server starts with
   * @param socket a bound socket of the server's, to ask whether splice works on its kind
   * @return the transports
   * @throws IOException naming the flag and the reason, if {@code --engine splice} or {@code
   *     --io-uring on} cannot be had here
   */
  static Transports check(RelayConfig config, ServerSocketChannel socket) throws IOException {
    boolean available = Transfer.accelerated(socket, socket);
    int bound = pipeSize(config.queueSize());
    if (available && config.engine() != RelayConfig.Engine.USERSPACE && bound < config.queueSize()) {
      LOG.log(System.Logger.Level.INFO, "splice engine: a listener queue is its kernel pipe, at most"
          + " {0} bytes here (/proc/sys/fs/pipe-max-size), not --queue-size {1}", bound,
          config.queueSize());
    }
    if (config.engine() == RelayConfig.Engine.SPLICE && !available) {
      throw new IOException("--engine splice: splice(2) is not available here (it needs Linux and"
          + " --add-opens java.base/sun.nio.ch=io.nocopy, which ./nocopy passes); use --engine auto");
    } else if (config.ioUring() == RelayConfig.IoUring.ON && Fanout.whyNoIoUring() != null) {
      throw new IOException("--io-uring on: " + Fanout.whyNoIoUring() + "; use --io-uring auto");
    }
    return new Transports(config.engine() != RelayConfig.Engine.USERSPACE && available,
        config.queueSize(), bound);
  }

  /** Whether a raw-body source gets the kernel transport (splice). */
  boolean spliceForRawSources() {
    return splice;
  }

  /**
   * The transport raw-body sources get: {@code splice} unless the userspace engine was chosen or
   * splice is unavailable. Parsed bodies (chunked, cascaded) always use the userspace transport;
   * each mount reports its own in the status page.
   */
  String engineName() {
    return splice ? "splice" : "userspace";
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
