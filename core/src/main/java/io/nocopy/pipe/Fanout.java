package io.nocopy.pipe;

import io.nocopy.internal.linux.GuardedFd;
import io.nocopy.internal.linux.KernelPipe;
import io.nocopy.internal.linux.Op;
import io.nocopy.internal.linux.Native;
import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.Syscalls;
import io.nocopy.memory.Block;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One source delivered to many sinks, each at its own pace; a sink that falls too far behind is
 * dropped without slowing the source or the other sinks. The building block of a stream relay.
 *
 * <h2>How bytes move</h2>
 *
 * <b>Kernel path</b> ({@link #accelerated()}): the source thread splices the source into a
 * staging pipe, tee(2)s each chunk into every sink's own pipe (never waiting: a sink whose pipe
 * cannot take the whole chunk is dropped) and discards the staging copy; each sink's writer thread
 * splices its pipe into the sink's channel. No byte enters the JVM. <b>Userspace path</b>: the
 * source thread reads into pooled blocks and hands each chunk to every sink's bounded queue as a
 * shared, reference-counted block (one {@link Block#retain()} per sink, released by the sink after
 * writing); a sink whose queue cannot take the chunk is dropped.
 *
 * <h2>Direct delivery (kernel path)</h2>
 *
 * A sink that keeps up costs no thread wake-up: when its pipe is empty its writer thread hands the
 * channel to the source thread and parks, and the source thread, right after the tee, splices the
 * chunk on to the channel without waiting (one {@code tee} and one {@code splice} per sink per
 * chunk, the shape of Icecast's one non-blocking {@code send} per listener per read). Only when
 * the channel cannot take the whole chunk (a full socket buffer, a closed channel, an error) is
 * the writer unparked; it owns the channel again, waits for it, drains the backlog and hands it
 * back once the pipe is empty. Exactly one thread writes to a channel at a time (an atomic owner
 * flag moves between them), so bytes stay in order. Channels that cannot be polled (files) are
 * always written by their own thread, so a slow disk never stalls the source.
 *
 * <h2>Burst and leading bytes</h2>
 *
 * With {@link Builder#burst(int)} the fan-out keeps the last {@code burst} bytes of the stream (in
 * a kernel pipe, tee'd like a sink's copy, or as retained blocks on the userspace path) and gives
 * them to every sink added later before the live stream: a listener of a radio stream starts
 * playing at once. Delivering a chunk and adding a sink are serialized, so a new sink sees the
 * burst and then exactly the chunks after it, without a gap or a duplicate. {@link
 * Builder#leading(ByteBuffer)} hands over bytes the caller already read from the source (read
 * ahead while parsing a request head): they are the stream's first chunk.
 *
 * <h2>The bound</h2>
 *
 * {@link Builder#sinkBound(int)} bytes (default 1 MiB) may wait for a sink. On the kernel path the
 * bound is the sink pipe's capacity, which the kernel counts in pages: a source that delivers
 * small chunks fills a page per chunk, so the effective byte bound is smaller for it (at least one
 * chunk per page).
 *
 * <h2>Threads, ownership, lifetime</h2>
 *
 * {@link #start()} starts the source thread; each sink has its own writer thread; all come from
 * the builder's {@link ThreadFactory} (virtual threads by default). The caller keeps the source
 * and every sink channel: the fan-out never closes them. It reports each sink's end exactly once
 * to the {@link Listener}, on that sink's writer thread, after which the channel is the caller's
 * alone again (a relay closes it there). A sink that is dropped, removed or closed gets no further
 * bytes; bytes already queued for it are discarded. On the userspace path a sink that ends
 * while its writer is blocked in the channel's {@code write} is interrupted, which closes its
 * channel (the JDK's rule for interruptible channels); the kernel path never closes it. {@link
 * #close()} ends everything; {@link #join()} waits for the end.
 *
 * <p>Thread safety: every public method may be called from any thread.
 */
public final class Fanout implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Fanout.class.getName());
  private static final Sink[] NO_SINKS = new Sink[0];
  private static final int POLLIN_BITS = 1 | 8 | 16; // POLLIN | POLLERR | POLLHUP
  // owners of a kernel-path sink's channel
  private static final int IDLE = 0;
  private static final int SOURCE = 1;
  private static final int WRITER = 2;

  /** Bytes the source thread spliced straight to sinks' channels (tests and diagnostics). */
  static final java.util.concurrent.atomic.LongAdder DIRECT = new java.util.concurrent.atomic.LongAdder();

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

  /**
   * Callbacks of a fan-out. Called on the fan-out's threads; keep them short and do not block.
   * Exceptions thrown by a callback are logged and ignored.
   */
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
     * The source ended (end of stream, error or close); called once on the source thread.
     *
     * @param bytes bytes read from the source
     * @param error the read error, or null at end of stream or close
     */
    default void sourceEnded(long bytes, IOException error) {}
  }

  private final ReadableByteChannel src;
  private final int bound;
  private final Listener listener;
  private final ThreadFactory threads;
  private final ThreadFactory sourceThreads;
  private final boolean kernel;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition ended = lock.newCondition();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicLong bytesIn = new AtomicLong();
  private volatile Sink[] sinks = NO_SINKS; // copy-on-write under lock
  private volatile boolean closed;
  private boolean sourceDone; // under lock
  private int live; // running threads, under lock
  private final KernelPipe stage; // kernel path: the source's staging pipe
  private volatile Thread sourceThread;
  private final int burst;
  private final ByteBuffer leading;
  private final long coalesceNanos;
  // Burst state: delivering a chunk and adding a sink hold chunkLock (only when burst > 0).
  private final ReentrantLock chunkLock = new ReentrantLock();
  private final KernelPipe burstPipe; // kernel path
  private long burstHeld; // bytes in burstPipe, under chunkLock
  private final Block[] burstBlocks; // userspace path: a ring of retained chunks, under chunkLock
  private final int[] burstOffs;
  private final int[] burstLens;
  private int burstFirst;
  private int burstCount;
  private long burstBytes;
  private boolean burstClosed; // under chunkLock

  private Fanout(Builder b, ReadableByteChannel src) throws IOException {
    this.src = src;
    this.bound = b.bound;
    this.listener = b.listener;
    this.threads = b.threads;
    this.sourceThreads = b.sourceThreads != null ? b.sourceThreads : b.threads;
    this.kernel = Accel.NATIVE;
    this.burst = b.burst;
    this.leading = b.leading;
    this.coalesceNanos = b.coalesceNanos;
    if (burst > bound) {
      throw new IllegalArgumentException(
          "burst (" + burst + " bytes) is larger than the sink bound (" + bound + " bytes)");
    }
    if (kernel) {
      Syscalls sc = new Syscalls();
      this.stage = KernelPipe.open(sc);
      KernelPipe bp = null;
      if (burst > 0) {
        bp = KernelPipe.open(sc);
        try {
          // room for the burst plus one whole chunk tee'd before the trim
          int want = burst + chunkSize();
          if (bp.capacity() < want) {
            bp.resize(sc, want);
          }
        } catch (IOException e) {
          bp.close();
          stage.close();
          throw e;
        }
      }
      this.burstPipe = bp;
      this.burstBlocks = null;
      this.burstOffs = null;
      this.burstLens = null;
    } else {
      Accel.reportOff();
      this.stage = null;
      this.burstPipe = null;
      int ring = burst > 0 ? UserPipe.MAX_CHUNKS : 0;
      this.burstBlocks = new Block[ring];
      this.burstOffs = new int[ring];
      this.burstLens = new int[ring];
    }
  }

  /** Bytes moved from the source per step: a quarter of the bound, so one chunk never drops a sink. */
  private int chunkSize() {
    int stageCap = stage != null ? stage.capacity() : Integer.MAX_VALUE;
    return (int) Math.min(stageCap, Math.max(4096, bound / 4));
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
   * Whether bytes move by splice/tee (else through pooled blocks).
   *
   * @return true on the kernel path
   */
  public boolean accelerated() {
    return kernel;
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
   * Adds a sink that receives the stream from the next chunk the source reads.
   *
   * @param dst the sink's channel; stays the caller's, never closed by the fan-out
   * @return the sink's handle
   * @throws IOException if the sink's pipe cannot be created or sized to the bound
   * @throws IllegalStateException if the source already ended or the fan-out is closed
   */
  public Sink add(WritableByteChannel dst) throws IOException {
    return add(dst, null);
  }

  /**
   * Adds a sink that first receives {@code prefix} (for example a stream header or a burst of
   * recent data), then the stream from the next chunk the source reads. Bytes the caller already
   * wrote to {@code dst} itself (a response header) stay before both.
   *
   * @param dst the sink's channel; stays the caller's, never closed by the fan-out
   * @param prefix bytes to write first, or null; the fan-out reads it from its position to its
   *     limit on the sink's thread, so the caller must not change it afterwards (pass a duplicate
   *     of a shared buffer)
   * @return the sink's handle
   * @throws IOException if the sink's pipe cannot be created or sized to the bound
   * @throws IllegalStateException if the source already ended or the fan-out is closed
   */
  public Sink add(WritableByteChannel dst, ByteBuffer prefix) throws IOException {
    Objects.requireNonNull(dst, "dst");
    Sink s;
    if (kernel) {
      Syscalls sc = new Syscalls();
      KernelPipe p = KernelPipe.open(sc);
      try {
        if (p.capacity() < bound) {
          p.resize(sc, bound);
        }
      } catch (IOException e) {
        p.close();
        throw e;
      }
      s = new Sink(dst, prefix, p, null, sc);
    } else {
      int chunks = Math.max(UserPipe.MAX_CHUNKS, Math.min(8192, bound / 512));
      s = new Sink(dst, prefix, null, new UserPipe(chunks, bound), null);
    }
    if (burst > 0) {
      chunkLock.lock();
    }
    try {
      lock.lock();
      try {
        if (sourceDone || closed) {
          s.closePipe();
          throw new IllegalStateException("the fan-out's source has ended");
        }
      } finally {
        lock.unlock();
      }
      if (burst > 0) {
        giveBurst(s);
      }
      lock.lock();
      try {
        Sink[] cur = sinks;
        Sink[] next = Arrays.copyOf(cur, cur.length + 1);
        next[cur.length] = s;
        sinks = next;
      } finally {
        lock.unlock();
      }
    } finally {
      if (burst > 0) {
        chunkLock.unlock();
      }
    }
    spawn(threads, s::run);
    return s;
  }

  /** chunkLock held, sink not yet published: the burst goes into its pipe ahead of any chunk. */
  private void giveBurst(Sink s) throws IOException {
    if (burstClosed) {
      return;
    }
    if (kernel) {
      if (burstHeld == 0) {
        return;
      }
      Syscalls sc = new Syscalls();
      long t = sc.tee(burstPipe.r.fd, s.kp.w.fd, burstHeld, Syscalls.SPLICE_F_NONBLOCK);
      if (t == -Syscalls.EINTR) {
        t = sc.tee(burstPipe.r.fd, s.kp.w.fd, burstHeld, Syscalls.SPLICE_F_NONBLOCK);
      }
      if (t == burstHeld) {
        Accel.TEED.add(t);
        s.teed += t; // before the sink is published: the source thread sees it under chunkLock
      } else if (t > 0) {
        // Part of the burst only: its oldest bytes, followed by the live stream would leave a
        // hole. Take it back out; this sink starts with the live stream.
        discard(sc, s.kp.r.fd, t, "burst remainder");
      }
      return;
    }
    long skip = Math.max(0, burstBytes - burst);
    for (int k = 0; k < burstCount; k++) {
      int i = (burstFirst + k) % burstBlocks.length;
      int len = burstLens[i];
      if (skip >= len) {
        skip -= len;
        continue;
      }
      if (!s.up.offer(burstBlocks[i].retain(), burstOffs[i] + (int) skip, len - (int) skip)) {
        // cannot happen with burst <= bound and MAX_CHUNKS entries; never leave a hole
        s.up.discardAll();
        return;
      }
      skip = 0;
    }
  }

  private static void discard(Syscalls sc, int fd, long n, String what) throws IOException {
    int devNull = Native.devNull();
    while (n > 0) {
      long m = sc.splice(fd, devNull, n, Syscalls.SPLICE_F_NONBLOCK);
      if (m > 0) {
        n -= m;
      } else if (m != -Syscalls.EINTR) {
        throw Op.failure("splice " + what + " to /dev/null", m);
      }
    }
  }

  /** Source thread, chunkLock held: keeps the chunk now in the staging pipe as burst. */
  private void keepKernelBurst(Syscalls sc, long n) throws IOException {
    if (burstClosed) {
      return;
    }
    long t = sc.tee(stage.r.fd, burstPipe.w.fd, n, Syscalls.SPLICE_F_NONBLOCK);
    if (t == -Syscalls.EINTR) {
      t = sc.tee(stage.r.fd, burstPipe.w.fd, n, Syscalls.SPLICE_F_NONBLOCK);
    }
    if (t != n) {
      // No room (the pipe counts pages, and small chunks use a page each) or a partial copy:
      // start the burst afresh rather than keep a hole in it.
      discard(sc, burstPipe.r.fd, burstHeld + Math.max(0, t), "burst");
      burstHeld = 0;
      return;
    }
    burstHeld += n;
    if (burstHeld > burst) {
      discard(sc, burstPipe.r.fd, burstHeld - burst, "old burst");
      burstHeld = burst;
    }
  }

  /** Source thread, chunkLock held: keeps a reference to the chunk as burst. */
  private void keepUserBurst(Block b, int off, int len) {
    if (burstClosed) {
      return;
    }
    if (burstCount == burstBlocks.length) {
      dropOldestBurst();
    }
    int i = (burstFirst + burstCount) % burstBlocks.length;
    burstBlocks[i] = b.retain();
    burstOffs[i] = off;
    burstLens[i] = len;
    burstCount++;
    burstBytes += len;
    while (burstCount > 1 && burstBytes - burstLens[burstFirst] >= burst) {
      dropOldestBurst();
    }
  }

  private void dropOldestBurst() {
    Block old = burstBlocks[burstFirst];
    burstBlocks[burstFirst] = null;
    burstBytes -= burstLens[burstFirst];
    burstFirst = (burstFirst + 1) % burstBlocks.length;
    burstCount--;
    old.release();
  }

  /** Frees the burst (kernel pipe or retained blocks). Idempotent. */
  private void closeBurst() {
    if (burst == 0) {
      return;
    }
    chunkLock.lock();
    try {
      if (burstClosed) {
        return;
      }
      burstClosed = true;
      if (burstPipe != null) {
        burstPipe.close();
      }
      while (burstCount > 0) {
        dropOldestBurst();
      }
    } finally {
      chunkLock.unlock();
    }
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
    return bytesIn.get();
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
   * Stops reading the source and ends every sink with {@link Reason#CLOSED}. On the kernel path
   * the source thread stops within 100 ms; on the userspace path when its current read of the
   * source returns (close the source too to end it at once). Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    for (Sink s : sinks) {
      s.drop(Reason.CLOSED);
    }
    if (stage != null) {
      stage.close();
    }
    if (!started.get()) {
      closeBurst();
    }
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

  private void removeSink(Sink s) {
    lock.lock();
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
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // source

  private void runSource() {
    sourceThread = Thread.currentThread();
    IOException error = null;
    try {
      if (kernel) {
        kernelSource();
      } else {
        userSource();
      }
    } catch (IOException e) {
      if (!closed) {
        error = e;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      sourceThread = null;
      lock.lock();
      Sink[] last;
      try {
        sourceDone = true;
        last = sinks;
        ended.signalAll();
      } finally {
        lock.unlock();
      }
      for (Sink s : last) {
        s.endOfStream(); // writers drain what they have, then finish
      }
      if (stage != null) {
        stage.close();
      }
      closeBurst();
      try {
        listener.sourceEnded(bytesIn.get(), error);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "fan-out listener failed", e);
      }
    }
  }

  private void kernelSource() throws IOException {
    Syscalls sc = new Syscalls();
    if (!stage.w.enter()) {
      return; // closed before the start
    }
    if (!stage.r.enter()) {
      stage.w.exit();
      return;
    }
    Op op = new Op(sc).watch(src).watch(stage.w);
    Ingress ing = null;
    try {
      ing = new Ingress(op, src, op.dup(src));
      long chunk = chunkSize();
      if (leading != null && leading.hasRemaining()) {
        kernelLeading(sc, chunk);
      }
      while (true) {
        op.check();
        long n = ing.fill(stage.w.fd, chunk);
        if (n == 0) {
          return;
        }
        if (n < 0) {
          ing.await(n, stage.w.fd);
          coalesce(System.nanoTime());
          continue;
        }
        long t = System.nanoTime();
        deliverKernelChunk(sc, n);
        long waiting = coalesceNanos > 0 ? ing.waiting() : -1;
        if (waiting >= 0 && waiting < COALESCE_DRAINED_BELOW) {
          coalesce(t); // drained: what came during a long step is a packet or two, gather more
        } // else the source is ahead: move what waits at once
      }
    } finally {
      if (ing != null) {
        ing.close();
      }
      stage.r.exit();
      stage.w.exit();
    }
  }

  /**
   * For a slow source, lets {@link Builder#coalesce} pass from {@code from} before the next step, so
   * each step moves a window's worth in one splice and one tee per sink instead of a packet's.
   * Called after waiting for a quiet source ({@code from}: when its bytes started arriving again),
   * and after a step that left the source drained ({@code from}: when that step began), which
   * keeps one step per window however long the steps take: with hundreds of sinks a step takes
   * milliseconds, and a packet-paced source would otherwise be moved a packet or two at a time.
   * It never waits while more than {@link #COALESCE_DRAINED_BELOW} bytes wait in the source, so a
   * source that is ahead (a backlog, small packets that fill the staging pipe's slots) is never
   * held back. Fast sources never wait here.
   */
  private void coalesce(long from) {
    if (coalesceNanos > 0 && !closed && slowSource()) {
      long wait = from + coalesceNanos - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(this, wait);
      }
    }
  }

  /** A step that leaves fewer bytes than this waiting in the source counts as having drained it. */
  static final int COALESCE_DRAINED_BELOW = 16 << 10;

  /** Sources slower than this are gathered ({@link #coalesce(long)}); faster ones move at once. */
  static final long COALESCE_BELOW_BYTES_PER_SECOND = 8L << 20;

  private long windowStart;
  private long windowBytes; // bytesIn at windowStart
  private boolean windowSlow = true;

  /** Whether the source delivered less than the coalescing threshold over the last 100 ms. */
  private boolean slowSource() {
    long now = System.nanoTime();
    long elapsed = now - windowStart;
    if (elapsed >= 100_000_000L) {
      long in = bytesIn.getPlain();
      windowSlow = (in - windowBytes) * 1_000_000_000L / elapsed < COALESCE_BELOW_BYTES_PER_SECOND;
      windowStart = now;
      windowBytes = in;
    }
    return windowSlow;
  }

  /** The chunk of {@code n} bytes in the staging pipe goes to every sink and the burst. */
  private void deliverKernelChunk(Syscalls sc, long n) throws IOException {
    bytesIn.setRelease(bytesIn.getPlain() + n);
    if (burst > 0) {
      chunkLock.lock();
    }
    try {
      for (Sink s : sinks) {
        s.teeFrom(sc, stage.r.fd, n);
      }
      if (burst > 0) {
        keepKernelBurst(sc, n);
      }
    } finally {
      if (burst > 0) {
        chunkLock.unlock();
      }
    }
    discard(sc, stage.r.fd, n, "staging pipe");
  }

  /** Writes the caller's read-ahead bytes into the (empty) staging pipe, a chunk at a time. */
  private void kernelLeading(Syscalls sc, long chunk) throws IOException {
    try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
      java.lang.foreign.MemorySegment seg = arena.allocate(Math.min(chunk, leading.remaining()));
      while (leading.hasRemaining()) {
        int m = (int) Math.min(seg.byteSize(), leading.remaining());
        java.lang.foreign.MemorySegment.copy(
            java.lang.foreign.MemorySegment.ofBuffer(leading), 0, seg, 0, m);
        leading.position(leading.position() + m);
        long done = 0;
        while (done < m) { // the staging pipe is empty and holds a chunk: this completes
          long w = sc.write(stage.w.fd, seg.address() + done, m - done);
          if (w > 0) {
            done += w;
          } else if (w != -Syscalls.EINTR) {
            throw Op.failure("write read-ahead bytes into the staging pipe", w);
          }
        }
        deliverKernelChunk(sc, m);
      }
    }
  }

  /** The chunk {@code [off, off+len)} of {@code b} goes to every sink and the burst. */
  private void deliverUserChunk(Block b, int off, int len) {
    bytesIn.setRelease(bytesIn.getPlain() + len);
    if (burst > 0) {
      chunkLock.lock();
    }
    try {
      for (Sink s : sinks) {
        if (!s.up.offer(b.retain(), off, len)) {
          s.drop(Reason.TOO_SLOW);
        }
      }
      if (burst > 0) {
        keepUserBurst(b, off, len);
      }
    } finally {
      if (burst > 0) {
        chunkLock.unlock();
      }
    }
  }

  private void userSource() throws IOException, InterruptedException {
    Transfer.requireBlocking(src);
    Block cur = null;
    ByteBuffer view = null;
    int fill = 0;
    try {
      while (leading != null && leading.hasRemaining() && !closed) {
        Block b = Accel.allocator().allocate(Accel.SMALL_TIER.size());
        try {
          int m = (int) Math.min(b.segment().byteSize(), leading.remaining());
          java.lang.foreign.MemorySegment.copy(
              java.lang.foreign.MemorySegment.ofBuffer(leading), 0, b.segment(), 0, m);
          leading.position(leading.position() + m);
          deliverUserChunk(b, 0, m);
        } finally {
          b.release();
        }
      }
      while (!closed) {
        if (cur == null || cur.segment().byteSize() - fill < 4096) {
          if (cur != null) {
            cur.release();
            cur = null;
          }
          cur = Accel.allocator().allocate(Accel.SMALL_TIER.size());
          view = cur.segment().asByteBuffer(); // private view: the block is shared with sinks
          fill = 0;
        }
        view.clear().position(fill);
        view.limit(Math.min(view.capacity(), fill + Math.max(4096, bound / 4)));
        int r = src.read(view);
        if (r < 0 || closed) {
          return;
        }
        if (r == 0) {
          continue;
        }
        deliverUserChunk(cur, fill, r);
        fill += r;
        Accel.COPIED.add(r);
      }
    } finally {
      if (cur != null) {
        cur.release();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // sinks

  /**
   * One receiver of the stream: its channel, its pipe (kernel) or queue (userspace), its writer
   * thread and counters. Handles are made by {@link Fanout#add}; they stay valid after the sink
   * ended (for its counters and reason).
   */
  public final class Sink {
    private final WritableByteChannel dst;
    private final ByteBuffer prefix;
    final KernelPipe kp;
    final UserPipe up;
    private final Syscalls sc;
    private final AtomicLong written = new AtomicLong();
    private volatile Reason dropReason;
    private volatile Reason reason;
    private volatile Thread writer;
    // Who writes to the channel on the kernel path: the writer thread, or the source thread while
    // the sink keeps up ("Direct delivery" in the class comment). The writer owns it first.
    private final AtomicInteger owner = new AtomicInteger(WRITER);
    private volatile GuardedFd direct; // the writer's duplicate of dst's descriptor, once made
    private long teed; // bytes put into the pipe (source thread; the burst before publication)
    private final long prefixBytes; // written before the pipe's bytes: written - prefixBytes left the pipe

    private Sink(
        WritableByteChannel dst, ByteBuffer prefix, KernelPipe kp, UserPipe up, Syscalls sc) {
      this.dst = dst;
      this.prefix = prefix;
      this.prefixBytes = prefix == null ? 0 : prefix.remaining();
      this.kp = kp;
      this.up = up;
      this.sc = sc;
    }

    /**
     * The sink's channel, owned by the caller.
     *
     * @return the channel given to {@link Fanout#add}
     */
    public WritableByteChannel channel() {
      return dst;
    }

    /**
     * Bytes written to the channel so far, the prefix included.
     *
     * @return the count
     */
    public long bytesWritten() {
      return written.get();
    }

    /**
     * Why the sink ended, or null while it runs.
     *
     * @return the reason or null
     */
    public Reason reason() {
      return reason;
    }

    /**
     * Whether the sink still receives.
     *
     * @return true until it ended
     */
    public boolean isOpen() {
      return reason == null;
    }

    /**
     * Stops the sink: no more bytes are written to it, queued ones are discarded, and the listener
     * gets {@link Reason#REMOVED}. Idempotent; no effect after the sink ended.
     */
    public void remove() {
      drop(Reason.REMOVED);
    }

    /**
     * Source thread: duplicates the staged chunk into this sink's pipe, or drops the sink; then,
     * if the sink is idle (its pipe was empty and its writer is parked), splices the chunk on to
     * the channel at once (see "Direct delivery" in the class comment).
     */
    void teeFrom(Syscalls srcSc, int stageR, long n) {
      if (!kp.w.enter()) {
        return; // ended or ending
      }
      long t;
      try {
        t = srcSc.tee(stageR, kp.w.fd, n, Syscalls.SPLICE_F_NONBLOCK);
        if (t == -Syscalls.EINTR) {
          t = srcSc.tee(stageR, kp.w.fd, n, Syscalls.SPLICE_F_NONBLOCK);
        }
      } finally {
        kp.w.exit();
      }
      if (t != n) {
        drop(Reason.TOO_SLOW); // full (EAGAIN), partial (its copy would have a hole) or broken
        return;
      }
      Accel.TEED.add(n);
      teed += n;
      if (owner.get() == IDLE && owner.compareAndSet(IDLE, SOURCE)) {
        writeDirect(srcSc);
      }
    }

    /**
     * Source thread, owning the channel: splices what the pipe holds (the chunk just teed, and
     * any chunk teed while the writer still owned the channel, just before it went idle) to the
     * channel without waiting. If the channel takes it all the sink stays idle, otherwise (full
     * socket, closed channel, error) the writer thread takes over and meets the condition itself.
     */
    private void writeDirect(Syscalls srcSc) {
      // exactly the pipe's content: only the channel's owner splices out of it, and counts it
      long n = teed - (written.getPlain() - prefixBytes);
      GuardedFd o = direct;
      long m = 0;
      if (dst.isOpen() && kp.r.enter()) {
        try {
          if (o.enter()) {
            try {
              m = srcSc.splice(kp.r.fd, o.fd, n, Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
              if (m == -Syscalls.EINTR) {
                m = srcSc.splice(kp.r.fd, o.fd, n, Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
              }
            } finally {
              o.exit();
            }
          }
        } finally {
          kp.r.exit();
        }
      }
      if (m > 0) {
        Accel.SPLICED.add(m);
        DIRECT.add(m);
        written.setRelease(written.getPlain() + m);
      }
      if (m == n) {
        owner.set(IDLE);
      } else {
        owner.set(WRITER);
        LockSupport.unpark(writer);
      }
    }

    void drop(Reason why) {
      if (dropReason == null && reason == null) {
        dropReason = why;
        closePipe();
        Thread t = writer;
        if (t != null) {
          if (kp != null) {
            LockSupport.unpark(t); // parked on readiness: wakes and sees the closed pipe
          } else {
            t.interrupt(); // may be blocked inside the channel's write: only this ends it
          }
        }
      }
    }

    void closePipe() {
      if (kp != null) {
        kp.close();
      } else {
        up.close();
      }
    }

    void endOfStream() {
      if (kp != null) {
        kp.w.close();
        LockSupport.unpark(writer); // an idle writer sees the end (POLLHUP) and drains
      } else {
        up.closeWrite();
      }
    }

    /** Writer thread. */
    void run() {
      writer = Thread.currentThread();
      Reason why = Reason.FINISHED;
      IOException error = null;
      try {
        if (kp != null) {
          kernelWrite();
        } else {
          userWrite();
        }
      } catch (IOException e) {
        why = dropReason != null ? dropReason : Reason.FAILED;
        error = why == Reason.FAILED ? e : null;
      } catch (InterruptedException e) {
        why = dropReason != null ? dropReason : Reason.CLOSED;
      } catch (RuntimeException e) {
        why = Reason.FAILED;
        error = new IOException(e);
      } finally {
        writer = null;
        if (dropReason != null) {
          why = dropReason;
          error = null;
        }
        reason = why;
        closePipe();
        removeSink(this);
        try {
          listener.sinkClosed(this, why, error);
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "fan-out listener failed", e);
        }
      }
    }

    private void kernelWrite() throws IOException {
      if (!kp.r.enter()) {
        return;
      }
      Op op = new Op(sc).watch(dst).watch(kp.r);
      int out = -1;
      GuardedFd g = null;
      try {
        out = op.dup(dst);
        writePrefix(op, out);
        if (out >= 0) {
          g = new GuardedFd(out);
          direct = g;
          serve(op, g.fd);
        } else {
          Egress.copyOut(op, kp, dst, written);
        }
      } finally {
        if (g != null) {
          g.close(); // closes at once, or when the source thread's direct splice returns
        } else if (out >= 0) {
          sc.close(out);
        }
        kp.r.exit();
      }
    }

    /**
     * Writer thread: drains the pipe into the channel until the pipe's end of stream. While it
     * runs this thread owns the channel; when the pipe is empty and the channel can be polled it
     * hands the channel to the source thread and parks until the source gives it back.
     */
    private void serve(Op op, int out) throws IOException {
      int pr = kp.r.fd;
      boolean handOver = op.pollable(out); // never splice to a file from the source thread
      while (true) {
        op.check();
        long n = sc.splice(pr, out, kp.capacity(), Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
        if (n > 0) {
          Accel.SPLICED.add(n);
          written.setRelease(written.getPlain() + n);
        } else if (n == 0) {
          return; // the source ended and every byte is written
        } else if (n == -Syscalls.EAGAIN) {
          int rev = sc.pollNow(pr, ChannelFds.POLLIN);
          if (rev > 0 && (rev & POLLIN_BITS) != 0) {
            if (handOver) {
              op.await(out, ChannelFds.POLLOUT); // bytes wait: the channel is full
            } // else a file, never full: retry
          } else if (handOver) {
            idle(op, pr);
          } else {
            op.await(pr, ChannelFds.POLLIN);
          }
        } else if (n != -Syscalls.EINTR) {
          throw Op.failure("splice to destination", n);
        }
      }
    }

    /**
     * Writer thread, pipe found empty: gives the channel to the source thread and parks until it
     * is handed back ({@link #writeDirect} could not write everything), the stream ends, or the
     * sink is dropped. Returns owning the channel again.
     */
    private void idle(Op op, int pr) throws IOException {
      owner.set(IDLE);
      while (true) {
        // Bytes teed (or the end of stream) between the empty splice and IDLE becoming visible
        // would otherwise wait for the next chunk: take them back.
        if (sc.pollNow(pr, ChannelFds.POLLIN) > 0 && owner.compareAndSet(IDLE, WRITER)) {
          return;
        }
        if (owner.get() == WRITER) {
          return;
        }
        op.check();
        LockSupport.park(this); // unparked by writeDirect, endOfStream, drop or close
      }
    }

    private void writePrefix(Op op, int out) throws IOException {
      if (prefix == null) {
        return;
      }
      while (prefix.hasRemaining()) {
        op.check();
        int n = dst.write(prefix);
        if (n > 0) {
          written.setRelease(written.getPlain() + n);
        } else if (out >= 0
            && dst instanceof SelectableChannel sel
            && !sel.isBlocking()) {
          op.await(out, ChannelFds.POLLOUT);
        }
      }
    }

    private void userWrite() throws IOException, InterruptedException {
      Transfer.requireBlocking(dst);
      if (prefix != null) {
        while (prefix.hasRemaining()) {
          int n = dst.write(prefix);
          written.setRelease(written.getPlain() + n);
        }
      }
      Egress.drainUser(up, dst, written);
    }
  }

  /** Configures a {@link Fanout}. Not thread-safe; build once. */
  public static final class Builder {
    private int bound = 1 << 20;
    private int burst;
    private ByteBuffer leading;
    private long coalesceNanos;
    private Listener listener = new Listener() {};
    private ThreadFactory threads = Thread.ofVirtual().name("nocopy-fanout-", 0).factory();
    private ThreadFactory sourceThreads;

    private Builder() {}

    /**
     * How far (bytes) a sink may fall behind before it is dropped.
     *
     * @param bytes at least 4096; on the kernel path above {@code /proc/sys/fs/pipe-max-size}
     *     only with {@code CAP_SYS_RESOURCE} ({@link Fanout#add} then fails)
     * @return this builder
     * @throws IllegalArgumentException if below 4096
     */
    public Builder sinkBound(int bytes) {
      if (bytes < 4096) {
        throw new IllegalArgumentException("sink bound below one page: " + bytes);
      }
      this.bound = bytes;
      return this;
    }

    /**
     * Keeps the last {@code bytes} of the stream and gives them to each sink added later, before
     * the live stream (see the class comment). Default 0: none.
     *
     * @param bytes 0 or more, at most the sink bound
     * @return this builder
     * @throws IllegalArgumentException if negative ({@link #open} checks it against the bound)
     */
    public Builder burst(int bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("negative burst: " + bytes);
      }
      this.burst = bytes;
      return this;
    }

    /**
     * How long the source thread lets a slow source's bytes gather after they start arriving,
     * before it moves them (kernel path). A live stream that arrives packet by packet then costs
     * one splice and one tee per sink per interval instead of per packet; the price is up to that
     * much added latency. Sources above 8 MiB/s (measured over 100 ms windows), and any source
     * whose bytes are already waiting, never wait. Default 0.
     *
     * @param time zero or more, at most one second
     * @return this builder
     * @throws IllegalArgumentException if negative or above one second
     */
    public Builder coalesce(java.time.Duration time) {
      if (time.isNegative() || time.compareTo(java.time.Duration.ofSeconds(1)) > 0) {
        throw new IllegalArgumentException("coalesce time outside 0..1 s: " + time);
      }
      this.coalesceNanos = time.toNanos();
      return this;
    }

    /**
     * Bytes the caller already read from the source (for example read ahead while parsing a
     * request head), delivered as the stream's first chunk. The fan-out reads them from the
     * buffer's position to its limit when it starts; the caller must not touch the buffer after.
     *
     * @param bytes the read-ahead bytes, or null
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
     * Where the source thread comes from, when it should differ from the sinks' (default: the
     * {@link #threadFactory}). The source thread does the fan-out's steady work (one tee and, for
     * sinks that keep up, one splice per sink per chunk) and waits for the source between chunks;
     * a platform thread waits in poll(2) itself, without the virtual-thread scheduler and poller
     * in between, which costs less CPU per chunk for one long-lived thread.
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
     * @param src the source, read until its end of stream; stays the caller's
     * @return a new fan-out owned by the caller, who closes it
     * @throws IOException if the staging pipe cannot be created
     */
    public Fanout open(ReadableByteChannel src) throws IOException {
      return new Fanout(this, Objects.requireNonNull(src, "src"));
    }
  }
}
