package io.nocopy.pipe;

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

  private Fanout(Builder b, ReadableByteChannel src) throws IOException {
    this.src = src;
    this.bound = b.bound;
    this.listener = b.listener;
    this.threads = b.threads;
    this.kernel = Accel.NATIVE;
    if (kernel) {
      this.stage = KernelPipe.open(new Syscalls());
    } else {
      Accel.reportOff();
      this.stage = null;
    }
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
    spawn(this::runSource);
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
    lock.lock();
    try {
      if (sourceDone || closed) {
        s.closePipe();
        throw new IllegalStateException("the fan-out's source has ended");
      }
      Sink[] cur = sinks;
      Sink[] next = Arrays.copyOf(cur, cur.length + 1);
      next[cur.length] = s;
      sinks = next;
    } finally {
      lock.unlock();
    }
    spawn(s::run);
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

  private void spawn(Runnable body) {
    lock.lock();
    try {
      live++;
    } finally {
      lock.unlock();
    }
    Thread t =
        threads.newThread(
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
      int devNull = Pipe.DevNull.fd();
      // chunks of at most a quarter of the bound, so a sink that keeps up is never dropped for
      // the size of one chunk
      long chunk = Math.min(stage.capacity(), Math.max(4096, bound / 4));
      while (true) {
        op.check();
        long n = ing.fill(stage.w.fd, chunk);
        if (n == 0) {
          return;
        }
        if (n < 0) {
          ing.await(n, stage.w.fd);
          continue;
        }
        bytesIn.setRelease(bytesIn.getPlain() + n);
        for (Sink s : sinks) {
          s.teeFrom(sc, stage.r.fd, n);
        }
        long left = n;
        while (left > 0) {
          long m = sc.splice(stage.r.fd, devNull, left, Syscalls.SPLICE_F_NONBLOCK);
          if (m > 0) {
            left -= m;
          } else if (m != -Syscalls.EINTR) {
            throw Op.failure("splice staging pipe to /dev/null", m);
          }
        }
      }
    } finally {
      if (ing != null) {
        ing.close();
      }
      stage.r.exit();
      stage.w.exit();
    }
  }

  private void userSource() throws IOException, InterruptedException {
    Transfer.requireBlocking(src);
    Block cur = null;
    ByteBuffer view = null;
    int fill = 0;
    try {
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
        bytesIn.setRelease(bytesIn.getPlain() + r);
        for (Sink s : sinks) {
          if (!s.up.offer(cur.retain(), fill, r)) {
            s.drop(Reason.TOO_SLOW);
          }
        }
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

    private Sink(
        WritableByteChannel dst, ByteBuffer prefix, KernelPipe kp, UserPipe up, Syscalls sc) {
      this.dst = dst;
      this.prefix = prefix;
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

    /** Source thread: duplicates the staged chunk into this sink's pipe, or drops the sink. */
    void teeFrom(Syscalls srcSc, int stageR, long n) {
      if (!kp.w.enter()) {
        return; // ended or ending
      }
      try {
        long t = srcSc.tee(stageR, kp.w.fd, n, Syscalls.SPLICE_F_NONBLOCK);
        if (t == n) {
          Accel.TEED.add(n);
          return;
        }
        if (t == -Syscalls.EINTR) {
          t = srcSc.tee(stageR, kp.w.fd, n, Syscalls.SPLICE_F_NONBLOCK);
          if (t == n) {
            Accel.TEED.add(n);
            return;
          }
        }
      } finally {
        kp.w.exit();
      }
      drop(Reason.TOO_SLOW); // full (EAGAIN), partial (its copy would have a hole) or broken
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
      try {
        out = op.dup(dst);
        writePrefix(op, out);
        if (out >= 0) {
          Egress.splice(op, kp, out, written);
        } else {
          Egress.copyOut(op, kp, dst, written);
        }
      } finally {
        if (out >= 0) {
          sc.close(out);
        }
        kp.r.exit();
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
    private Listener listener = new Listener() {};
    private ThreadFactory threads = Thread.ofVirtual().name("nocopy-fanout-", 0).factory();

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
