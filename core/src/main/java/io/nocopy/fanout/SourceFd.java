package io.nocopy.fanout;

import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.Native;
import io.nocopy.internal.linux.Syscalls;
import java.nio.channels.Channel;

/**
 * How many bytes wait in a source channel (FIONREAD), for the pacer; -1 where that cannot be known
 * (no acceleration, no descriptor, no channel). Source thread only.
 */
final class SourceFd {
  private static final SourceFd NONE = new SourceFd(null, null);
  private final Channel ch;
  private final Syscalls sc;

  private SourceFd(Channel ch, Syscalls sc) {
    this.ch = ch;
    this.sc = sc;
  }

  static SourceFd of(Channel ch) {
    if (ch == null || !Native.ACCELERATED || ChannelFds.fdOf(ch) < 0) {
      return NONE;
    }
    return new SourceFd(ch, new Syscalls());
  }

  long waiting() {
    if (sc == null) {
      return -1;
    }
    int fd = ChannelFds.fdOf(ch); // the channel's own descriptor, asked while it is open
    if (fd < 0 || !ch.isOpen()) {
      return -1;
    }
    int n = sc.available(fd);
    return n >= 0 ? n : -1;
  }
}
