package io.nocopy.pipe;

import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.SelectableChannel;

/** The checks the pipe package's loops make on the caller's channels, in one place. */
final class ChannelChecks {
  private ChannelChecks() {}

  /** Throws {@link ClosedChannelException} if {@code ch} is closed. */
  static void requireOpen(Channel ch) throws ClosedChannelException {
    if (!ch.isOpen()) {
      throw new ClosedChannelException();
    }
  }

  /**
   * A JDK channel closed during a blocking call that had made progress returns the partial count,
   * and the next call throws a plain {@link ClosedChannelException}; for a loop whose channels
   * were open when it started, that is an asynchronous close.
   */
  static ClosedChannelException closedMeanwhile(ClosedChannelException e) {
    if (e instanceof AsynchronousCloseException) {
      return e;
    }
    AsynchronousCloseException a = new AsynchronousCloseException();
    a.initCause(e);
    return a;
  }

  /** The userspace path reads and writes in blocking mode: a non-blocking channel is refused. */
  static void requireBlocking(Channel ch) {
    if (ch instanceof SelectableChannel s && !s.isBlocking()) {
      throw new IllegalBlockingModeException();
    }
  }
}
