package io.nocopy.fanout;

import io.nocopy.buffer.BufWriter;
import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.GatheringSend;
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
 * <p>Writer thread only. The duplicate is made at the first send of a backlog and closed by
 * {@link #release} when the writer has nothing left to send, so a listener that keeps up holds one
 * descriptor (its socket's) and one that is behind holds two. The duplicate keeps the socket open
 * after the caller closes the channel, so every send first checks that the channel is open.
 */
final class NativeSend implements AutoCloseable {
  /** {@code -Dnocopy.fanout.nativesends=false}: the JDK's writes only (for comparison). */
  static final boolean ENABLED = !"false".equals(System.getProperty("nocopy.fanout.nativesends"));

  private final Channel channel;
  private final Syscalls syscalls = new Syscalls();
  private final GatheringSend send = new GatheringSend();
  private final long[] addresses = new long[GatheringSend.MAX_REGIONS];
  private final int[] lengths = new int[GatheringSend.MAX_REGIONS];
  private int fd = -1;

  private NativeSend(Channel channel) {
    this.channel = channel;
  }

  /**
   * Native sends for {@code channel}'s socket, or null where they cannot be made (no socket
   * descriptor, no native access): the writer then uses the channel alone.
   */
  static NativeSend open(Channel channel) {
    if (!ENABLED || !Syscalls.available() || ChannelFds.fdOf(channel) < 0) {
      return null;
    }
    try {
      return new NativeSend(channel);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * Sends the first pending bytes of {@code sender} as far as the socket takes them now and drops
   * them from it.
   *
   * @return bytes sent; 0 if the socket is full; -1 if the bytes are not in native memory or no
   *     duplicate could be made (the writer writes them through the channel)
   * @throws IOException if the socket failed or the channel was closed
   */
  long send(BufWriter sender) throws IOException {
    int k = sender.nativeRegions(addresses, lengths);
    if (k < 1) {
      return -1;
    }
    if (!channel.isOpen()) {
      throw new ClosedChannelException();
    }
    if (fd < 0 && !duplicate()) {
      return -1;
    }
    long r = send.send(fd, addresses, lengths, k);
    if (r > 0) {
      sender.skip(r);
      return r;
    }
    if (r == 0 || r == -Syscalls.EAGAIN) {
      return 0;
    }
    throw Syscalls.exception("sendmsg", (int) -r);
  }

  private boolean duplicate() throws ClosedChannelException {
    try {
      fd = ChannelFds.duplicate(channel, syscalls);
    } catch (ClosedChannelException e) {
      throw e;
    } catch (IOException e) {
      return false; // out of descriptors: the channel's own writes
    }
    return fd >= 0;
  }

  /** Closes the duplicate until the next backlog (the writer has nothing left to send). */
  void release() {
    if (fd >= 0) {
      syscalls.close(fd);
      fd = -1;
    }
  }

  @Override
  public void close() {
    release();
    send.close();
  }
}
