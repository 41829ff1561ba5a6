package io.nocopy.bench.buffer;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * The seed's mock network source: an endless loop over {@code size} bytes ({@code i % 256}), each
 * read returning a random 64..2048 bytes (never more than the caller asked for or than is left
 * before the loop point), from a generator with a fixed seed (42), so every implementation sees the
 * same sequence of read sizes.
 *
 * <p>It is offered as a {@link ReadableByteChannel} (nocopy, Netty) and an {@link InputStream}
 * (BufferedInputStream, Okio); both copy out of the same heap array, standing in for the kernel's
 * one copy into user memory.
 */
final class MockNetwork {
  static final int MIN_CHUNK = 64;
  static final int MAX_CHUNK = 2048;

  final byte[] data;
  private int offset;
  private long rng = 42;

  MockNetwork(int size) {
    data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) i;
    }
  }

  /** The size of the next read when the caller has room for {@code room} bytes. */
  int next(int room) {
    if (offset >= data.length) {
      offset = 0;
    }
    int maxRead = Math.min(room, data.length - offset);
    int chunk = MIN_CHUNK;
    if (maxRead > MIN_CHUNK) {
      int maxPossible = Math.min(MAX_CHUNK, maxRead);
      chunk = MIN_CHUNK + nextInt(maxPossible - MIN_CHUNK + 1);
    }
    return Math.min(chunk, maxRead);
  }

  private int nextInt(int bound) { // xorshift64*, fixed seed: reproducible and allocation-free
    long x = rng;
    x ^= x >>> 12;
    x ^= x << 25;
    x ^= x >>> 27;
    rng = x;
    return (int) Long.remainderUnsigned(x * 0x2545F4914F6CDD1DL, bound);
  }

  ReadableByteChannel channel() {
    return new ReadableByteChannel() {
      @Override
      public int read(ByteBuffer dst) {
        int n = next(dst.remaining());
        dst.put(data, offset, n);
        offset += n;
        return n;
      }

      @Override
      public boolean isOpen() {
        return true;
      }

      @Override
      public void close() {}
    };
  }

  InputStream stream() {
    return new InputStream() {
      @Override
      public int read() {
        int n = next(1);
        return n == 0 ? -1 : data[offset++] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (len == 0) {
          return 0;
        }
        int n = next(len);
        System.arraycopy(data, offset, b, off, n);
        offset += n;
        return n;
      }
    };
  }
}
