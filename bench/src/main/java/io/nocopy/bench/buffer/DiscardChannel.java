package io.nocopy.bench.buffer;

import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;

/**
 * A connection that accepts every byte at once and drops it (moves each buffer's position to its
 * limit), so a benchmark measures the sender's own work, not a kernel's.
 */
final class DiscardChannel implements GatheringByteChannel {
  long bytes;

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) {
    long n = 0;
    for (int i = offset; i < offset + length; i++) {
      ByteBuffer b = srcs[i];
      n += b.remaining();
      b.position(b.limit());
    }
    bytes += n;
    return n;
  }

  @Override
  public long write(ByteBuffer[] srcs) {
    return write(srcs, 0, srcs.length);
  }

  @Override
  public int write(ByteBuffer src) {
    int n = src.remaining();
    src.position(src.limit());
    bytes += n;
    return n;
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public void close() {}
}
