package io.nocopy.buffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ReadableByteChannel;
import java.util.Random;
import java.util.function.IntSupplier;

/**
 * A test source: serves fixed bytes, at most {@code maxPerRead.getAsInt()} per read (Okio's
 * BufferedSourceFactory idea), counting reads.
 */
final class ChunkedChannel implements ReadableByteChannel {
  private final byte[] data;
  private final IntSupplier maxPerRead;
  private int at;
  private boolean open = true;
  int reads;

  ChunkedChannel(byte[] data, IntSupplier maxPerRead) {
    this.data = data;
    this.maxPerRead = maxPerRead;
  }

  static ChunkedChannel fixed(byte[] data, int perRead) {
    return new ChunkedChannel(data, () -> perRead);
  }

  static ChunkedChannel random(byte[] data, long seed, int min, int max) {
    Random r = new Random(seed);
    return new ChunkedChannel(data, () -> min + r.nextInt(max - min + 1));
  }

  /** A source that makes no progress: every read returns 0. */
  static ChunkedChannel stalled() {
    return new ChunkedChannel(new byte[1], () -> 0);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (!open) {
      throw new ClosedChannelException();
    }
    reads++;
    if (at == data.length) {
      return -1;
    }
    int n = Math.min(Math.min(dst.remaining(), data.length - at), maxPerRead.getAsInt());
    dst.put(data, at, n);
    at += n;
    return n;
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
