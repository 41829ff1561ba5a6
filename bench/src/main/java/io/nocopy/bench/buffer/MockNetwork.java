package io.nocopy.bench.buffer;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * GoMem's mock network source: an endless loop over {@code size} bytes ({@code i % 256}), each
 * read returning a random 64..2048 bytes (never more than the caller asked for or than is left
 * before the loop point), from a generator with a fixed seed (42), so every implementation sees the
 * same sequence of read sizes.
 *
 * <p>It is offered as a {@link ReadableByteChannel} (nocopy, Netty) and an {@link InputStream}
 * (BufferedInputStream, Okio). The heap array stands in for the kernel's socket buffer, and each
 * side pays what a real socket costs it in the JDK:
 *
 * <ul>
 *   <li>{@link #channel()}: {@code SocketChannel.read} into a direct buffer is one copy, the
 *       kernel's, straight into the caller's native memory;
 *   <li>{@link #stream()}: a socket's {@code InputStream} ({@code sun.nio.ch.NioSocketImpl.tryRead})
 *       cannot hand a Java array to the kernel: it reads into a per-thread temporary direct buffer
 *       and then copies those bytes into the caller's array ({@code dst.get(b, off, n)}): the
 *       kernel's copy plus one more. Without that second copy a stream reader would be measured as
 *       if the kernel wrote into the Java heap, which no socket does.
 * </ul>
 */
final class MockNetwork {
  static final int MIN_CHUNK = 64;
  static final int MAX_CHUNK = 2048;

  final byte[] data;
  private final MemorySegment dataSegment;
  private int offset;
  private long rng = 42;

  MockNetwork(int size) {
    data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) i;
    }
    dataSegment = MemorySegment.ofArray(data);
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
    // the JDK's cached temporary direct buffer (reads never return more than MAX_CHUNK bytes)
    MemorySegment temporary = Arena.ofAuto().allocate(MAX_CHUNK, 64);
    return new InputStream() {
      @Override
      public int read() {
        int n = next(1);
        if (n == 0) {
          return -1;
        }
        MemorySegment.copy(dataSegment, offset++, temporary, 0, 1);
        return temporary.get(ValueLayout.JAVA_BYTE, 0) & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (len == 0) {
          return 0;
        }
        int n = next(len);
        MemorySegment.copy(dataSegment, offset, temporary, 0, n); // the kernel's copy
        MemorySegment.copy(temporary, ValueLayout.JAVA_BYTE, 0, b, off, n); // NioSocketImpl's
        offset += n;
        return n;
      }
    };
  }
}
