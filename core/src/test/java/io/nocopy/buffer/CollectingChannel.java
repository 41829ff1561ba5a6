package io.nocopy.buffer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;

/**
 * A test sink: a gathering channel that accepts at most {@code maxPerWrite} bytes per call (0 to
 * simulate a full non-blocking socket) and records what it got and how it was called.
 */
final class CollectingChannel implements GatheringByteChannel {
  final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  int maxPerWrite;
  int gatherCalls;
  int maxBuffersSeen;

  CollectingChannel(int maxPerWrite) {
    this.maxPerWrite = maxPerWrite;
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) {
    gatherCalls++;
    maxBuffersSeen = Math.max(maxBuffersSeen, length);
    long budget = maxPerWrite;
    long n = 0;
    for (int i = offset; i < offset + length && budget > 0; i++) {
      ByteBuffer b = srcs[i];
      int k = (int) Math.min(b.remaining(), budget);
      for (int j = 0; j < k; j++) {
        bytes.write(b.get());
      }
      budget -= k;
      n += k;
    }
    return n;
  }

  @Override
  public long write(ByteBuffer[] srcs) {
    return write(srcs, 0, srcs.length);
  }

  @Override
  public int write(ByteBuffer src) {
    return (int) write(new ByteBuffer[] {src}, 0, 1);
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public void close() {}

  byte[] toByteArray() {
    return bytes.toByteArray();
  }
}
