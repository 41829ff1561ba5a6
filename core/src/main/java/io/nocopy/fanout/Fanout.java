package io.nocopy.fanout;

import io.nocopy.buffer.BufWriter;
import io.nocopy.buffer.ChunkConsumer;
import io.nocopy.internal.linux.Native;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One source delivered to many sinks, each at its own pace; a sink that falls too far behind the
 * others is dropped without slowing the source or the other sinks, and the source is never read
 * faster than the fastest sink drains. The delivery engine of a stream relay.
 *
 * <pre>{@code
 * try (Fanout f = Fanout.builder().burst(64 << 10).listener(events).open(Source.channel(socket))) {
 *   f.sink(listenerSocket).prefix(responseHead).add();
 *   f.start();
 *   f.join();
 * }
 * }</pre>
 *
 * <h2>Parts</h2>
 *
 * <ul>
 *   <li>A {@link Source}: a channel the kernel can move, or a {@link SliceSource}.
 *   <li>A transport, chosen once ({@link #transport()}): {@link TransportKind#KERNEL} (splice into
 *       a staging pipe, tee into each sink's pipe, splice on; the payload never enters the JVM) or
 *       {@link TransportKind#USERSPACE} (references to the same pooled blocks for every sink, sent
 *       by address: no object per chunk, none per sink).
 *       Each transport keeps its own burst: the last {@link Builder#burst} bytes, given to every
 *       sink added later before the live stream.
 *   <li>Sinks ({@link Sink}), each with one owner state machine ({@code Handover}) and optional
 *       per-sink hooks: a {@link StartPosition} and {@link Insertions}.
 *   <li>An optional source tap ({@link Builder#tap}): sees every source byte once, on the source
 *       thread, before the sinks get it (a format parser). On the kernel transport the chunk is
 *       tee'd into a parser pipe and read from there into one pooled block: one read per source
 *       chunk, none per sink.
 *   <li>One pacer ({@code Pacer}): with {@link Builder#coalesce} a slow source's bytes gather for
 *       a moment, so each step moves a window's worth.
 *   <li>Backpressure ({@code SourceHold}): while every sink has more than an eighth of its bound
 *       queued, the source is not read (at most 2 s in a row; then the sinks still behind are
 *       dropped when they overflow, as any sink far behind). An unpaced source, a cascade or a
 *       recording catching up thus goes at the pace of its fastest sink instead of losing them all;
 *       a sink nearly full is waited for while it drains at least a third as fast as the others'
 *       mean, so alike listeners are all kept and a stuck one is still dropped.
 * </ul>
 *
 * <h2>Order</h2>
 *
 * Delivering a chunk, adding a sink (with its burst) and removing a sink's books are serialized by
 * one delivery lock, so a new sink sees its burst and then exactly the chunks after it, without a
 * gap or a duplicate.
 *
 * <h2>Threads, ownership, lifetime</h2>
 *
 * {@link #start()} starts the source thread; each sink has its own writer thread; all come from
 * the builder's thread factories (virtual threads by default). The caller keeps the source's
 * channel and every sink's channel; the fan-out reports each sink's end exactly once to the
 * {@link FanoutListener}, after which the channel is the caller's alone again. {@link #close()}
 * ends everything; {@link #join()} waits for the end. The fan-out's counters are its own ({@link
 * #stats()}).
 *
 * <p>Thread safety: every public method may be called from any thread.
 */
public final class Fanout implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Fanout.class.getName());
  private static final Sink[] NO_SINKS = new Sink[0];
  /** Sends per io_uring submission (a step with more sinks submits several times). */
  private static final int URING_ENTRIES = 256;

  final int sinkBound;
  final int burstBytes;
  final Allocator allocator;
  final ChunkConsumer tap; // null: none
  private final FanoutListener listener;
  private final ThreadFactory threads;
  private final ThreadFactory sourceThreads;
  final Transport transport;
  final UringSends sends; // null: each direct write is its own system call
  /**
   * The delivering thread's writer, under the delivery lock: a userspace sink's share of a chunk
   * goes through it by reference to the idle socket, and what the socket does not take moves on to
   * the sink's queue ({@link UserPort}); inserted bytes are copied into its block. Empty between
   * uses; closed when the source ends.
   */
  final BufWriter deliveryWriter;
  private final Pacer pacer;
  final SourceHold hold = new SourceHold(this);
  // life cycle, under lock
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition ended = lock.newCondition();
  private int live; // running threads
  private boolean sourceDone;
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile boolean closed;
  private volatile boolean sourceEnding; // endSource(): the stream ends at the next chunk boundary
  private volatile Thread sourceThread;
  // Delivering a chunk, adding a sink and forgetting one hold this lock.
  final ReentrantLock delivery = new ReentrantLock();
  private volatile Sink[] sinks = NO_SINKS; // copy-on-write under delivery
  // counters of this fan-out
  final Counters counters = new Counters();

  /** This fan-out's counters (each sink keeps its own byte counts too). */
  static final class Counters {
    volatile long bytesIn; // written by the source thread only
    volatile long chunks; // written by the source thread only
    final LongAdder byWriters = new LongAdder();
    final LongAdder direct = new LongAdder();
    final LongAdder inserted = new LongAdder();
    final LongAdder added = new LongAdder();
    final LongAdder tooSlow = new LongAdder();
    final LongAdder failed = new LongAdder();
  }

  private Fanout(Builder b, Source src) throws IOException {
    this.sinkBound = b.bound;
    this.burstBytes = b.burst;
    this.listener = b.listener;
    this.tap = b.tap;
    this.threads = b.threads;
    this.sourceThreads = b.sourceThreads != null ? b.sourceThreads : b.threads;
    this.allocator = b.allocator != null ? b.allocator : Native.sharedAllocator();
    this.deliveryWriter = BufWriter.of(allocator);
    if (burstBytes > sinkBound) {
      closeLeading(src);
      throw new IllegalArgumentException(
          "burst (" + burstBytes + " bytes) is larger than the sink bound (" + sinkBound + " bytes)");
    }
    this.pacer = b.coalesceBytes > 0
        ? Pacer.adaptive(b.coalesceBytes, b.coalesceMinNanos, b.coalesceNanos)
        : Pacer.fixed(b.coalesceNanos);
    this.transport = Transport.open(this, src, b.transport);
    this.sends =
        b.ioUring && transport.kind() == TransportKind.USERSPACE
            ? UringSends.create(URING_ENTRIES, allocator)
            : null;
  }

  /** Closes the read-ahead slice of a source the fan-out will not read (it owns the handle). */
  static void closeLeading(Source src) {
    if (src instanceof Source.OfChannel ch && ch.leading() != null && !ch.leading().isClosed()) {
      ch.leading().close();
    }
  }

  static int checkBound(int bytes) {
    if (bytes < 4096) {
      throw new IllegalArgumentException("sink bound below one page: " + bytes);
    }
    return bytes;
  }

  /**
   * A builder with the defaults: 1 MiB bound, no burst, no coalescing, the transport chosen from
   * the source, no listener, virtual threads.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * How this fan-out moves bytes, chosen once when it was opened.
   *
   * @return the transport
   */
  public TransportKind transport() {
    return transport.kind();
  }

  /**
   * Why batching sends through io_uring ({@link Builder#ioUring}) cannot work in this process: an
   * old kernel, {@code kernel.io_uring_disabled}, a seccomp profile refusing {@code
   * io_uring_setup}, or no access to socket descriptors.
   *
   * @return the reason, or null where it works
   */
  public static String whyNoIoUring() {
    if (!io.nocopy.internal.linux.IoUring.available()) {
      return io.nocopy.internal.linux.IoUring.unavailableReason();
    }
    return io.nocopy.internal.linux.ChannelFds.unavailableReason();
  }

  /**
   * Whether the source thread's direct writes to idle sinks go to the kernel as one io_uring
   * submission per chunk ({@link Builder#ioUring}): asked for, on the userspace transport, and
   * io_uring works here (false once a ring error stopped it).
   *
   * @return true while sends are batched
   */
  public boolean ioUring() {
    return sends != null && sends.active();
  }

  /**
   * Starts the source thread. Sinks added before see the stream from its first byte.
   *
   * @throws IllegalStateException if already started or closed
   */
  public void start() {
    if (closed || !started.compareAndSet(false, true)) {
      throw new IllegalStateException(closed ? "fan-out is closed" : "fan-out already started");
    }
    spawn(sourceThreads, this::runSource);
  }

  /**
   * Starts configuring a sink; {@link SinkBuilder#add()} adds it.
   *
   * @param channel the sink's channel; stays the caller's, never closed by the fan-out
   * @return a builder for this fan-out's sink
   */
  public SinkBuilder sink(WritableByteChannel channel) {
    return new SinkBuilder(this, channel);
  }

  /**
   * Adds a sink with the defaults: the burst, then the live stream. The same as {@code
   * sink(channel).add()}.
   *
   * @param channel the sink's channel; stays the caller's, never closed by the fan-out
   * @return the sink's handle
   * @throws IOException if the sink's pipe or queue cannot be made
   * @throws IllegalStateException if the source already ended or the fan-out is closed
   */
  public Sink add(WritableByteChannel channel) throws IOException {
    return sink(channel).add();
  }

  Sink add(SinkBuilder b) throws IOException {
    if (b.transport == TransportKind.KERNEL && transport.kind() != TransportKind.KERNEL) {
      throw new IllegalArgumentException("a kernel sink needs a kernel fan-out");
    }
    Port port = transport.newPort(b);
    Sink s;
    delivery.lock();
    try {
      lock.lock();
      try {
        if (sourceDone || closed) {
          throw new IllegalStateException("the fan-out's source has ended");
        }
      } finally {
        lock.unlock();
      }
      long live = counters.bytesIn;
      long oldest = transport.burstStart();
      StartPosition.Choice choice = b.start.decide(oldest, live);
      long start = Math.max(oldest, choice.position());
      Hooks hooks = Hooks.of(b, choice.header() != null ? choice.header() : b.header, start, live);
      s = new Sink(this, b, port, start, hooks);
      if (hooks != null) {
        hooks.begin(s);
      }
      transport.giveBurst(s, start);
      Sink[] cur = sinks;
      Sink[] next = Arrays.copyOf(cur, cur.length + 1);
      next[cur.length] = s;
      sinks = next;
      counters.added.increment();
      hold.wake(); // a sink that is not behind ends a hold
    } catch (IOException | RuntimeException e) {
      port.stop();
      port.release();
      throw e;
    } finally {
      delivery.unlock();
    }
    spawn(threads, s::run);
    return s;
  }

  /**
   * The sinks currently receiving.
   *
   * @return a snapshot
   */
  public List<Sink> sinks() {
    return List.of(sinks);
  }

  /**
   * Bytes read from the source so far.
   *
   * @return the count
   */
  public long bytesIn() {
    return counters.bytesIn;
  }

  /**
   * This fan-out's counters now.
   *
   * @return a snapshot; the counters are read one by one, not atomically together
   */
  public FanoutStats stats() {
    Counters c = counters;
    return new FanoutStats(c.bytesIn, c.chunks, c.direct.sum(), c.byWriters.sum(),
        c.inserted.sum(), c.added.sum(), sinks.length, c.tooSlow.sum(), c.failed.sum(),
        hold.heldNanos(), pacer.active() ? pacer.windowNanos() : 0, pacer.rate());
  }

  /**
   * Waits until the source has ended and every sink has ended.
   *
   * @throws InterruptedException if interrupted while waiting
   */
  public void join() throws InterruptedException {
    lock.lock();
    try {
      while (live > 0 || (started.get() && !sourceDone && !closed)) {
        ended.await();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops reading the source and ends every sink with {@link Reason#CLOSED}. The kernel
   * transport's source thread stops within 100 ms; a userspace source thread blocked in its
   * source's read stops when that read returns (close the source too to end it at once).
   * Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    if (started.compareAndSet(false, true)) {
      transport.end(); // never started: the source thread will not free the source side
      delivery.lock();
      try {
        deliveryWriter.close(); // nor close the delivery writer (add() sees closed from now on)
      } finally {
        delivery.unlock();
      }
    }
    for (Sink s : sinks) {
      s.drop(Reason.CLOSED);
    }
    transport.close();
    Thread t = sourceThread;
    if (t != null) {
      LockSupport.unpark(t);
    }
    lock.lock();
    try {
      ended.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Ends the stream as if the source had ended, at the boundary of the chunk being delivered: no
   * further chunk is read, every sink writes out what it has and finishes, and the source thread
   * returns as at the source's end. For a source that must be stopped while it still sends (an
   * admin's kill): shutting its socket's input down is not enough, because the kernel goes on
   * queueing what arrives and a paced reader always finds some. The source's channel stays
   * open; its owner closes it when the source thread has returned. A source thread waiting for a
   * quiet source wakes when the source is readable (shut its input down to make it so).
   * Thread-safe and idempotent.
   */
  public void endSource() {
    sourceEnding = true;
    Thread t = sourceThread;
    if (t != null) {
      LockSupport.unpark(t); // out of a pacing park at once
    }
  }

  boolean closed() {
    return closed;
  }

  /** The sinks receiving now (the array is never modified: copy-on-write). */
  Sink[] sinksNow() {
    return sinks;
  }

  private void spawn(ThreadFactory factory, Runnable body) {
    lock.lock();
    try {
      live++;
    } finally {
      lock.unlock();
    }
    Thread t =
        factory.newThread(
            () -> {
              try {
                body.run();
              } finally {
                lock.lock();
                try {
                  live--;
                  ended.signalAll();
                } finally {
                  lock.unlock();
                }
              }
            });
    t.start();
  }

  /** Writer thread of {@code s}, after its last write: forget it, release its backlog, report. */
  void sinkEnded(Sink s, Reason why, IOException error) {
    delivery.lock(); // after this no delivery reaches s: its backlog can be released
    try {
      Sink[] cur = sinks;
      int i = Arrays.asList(cur).indexOf(s);
      if (i >= 0) {
        Sink[] next = new Sink[cur.length - 1];
        System.arraycopy(cur, 0, next, 0, i);
        System.arraycopy(cur, i + 1, next, i, cur.length - i - 1);
        sinks = next;
      }
    } finally {
      delivery.unlock();
    }
    hold.wake(); // the sinks left may all have drained
    s.port.release();
    if (why == Reason.TOO_SLOW) {
      counters.tooSlow.increment();
    } else if (why == Reason.FAILED) {
      counters.failed.increment();
    }
    try {
      listener.sinkClosed(s, why, error);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "fan-out listener failed", e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // source

  private void runSource() {
    sourceThread = Thread.currentThread();
    IOException error = null;
    try {
      pump();
    } catch (IOException e) {
      if (!closed) {
        error = e;
      }
    } finally {
      if (sends != null) {
        sends.close();
      }
      transport.end();
      sourceThread = null;
      Sink[] last;
      delivery.lock();
      try {
        lock.lock();
        try {
          sourceDone = true;
          last = sinks;
          ended.signalAll();
        } finally {
          lock.unlock();
        }
        deliveryWriter.close(); // no sink is added, nothing delivered after this
      } finally {
        delivery.unlock();
      }
      for (Sink s : last) {
        s.endOfStream(); // writers drain what they have, then finish
      }
      transport.close();
      try {
        listener.sourceEnded(counters.bytesIn, error);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "fan-out listener failed", e);
      }
    }
  }

  /**
   * The source loop: wait while every sink is behind ({@link SourceHold}), read a chunk, give it
   * to every sink and the burst, pace.
   */
  private void pump() throws IOException {
    transport.begin();
    while (!closed) {
      hold.await();
      if (sourceEnding) {
        return; // as at the source's end
      }
      Chunk c = transport.read();
      long stepStart = System.nanoTime();
      if (c == null) {
        return;
      }
      if (c == Chunk.NONE) {
        transport.awaitSource();
        pacer.afterWait(counters.bytesIn, closed);
        continue;
      }
      if (tap != null) {
        transport.tap(c, tap); // before any sink: a start it finds here is known when one is added
      }
      delivery.lock();
      try {
        for (Sink s : sinks) {
          s.deliver(c);
        }
        if (sends != null) {
          sends.flush(); // before the chunk is released: the kernel has read it when this returns
        }
        transport.keepBurst(c);
        counters.bytesIn = c.position + c.length;
        counters.chunks = counters.chunks + 1;
      } finally {
        delivery.unlock();
      }
      transport.done(c);
      if (pacer.active()) {
        pacer.afterStep(stepStart, counters.bytesIn, transport.waiting(), closed);
      }
    }
  }

  /** Configures a {@link Fanout}. Not thread-safe; build once. */
  public static final class Builder {
    private int bound = 1 << 20;
    private int burst;
    private long coalesceNanos; // the fixed window, or the adaptive window's most
    private long coalesceMinNanos;
    private long coalesceBytes; // > 0: adaptive
    private TransportKind transport;
    private boolean ioUring = Boolean.getBoolean("nocopy.fanout.iouring");
    private Allocator allocator;
    private ChunkConsumer tap;
    private FanoutListener listener = new FanoutListener() {};
    private ThreadFactory threads = Thread.ofVirtual().name("nocopy-fanout-", 0).factory();
    private ThreadFactory sourceThreads;

    private Builder() {}

    /**
     * How far (bytes) a sink may fall behind before it is dropped (each sink may set its own with
     * {@link SinkBuilder#bound}).
     *
     * @param bytes at least 4096; on the kernel transport above {@code /proc/sys/fs/pipe-max-size}
     *     only with {@code CAP_SYS_RESOURCE} (such sinks then fall back to userspace)
     * @return this builder
     * @throws IllegalArgumentException if below 4096
     */
    public Builder sinkBound(int bytes) {
      this.bound = checkBound(bytes);
      return this;
    }

    /**
     * Keeps the last {@code bytes} of the stream and gives them to each sink added later, before
     * the live stream. Default 0: none.
     *
     * @param bytes 0 or more, at most the sink bound ({@link #open} checks)
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder burst(int bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("negative burst: " + bytes);
      }
      this.burst = bytes;
      return this;
    }

    /**
     * How long the source thread lets a slow source's bytes gather before it moves them. A live
     * stream that arrives packet by packet then costs one step per sink per interval instead of
     * per packet, for up to that much added latency. Sources above 8 MiB/s (over 100 ms windows),
     * and any source whose bytes are already waiting, never wait. Default 0.
     *
     * @param time zero or more, at most one second
     * @return this builder
     * @throws IllegalArgumentException if negative or above one second
     */
    public Builder coalesce(Duration time) {
      this.coalesceNanos = checkWindow(time);
      this.coalesceMinNanos = coalesceNanos;
      this.coalesceBytes = 0;
      return this;
    }

    /**
     * Like {@link #coalesce}, with a window that adapts to the source's rate: the time the source
     * takes to bring {@code bytesPerStep} bytes (at its rate measured over about the last second),
     * at least {@code least} and at most {@code most}; {@code least} until the rate is known. A
     * step's cost is per sink rather than per byte, so a slow stream gets a long window and a fast
     * one a short one: each sink's send carries about {@code bytesPerStep} either way, for at most
     * {@code most} added latency. Replaces a fixed window.
     *
     * @param bytesPerStep the bytes each step aims to move, at least 1
     * @param least the shortest window, above zero
     * @param most the longest window, at least {@code least}, at most one second
     * @return this builder
     * @throws IllegalArgumentException if a value is out of range
     */
    public Builder coalesceFor(int bytesPerStep, Duration least, Duration most) {
      long min = checkWindow(least);
      long max = checkWindow(most);
      if (bytesPerStep < 1 || min == 0 || max < min) {
        throw new IllegalArgumentException("adaptive coalescing needs bytesPerStep >= 1 and "
            + "0 < least <= most: " + bytesPerStep + ", " + least + ", " + most);
      }
      this.coalesceBytes = bytesPerStep;
      this.coalesceMinNanos = min;
      this.coalesceNanos = max;
      return this;
    }

    private static long checkWindow(Duration time) {
      if (time.isNegative() || time.compareTo(Duration.ofSeconds(1)) > 0) {
        throw new IllegalArgumentException("coalesce time outside 0..1 s: " + time);
      }
      return time.toNanos();
    }

    /**
     * The transport. By default {@link TransportKind#KERNEL} when splice acceleration is on and
     * the source is a channel with a file descriptor, else {@link TransportKind#USERSPACE}.
     *
     * @param kind the transport; {@link TransportKind#KERNEL} makes {@link #open} fail where the
     *     kernel transport is not possible
     * @return this builder
     */
    public Builder transport(TransportKind kind) {
      this.transport = Objects.requireNonNull(kind, "kind");
      return this;
    }

    /**
     * Whether the userspace transport batches its direct writes through io_uring: the source
     * thread sends a chunk to every idle sink with one {@code io_uring_enter} instead of one
     * {@code write} per sink. Where io_uring does not work (an old kernel, {@code
     * kernel.io_uring_disabled}, a seccomp profile) the fan-out says why once and writes as
     * without it; see {@link Fanout#ioUring()}. No effect on the kernel transport. Default: the
     * system property {@code nocopy.fanout.iouring} ({@code false} if unset).
     *
     * @param on whether to batch
     * @return this builder
     */
    public Builder ioUring(boolean on) {
      this.ioUring = on;
      return this;
    }

    /**
     * The allocator of the pooled memory the fan-out uses (the userspace transport's chunks,
     * copies for userspace sinks, inserted bytes). Default: a process-wide allocator of the
     * library (256 MiB cap). Stays the caller's; it must outlive the fan-out's threads.
     *
     * @param a the allocator
     * @return this builder
     */
    public Builder allocator(Allocator a) {
      this.allocator = Objects.requireNonNull(a, "allocator");
      return this;
    }

    /**
     * A source tap: called with every source byte exactly once, in stream order, on the source
     * thread, before the chunk that holds them reaches any sink or the burst (a format scanner
     * that finds where a new sink may start). One or more calls per chunk; the segments are
     * valid only during each call (pooled memory the fan-out reuses). On the kernel transport
     * the chunk is tee'd into a parser pipe and read from it into one pooled block per fan-out:
     * the sinks' bytes stay in the kernel. Default: none.
     *
     * @param consumer called on the source thread; an exception it throws ends the source with
     *     that error
     * @return this builder
     */
    public Builder tap(ChunkConsumer consumer) {
      this.tap = Objects.requireNonNull(consumer, "consumer");
      return this;
    }

    /**
     * Who hears about sinks and the source ending.
     *
     * @param l the listener
     * @return this builder
     */
    public Builder listener(FanoutListener l) {
      this.listener = Objects.requireNonNull(l, "listener");
      return this;
    }

    /**
     * Where the source and sink threads come from (default: virtual threads).
     *
     * @param f the factory
     * @return this builder
     */
    public Builder threadFactory(ThreadFactory f) {
      this.threads = Objects.requireNonNull(f, "threads");
      return this;
    }

    /**
     * Where the source thread comes from, when it should differ from the sinks'. The source
     * thread does the steady work and waits for the source between chunks; a platform thread
     * waits in poll(2) itself, which costs less CPU per chunk for one long-lived thread.
     *
     * @param f the factory
     * @return this builder
     */
    public Builder sourceThreadFactory(ThreadFactory f) {
      this.sourceThreads = Objects.requireNonNull(f, "threads");
      return this;
    }

    /**
     * Creates the fan-out over {@code src}; call {@link Fanout#start()} to begin reading.
     *
     * @param src the source; its channel stays the caller's
     * @return a new fan-out owned by the caller, who closes it
     * @throws IOException if the transport's pipes cannot be created
     * @throws IllegalArgumentException if the burst exceeds the bound, or {@link
     *     TransportKind#KERNEL} was asked for and is not possible (the message says why)
     */
    public Fanout open(Source src) throws IOException {
      return new Fanout(this, Objects.requireNonNull(src, "src"));
    }
  }
}
