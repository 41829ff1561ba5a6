package io.nocopy.fanout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A channel as a {@link GatheringByteChannel}: the channel itself when it is one (sockets, files,
 * pipes), else an adapter that writes the buffers one after the other. The adapter is made once
 * per sink and allocates nothing per write.
 */
final class Gathering implements GatheringByteChannel {
  private final WritableByteChannel ch;

  private Gathering(WritableByteChannel ch) {
    this.ch = ch;
  }

  static GatheringByteChannel of(WritableByteChannel ch) {
    return ch instanceof GatheringByteChannel g ? g : new Gathering(ch);
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    long total = 0;
    for (int i = offset; i < offset + length; i++) {
      int want = srcs[i].remaining();
      int n = ch.write(srcs[i]);
      total += n;
      if (n < want) {
        break;
      }
    }
    return total;
  }

  @Override
  public long write(ByteBuffer[] srcs) throws IOException {
    return write(srcs, 0, srcs.length);
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    return ch.write(src);
  }

  @Override
  public boolean isOpen() {
    return ch.isOpen();
  }

  @Override
  public void close() throws IOException {
    ch.close();
  }
}
