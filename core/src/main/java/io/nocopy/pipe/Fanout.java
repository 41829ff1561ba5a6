package io.nocopy.pipe;

import io.nocopy.buffer.BufWriter;
import io.nocopy.buffer.Slice;
import io.nocopy.fanout.FanoutListener;
import io.nocopy.fanout.Source;
import io.nocopy.internal.linux.Native;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;

/**
 * The former fan-out API, kept only until its last user has moved: every call goes to {@link
 * io.nocopy.fanout.Fanout}, which delivers the bytes (this class holds no delivery code).
 *
 * @deprecated use {@link io.nocopy.fanout.Fanout}: {@code Fanout.builder()...open(Source.channel(ch,
 *     leading))}, {@code fanout.sink(ch).prefix(bytes).add()}, {@link FanoutListener}
 */
@Deprecated
public final class Fanout implements AutoCloseable {
  private final io.nocopy.fanout.Fanout f;
  private final Map<io.nocopy.fanout.Sink, Sink> handles = new ConcurrentHashMap<>();

  /** Why a sink ended. */
  public enum Reason {
    /** The source ended and every byte was written to the sink. */
    FINISHED,
    /** {@link Sink#remove()} was called. */
    REMOVED,
    /** The sink fell more than the bound behind. */
    TOO_SLOW,
    /** Writing to the sink failed (the error is reported). */
    FAILED,
    /** The fan-out was closed. */
    CLOSED
  }

  /** Callbacks of a fan-out, as {@link FanoutListener}'s. */
  public interface Listener {
    /**
     * A sink ended; called exactly once per sink, on its writer thread, after its last write.
     *
     * @param sink the sink; its channel is the caller's again
     * @param reason why it ended
     * @param error the write error for {@link Reason#FAILED}, else null
     */
    default void sinkClosed(Sink sink, Reason reason, IOException error) {}

    /**
     * The source ended; called once on the source thread.
     *
     * @param bytes bytes read from the source
     * @param error the read error, or null at end of stream or close
     */
    default void sourceEnded(long bytes, IOException error) {}
  }

  private Fanout(io.nocopy.fanout.Fanout f) {
    this.f = f;
  }

  /**
   * A builder with the defaults: 1 MiB bound, no listener, virtual threads.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Whether bytes move by splice/tee.
   *
   * @return true on the kernel transport
   */
  public boolean accelerated() {
    return f.transport() == io.nocopy.fanout.TransportKind.KERNEL;
  }

  /** Starts the source thread. */
  public void start() {
    f.start();
  }

  /**
   * Adds a sink that receives the burst, then the live stream.
   *
   * @param dst the sink's channel; stays the caller's
   * @return the sink's handle
   * @throws IOException if the sink's pipe cannot be made
   */
  public Sink add(WritableByteChannel dst) throws IOException {
    return add(dst, null);
  }

  /**
   * Adds a sink that first receives {@code prefix}, then the burst and the live stream.
   *
   * @param dst the sink's channel; stays the caller's
   * @param prefix bytes written first, or null; not changed afterwards by the caller
   * @return the sink's handle
   * @throws IOException if the sink's pipe cannot be made
   */
  public Sink add(WritableByteChannel dst, ByteBuffer prefix) throws IOException {
    Sink s = new Sink(f.sink(dst).prefix(prefix).add());
    handles.put(s.sink, s);
    if (!s.sink.isOpen()) {
      handles.remove(s.sink); // it ended already (and was reported with a handle of its own)
    }
    return s;
  }

  /**
   * The sinks currently receiving.
   *
   * @return a snapshot
   */
  public List<Sink> sinks() {
    List<Sink> out = new ArrayList<>();
    for (io.nocopy.fanout.Sink s : f.sinks()) {
      Sink h = handles.get(s);
      if (h != null) {
        out.add(h);
      }
    }
    return out;
  }

  /**
   * Bytes read from the source so far.
   *
   * @return the count
   */
  public long bytesIn() {
    return f.bytesIn();
  }

  /**
   * Waits until the source and every sink have ended.
   *
   * @throws InterruptedException if interrupted while waiting
   */
  public void join() throws InterruptedException {
    f.join();
  }

