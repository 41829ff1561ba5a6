package io.nocopy.drpc;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.GatheringByteChannel;
import java.util.Random;

/**
 * A blocking in-memory channel for tests: reads deliver a fixed input in random chunk sizes (one
 * byte at a time when {@code maxChunk} is 1), then end of stream; writes are collected.
 */
final class MemoryChannel implements ByteChannel, GatheringByteChannel {
  private final byte[] input;
  private final Random rnd;
  private final int maxChunk;
  private final ByteArrayOutputStream written = new ByteArrayOutputStream();
  private int pos;
  private volatile boolean open = true;

  MemoryChannel(byte[] input, long seed, int maxChunk) {
    this.input = input;
    this.rnd = new Random(seed);
    this.maxChunk = maxChunk;
  }

  @Override
  public synchronized int read(ByteBuffer dst) throws ClosedChannelException {
    if (!open) {
      throw new ClosedChannelException();
    }
    if (pos == input.length) {
      return -1;
    }
    int n = Math.min(Math.min(dst.remaining(), input.length - pos), 1 + rnd.nextInt(maxChunk));
    dst.put(input, pos, n);
    pos += n;
    return n;
  }

  @Override
  public synchronized int write(ByteBuffer src) throws ClosedChannelException {
    if (!open) {
      throw new ClosedChannelException();
    }
    int n = src.remaining();
    byte[] b = new byte[n];
    src.get(b);
    written.write(b, 0, n);
    return n;
  }

  @Override
  public synchronized long write(ByteBuffer[] srcs, int offset, int length)
      throws ClosedChannelException {
    long n = 0;
    for (int i = offset; i < offset + length; i++) {
      n += write(srcs[i]);
    }
    return n;
  }

  @Override
  public long write(ByteBuffer[] srcs) throws ClosedChannelException {
    return write(srcs, 0, srcs.length);
  }

  synchronized byte[] written() {
    return written.toByteArray();
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() {
    open = false;
  }
}
