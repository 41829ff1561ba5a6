package io.nocopy.bench.buffer;

import io.netty.buffer.ByteBuf;
import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.BufWriter;
import io.nocopy.buffer.ChunkConsumer;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import okio.Buffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * GoMem's StreamingServer: frames of 1, 2, 3 KiB in turn, each forwarded to 3 subscribers.
 * GoMem's bufio side allocates each frame and copies it for every subscriber; its BufReader side
 * hands the chunks of one range to the subscribers, valid only during the callback ({@code
 * nocopyRange}, GoMem's exact work). {@code nocopySlice} is what a relay really needs: each
 * subscriber gets its own retained {@link Slice} it may hold and write later; Netty's equivalent is
 * a retained slice per subscriber, Okio's a segment-sharing copy into the subscriber's buffer.
 */
public class StreamingServer extends BufferScenario {
  static final int SUBSCRIBERS = 3;

  /** The frame counter, per thread. */
  @State(Scope.Thread)
  public static class Frames {
    int n;

    int next() {
      return 1024 + (n++ % 3) * 1024;
    }
  }

  /** nocopy plus the fan-out callback, which needs the blackhole. */
  @State(Scope.Thread)
  public static class NocopyFanOut extends Sources.Nocopy {
    Blackhole bh;
    final ChunkConsumer fanOut =
        chunk -> {
          for (int i = 0; i < SUBSCRIBERS; i++) {
            bh.consume(chunk);
          }
        };
  }

  /**
   * nocopy as the relay sends: each subscriber has a {@link BufWriter} on its connection; a frame
   * is appended to each writer by reference and written with a gathering write. The connections
   * are {@link DiscardChannel}s, so only the buffer layer's own cost is measured.
   */
  @State(Scope.Thread)
  public static class NocopyWriters {
    Allocator alloc;
    BufReader reader;
    final BufWriter[] subscribers = new BufWriter[SUBSCRIBERS];
    final DiscardChannel sink = new DiscardChannel();

    @Setup(Level.Trial)
    public void open() {
      alloc = Allocator.builder().maxBytes(64L << 20).build();
      reader = BufReader.of(new MockNetwork(Sources.NETWORK_BYTES).channel(), alloc);
      for (int i = 0; i < SUBSCRIBERS; i++) {
        subscribers[i] = BufWriter.of(alloc);
      }
    }

    @TearDown(Level.Trial)
    public void close() {
      for (BufWriter w : subscribers) {
        w.close();
      }
      reader.close();
      if (alloc.inUse() != 0) {
        throw new IllegalStateException(alloc.inUse() + " blocks leaked");
      }
      alloc.close();
    }
  }

  /** Okio plus the subscribers' buffers. */
  @State(Scope.Thread)
  public static class OkioFanOut extends Sources.Okio3 {
    final Buffer frame = new Buffer();
    final Buffer[] subscribers = {new Buffer(), new Buffer(), new Buffer()};
  }

  @Benchmark
  public void seedBufio(Sources.Bufio8k s, Frames f, Blackhole bh) throws IOException {
    byte[] frame = new byte[f.next()];
    s.readFull(frame, frame.length);
    for (int i = 0; i < SUBSCRIBERS; i++) {
      byte[] copy = new byte[frame.length];
      System.arraycopy(frame, 0, copy, 0, frame.length);
      bh.consume(copy);
    }
  }

  @Benchmark
  public void fairBufio(Sources.Bufio8k s, Frames f, Blackhole bh) throws IOException {
    int n = f.next();
    s.readFull(s.reused, n);
    for (int i = 0; i < SUBSCRIBERS; i++) {
      bh.consume(s.reused);
    }
  }

  @Benchmark
  public void nocopyRange(NocopyFanOut s, Frames f, Blackhole bh) throws IOException {
    s.bh = bh;
    s.reader.readRange(f.next(), s.fanOut);
  }

  @Benchmark
  public void nocopySlice(Sources.Nocopy s, Frames f, Blackhole bh) throws IOException {
    try (Slice frame = s.reader.readSlice(f.next())) {
      for (int i = 0; i < SUBSCRIBERS; i++) {
        Slice mine = frame.retain();
        bh.consume(mine);
        mine.close();
      }
    }
  }

  @Benchmark
  public long nocopySliceWrite(NocopyWriters s, Frames f) throws IOException {
    long sent = 0;
    try (Slice frame = s.reader.readSlice(f.next())) {
      for (int i = 0; i < SUBSCRIBERS; i++) {
        try (Slice mine = frame.retain()) {
          sent += mine.writeTo(s.sink);
        }
      }
    }
    return sent;
  }

  @Benchmark
  public long nocopyWriters(NocopyWriters s, Frames f) throws IOException {
    long sent = 0;
    try (Slice frame = s.reader.readSlice(f.next())) {
      for (BufWriter w : s.subscribers) {
        w.write(frame);
        sent += w.writeTo(s.sink);
      }
    }
    return sent;
  }

  @Benchmark
  public void netty(Sources.Netty s, Frames f, Blackhole bh) throws IOException {
    int n = f.next();
    ByteBuf frame = s.require(n).readRetainedSlice(n);
    for (int i = 0; i < SUBSCRIBERS; i++) {
      ByteBuf mine = frame.retainedSlice();
      bh.consume(mine);
      mine.release();
    }
    frame.release();
    s.cumulation.discardReadComponents();
  }

  @Benchmark
  public void okio(OkioFanOut s, Frames f, Blackhole bh) throws IOException {
    int n = f.next();
    s.source.readFully(s.frame, n);
    for (int i = 0; i < SUBSCRIBERS; i++) {
      Buffer mine = s.subscribers[i];
      s.frame.copyTo(mine, 0, n);
      bh.consume(mine);
      mine.clear();
    }
    s.frame.clear();
  }

  @Benchmark
  public int memcpyFloor(Sources.Floor s, Frames f) {
    return s.copy(f.next());
  }
}
