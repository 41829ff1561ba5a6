package io.nocopy.fanout;

import io.nocopy.buffer.BufWriter;
import io.nocopy.internal.linux.GatheringSend;
import io.nocopy.internal.linux.GuardedFd;
import io.nocopy.internal.linux.Syscalls;
import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;

/**
 * A userspace writer's sends of its backlog straight from pooled memory: {@code sendmsg} with
 * {@code MSG_DONTWAIT} on a private duplicate of the socket's descriptor, over the native regions
 * of the writer's {@link BufWriter}. Allocates nothing per send, where the JDK's gathering write
 * needs a view per block (more blocks than a view cache holds when a listener is megabytes behind)
 * and a releaser per buffer per call. It never waits: when the socket is full it says so, and the
 * writer waits through its channel ({@link BufWriter#writeFirstTo}), which parks a virtual thread
 * properly where a blocking native call would pin its carrier.
 *
 * <p>Writer thread only; made at the sink's first backlog, closed when the writer ends. The
 * descriptor is the one the writer already holds for io_uring sends, or its own duplicate, which
 * it closes; the duplicate keeps the socket open after the caller closes the channel, so every
 * send first checks that the channel is open.
 */
final class NativeSend implements AutoCloseable {
  /** {@code -Dnocopy.fanout.nativesends=false}: the JDK's writes only (for comparison). */
  static final boolean ENABLED = !"false".equals(System.getProperty("nocopy.fanout.nativesends"));

  private final Channel channel;
  private final GuardedFd fd;
  private final boolean ownsFd;
  private final GatheringSend send = new GatheringSend();
  private final long[] addresses = new long[GatheringSend.MAX_REGIONS];
  private final int[] lengths = new int[GatheringSend.MAX_REGIONS];

  private NativeSend(Channel channel, GuardedFd fd, boolean ownsFd) {
    this.channel = channel;
    this.fd = fd;
    this.ownsFd = ownsFd;
  }

  /**
   * Native sends for {@code channel}'s socket over {@code shared} (the writer's descriptor for
   * io_uring sends) or a new duplicate, or null where they cannot be made (no socket descriptor,
   * no native access): the writer then uses the channel alone.
   */
  static NativeSend open(Channel channel, GuardedFd shared) {
    if (!ENABLED || !Syscalls.available()) {
      return null;
    }
    GuardedFd g = shared != null ? shared : UringSends.dup(channel);
    if (g == null) {
      return null;
    }
    try {
      return new NativeSend(channel, g, g != shared);
    } catch (RuntimeException e) {
      if (g != shared) {
        g.close();
      }
      return null;
    }
  }

  /**
   * Sends the first pending bytes of {@code sender} as far as the socket takes them now and drops
   * them from it.
   *
   * @return bytes sent; 0 if the socket is full; -1 if the bytes are not in native memory (the
   *     writer writes them through the channel)
   * @throws IOException if the socket failed or the channel was closed
   */
  long send(BufWriter sender) throws IOException {
    int k = sender.nativeRegions(addresses, lengths);
    if (k < 1) {
      return -1;
    }
    if (!channel.isOpen() || !fd.enter()) {
      throw new ClosedChannelException();
    }
    long r;
    try {
      r = send.send(fd.fd, addresses, lengths, k);
    } finally {
      fd.exit();
    }
    if (r > 0) {
      sender.skip(r);
      return r;
    }
    if (r == 0 || r == -Syscalls.EAGAIN) {
      return 0;
    }
    throw Syscalls.exception("sendmsg", (int) -r);
  }

  @Override
  public void close() {
    send.close();
    if (ownsFd) {
      fd.close();
    }
  }
}
