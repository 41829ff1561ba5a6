package io.nocopy.bench.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ByteProcessor;
import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.ChunkConsumer;
import io.nocopy.memory.Allocator;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import okio.Buffer;
import okio.BufferedSource;
import okio.Okio;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One per-thread state per implementation, each reading GoMem's {@link MockNetwork} (16 MiB
 * looped, 64..2048 B per read, fixed seed). GoMem uses 10..100 MiB; 16 MiB keeps every source
 * out of the last-level cache alike without a 100 MiB array per fork.
 */
public final class Sources {
  static final int NETWORK_BYTES = 16 << 20;

  private Sources() {}

  /** GoMem's side: {@code bufio.NewReaderSize(conn, 4096)} as a {@link BufferedInputStream}. */
  @State(Scope.Thread)
  public static class Bufio {
    InputStream in;
    byte[] reused = new byte[4096];

    int bufferSize() {
      return 4096;
    }

    @Setup(Level.Trial)
    public void open() {
      in = new BufferedInputStream(new MockNetwork(NETWORK_BYTES).stream(), bufferSize());
    }

    /** Go's io.ReadFull. */
    void readFull(byte[] b, int n) throws IOException {
      if (in.readNBytes(b, 0, n) != n) {
        throw new IOException("mock network ended");
      }
    }

    static long sum(byte[] b, int n) {
      long s = 0;
      for (int i = 0; i < n; i++) {
        s += b[i];
      }
      return s;
    }
  }

  /** GoMem's streaming server uses an 8 KiB bufio buffer. */
  @State(Scope.Thread)
  public static class Bufio8k extends Bufio {
    @Override
    int bufferSize() {
      return 8192;
    }
  }

  /** nocopy: a {@link BufReader} on the default 32 KiB blocks of a private allocator. */
  @State(Scope.Thread)
  public static class Nocopy {
    Allocator alloc;
    BufReader reader;
    long sum;
    long bytes;

    /** Sums every byte of every chunk, as GoMem's checksum loops do. */
    final ChunkConsumer summing =
        chunk -> {
          long s = sum;
          int n = (int) chunk.byteSize();
          for (int i = 0; i < n; i++) {
            s += chunk.get(ValueLayout.JAVA_BYTE, i);
          }
          sum = s;
        };

    /** Looks at each chunk without touching its bytes (GoMem's {@code _ = data}). */
    final ChunkConsumer touching = chunk -> bytes += chunk.byteSize();

    @Setup(Level.Trial)
    public void open() {
      alloc = Allocator.builder().maxBytes(64L << 20).build();
      reader = BufReader.of(new MockNetwork(NETWORK_BYTES).channel(), alloc);
    }

    @TearDown(Level.Trial)
    public void close() {
      reader.close();
      if (alloc.inUse() != 0) {
        throw new IllegalStateException(alloc.inUse() + " blocks leaked");
      }
      alloc.close();
    }
  }

  /**
   * Netty as a {@code ByteToMessageDecoder} with {@code COMPOSITE_CUMULATOR} does it: each read
   * goes into a new pooled direct buffer (2 KiB, the adaptive receive allocator's initial guess),
   * which is added to a {@link CompositeByteBuf} without copying; consumed components are
   * discarded after every message.
   */
  @State(Scope.Thread)
  public static class Netty {
    static final int RECEIVE_BUFFER = 2048;
    ByteBufAllocator alloc;
    ReadableByteChannel channel;
    CompositeByteBuf cumulation;
    long sum;
    final ByteProcessor summing =
        b -> {
          sum += b;
          return true;
        };

    @Setup(Level.Trial)
    public void open() {
      alloc = PooledByteBufAllocator.DEFAULT;
      channel = new MockNetwork(NETWORK_BYTES).channel();
      cumulation = alloc.compositeDirectBuffer(Integer.MAX_VALUE);
    }

    /** Reads until {@code n} bytes are readable; returns the cumulation. */
    CompositeByteBuf require(int n) throws IOException {
      while (cumulation.readableBytes() < n) {
        ByteBuf b = alloc.directBuffer(RECEIVE_BUFFER);
        ByteBuffer nio = b.internalNioBuffer(0, RECEIVE_BUFFER);
        int r = channel.read(nio);
        b.writerIndex(r);
        cumulation.addComponent(true, b);
      }
      return cumulation;
    }

    @TearDown(Level.Trial)
    public void close() {
      cumulation.release();
    }
  }

  /**
   * Okio: a {@link BufferedSource} over the stream, reading into pooled 8 KiB segments; bytes are
   * looked at in place through an {@link Buffer.UnsafeCursor}.
   */
  @State(Scope.Thread)
  public static class Okio3 {
    BufferedSource source;
    Buffer buffer;
    final Buffer.UnsafeCursor cursor = new Buffer.UnsafeCursor();
    long sum;
    long bytes;

    @Setup(Level.Trial)
    public void open() {
      source = Okio.buffer(Okio.source(new MockNetwork(NETWORK_BYTES).stream()));
      buffer = source.getBuffer();
    }

    /** Sums (or just visits, if {@code touchOnly}) the next {@code n} bytes in place, then skips them. */
    void consume(int n, boolean touchOnly) throws IOException {
      source.require(n);
      buffer.readUnsafe(cursor);
      try {
        long left = n;
        long s = sum;
        for (int avail = cursor.seek(0); left > 0; avail = cursor.next()) {
          int k = (int) Math.min(avail, left);
          if (touchOnly) {
            bytes += k;
          } else {
            byte[] d = cursor.data;
            for (int i = cursor.start, end = cursor.start + k; i < end; i++) {
              s += d[i];
            }
          }
          left -= k;
        }
        sum = s;
      } finally {
        cursor.close();
      }
      buffer.skip(n);
    }
  }

  /**
   * The floor: the same bytes copied once by {@link MemorySegment#copy} from the network array into
   * native memory (as the kernel's copy into a pooled block), at a cursor that walks a 32 KiB
   * region like the reader's blocks, with nothing else.
   */
  @State(Scope.Thread)
  public static class Floor {
    static final int REGION = 32 * 1024;
    Arena arena;
    MemorySegment network;
    MemorySegment region;
    int from;
    int to;
    long sum;

    @Setup(Level.Trial)
    public void open() {
      arena = Arena.ofConfined();
      network = MemorySegment.ofArray(new MockNetwork(NETWORK_BYTES).data);
      region = arena.allocate(REGION, 4096);
    }

    /**
     * Copies the next {@code n <= REGION} network bytes into the region; returns the region offset
     * they start at (no view object, so the floor allocates nothing).
     */
    int copy(int n) {
      if (from + n > NETWORK_BYTES) {
        from = 0;
      }
      if (to + n > REGION) {
        to = 0;
      }
      MemorySegment.copy(network, from, region, to, n);
      int at = to;
      from += n;
      to += n;
      return at;
    }

    /** Sums {@code n} region bytes from {@code at}. */
    long sum(int at, int n) {
      long x = sum;
      for (int i = at; i < at + n; i++) {
        x += region.get(ValueLayout.JAVA_BYTE, i);
      }
      sum = x;
      return x;
    }

    @TearDown(Level.Trial)
    public void close() {
      arena.close();
    }
  }
}