  /** Ends everything. Idempotent. */
  @Override
  public void close() {
    f.close();
  }

  /** One receiver of the stream. */
  public static final class Sink {
    private final io.nocopy.fanout.Sink sink;

    private Sink(io.nocopy.fanout.Sink sink) {
      this.sink = sink;
    }

    /**
     * The sink's channel, owned by the caller.
     *
     * @return the channel
     */
    public WritableByteChannel channel() {
      return sink.channel();
    }

    /**
     * Bytes written to the channel so far, the prefix included.
     *
     * @return the count
     */
    public long bytesWritten() {
      return sink.bytesWritten();
    }

    /**
     * Why the sink ended, or null while it runs.
     *
     * @return the reason or null
     */
    public Reason reason() {
      io.nocopy.fanout.Reason r = sink.reason();
      return r == null ? null : Reason.valueOf(r.name());
    }

    /** Stops the sink. */
    public void remove() {
      sink.remove();
    }
  }

  /** Configures a {@link Fanout}. */
  public static final class Builder {
    private final io.nocopy.fanout.Fanout.Builder b = io.nocopy.fanout.Fanout.builder();
    private ByteBuffer leading;
    private Listener listener = new Listener() {};

    private Builder() {}

    /**
     * How far (bytes) a sink may fall behind before it is dropped.
     *
     * @param bytes at least 4096
     * @return this builder
     */
    public Builder sinkBound(int bytes) {
      b.sinkBound(bytes);
      return this;
    }

    /**
     * Bytes of recent stream given to each sink added later.
     *
     * @param bytes 0 or more, at most the bound
     * @return this builder
     */
    public Builder burst(int bytes) {
      b.burst(bytes);
      return this;
    }

    /**
     * The coalescing window for slow sources.
     *
     * @param time 0 to 1 s
     * @return this builder
     */
    public Builder coalesce(Duration time) {
      b.coalesce(time);
      return this;
    }

    /**
     * Bytes already read from the source, delivered first.
     *
     * @param bytes read from position to limit when the fan-out opens, or null
     * @return this builder
     */
    public Builder leading(ByteBuffer bytes) {
      this.leading = bytes;
      return this;
    }

    /**
     * Who hears about sinks and the source ending.
     *
     * @param l the listener
     * @return this builder
     */
    public Builder listener(Listener l) {
      this.listener = Objects.requireNonNull(l, "listener");
      return this;
    }

    /**
     * Where the source and sink threads come from.
     *
     * @param f the factory
     * @return this builder
     */
    public Builder threadFactory(ThreadFactory f) {
      b.threadFactory(f);
      return this;
    }

    /**
     * Where the source thread comes from.
     *
     * @param f the factory
     * @return this builder
     */
    public Builder sourceThreadFactory(ThreadFactory f) {
      b.sourceThreadFactory(f);
      return this;
    }

    /**
     * Creates the fan-out over {@code src}.
     *
     * @param src the source; stays the caller's
     * @return a new fan-out owned by the caller
     * @throws IOException if the transport's pipes cannot be made
     */
    public Fanout open(ReadableByteChannel src) throws IOException {
      Slice lead = null;
      if (leading != null && leading.hasRemaining()) {
        try (BufWriter w = BufWriter.of(Native.sharedAllocator())) {
          lead = w.write(java.lang.foreign.MemorySegment.ofBuffer(leading)).toSlice();
        }
      }
      Fanout[] self = new Fanout[1];
      Listener l = listener;
      b.listener(new FanoutListener() {
        @Override
        public void sinkClosed(io.nocopy.fanout.Sink sink, io.nocopy.fanout.Reason reason,
            IOException error) {
          Sink h = self[0].handles.remove(sink);
          l.sinkClosed(h != null ? h : new Sink(sink), Reason.valueOf(reason.name()), error);
        }

        @Override
        public void sourceEnded(long bytes, IOException error) {
          l.sourceEnded(bytes, error);
        }
      });
      self[0] = new Fanout(b.open(Source.channel(src, lead)));
      return self[0];
    }
  }
}
