package io.nocopy.pipe;

import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.Slice;
import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.GuardedFd;
import io.nocopy.internal.linux.KernelPipe;
import io.nocopy.internal.linux.Native;
import io.nocopy.internal.linux.Op;
import io.nocopy.internal.linux.Syscalls;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A pipe between a producer that {@link #readFrom reads a channel into it} and a consumer that
 * {@link #writeTo writes it out to a channel}, optionally {@link #tee duplicating} everything that
 * enters it into other pipes. A kernel pipe moved with splice(2)/tee(2) when {@link
 * #accelerated()}, a bounded queue of pooled blocks otherwise; the bytes are the same.
 *
 * <pre>{@code
 * try (Pipe cam = Pipe.open(); Pipe rec = Pipe.open()) {
 *   cam.tee(rec);                                  // before bytes flow
 *   Thread.startVirtualThread(() -> { cam.readFrom(camera); cam.closeWrite(); });
 *   Thread.startVirtualThread(() -> rec.writeTo(recording));
 *   cam.writeTo(client);                           // until the camera's end of stream
 * }
 * }</pre>
 *
 * <h2>Threads</h2>
 *
 * One thread at a time may run {@link #readFrom} and one {@link #writeTo} (each throws {@link
 * IllegalStateException} if already running); they are meant to run concurrently. Both block,
 * and from virtual threads they unmount instead of pinning a carrier. {@link #close()}, {@link
 * #closeWrite()}, {@link #tee} and the size methods may be called from any thread.
 *
 * <h2>Ownership and lifetime</h2>
 *
 * The caller owns the pipe and closes it; channels passed in stay the caller's and are not closed
 * (except when the thread is interrupted: then, as with JDK channels, the channel of the
 * interrupted call is closed and {@link ClosedByInterruptException} thrown). Closing the pipe
 * while a call runs makes that call throw {@link AsynchronousCloseException} (within 100 ms on
 * the kernel path; on the userspace path a reader blocked in its source's {@code read} notices at
 * the read's return). Bytes still in a closed pipe are discarded.
 */
public final class Pipe implements AutoCloseable {
  private static final AtomicInteger TEE_VERSION = new AtomicInteger();
  private static final Pipe[] NO_PIPES = new Pipe[0];

  private final KernelPipe k; // kernel path, or null
  private final Allocator allocator; // the userspace path's blocks
  private final UserPipe u; // userspace path, or null
  private final Syscalls readerSc;
  private final Syscalls writerSc;
  private final AtomicBoolean reading = new AtomicBoolean();
  private final AtomicBoolean writing = new AtomicBoolean();
  private final List<Pipe> tees = new CopyOnWriteArrayList<>();
  private volatile Thread readerThread;
  private volatile Thread writerThread;
  private volatile boolean closed;
  // reader-owned cache of the transitive tee targets
  private Pipe[] closure = NO_PIPES;
  private int closureVersion = -1;

  private Pipe(KernelPipe k, Syscalls sc, Allocator allocator) {
    this.allocator = allocator;
    this.k = k;
    this.u = k == null ? new UserPipe() : null;
    this.readerSc = sc;
    this.writerSc = k == null ? null : new Syscalls();
  }

  /**
   * The largest pipe size an unprivileged process may set, from {@code /proc/sys/fs/pipe-max-size}
   * (1 MiB, Linux's default, where it cannot be read). Larger sizes need {@code CAP_SYS_RESOURCE}.
   *
   * @return the limit in bytes
   */
  public static int maxSize() {
    return Native.pipeMaxSize();
  }

  /**
   * Opens a pipe: a kernel pipe (non-blocking, close-on-exec, the system's default size, usually
   * 64 KiB) when acceleration is on, otherwise a userspace pipe of pooled blocks with the same
   * default bound. The reason acceleration is off is logged once.
   *
   * @return a new pipe owned by the caller, who closes it
   * @throws IOException if the kernel refuses a pipe (descriptor limits)
   */
  public static Pipe open() throws IOException {
    return open(Accel.allocator());
  }

  /**
   * Opens a pipe like {@link #open()} whose userspace path (and the kernel path's copies for
   * channels without a descriptor) takes its pooled blocks from {@code allocator}.
   *
   * @param allocator stays the caller's; must outlive the pipe's use
   * @return a new pipe owned by the caller, who closes it
   * @throws IOException if the kernel refuses a pipe (descriptor limits)
   */
  public static Pipe open(Allocator allocator) throws IOException {
    Objects.requireNonNull(allocator, "allocator");
    if (Accel.NATIVE) {
      Syscalls sc = new Syscalls();
      return new Pipe(KernelPipe.open(sc), sc, allocator);
    }
    Accel.reportOff();
    return new Pipe(null, null, allocator);
  }

  /**
   * Whether this pipe is a kernel pipe moved by splice(2) and tee(2).
   *
   * @return true for a kernel pipe
   */
  public boolean accelerated() {
    return k != null;
  }

  /**
   * The pipe's capacity: bytes it holds before {@link #readFrom} waits for {@link #writeTo}.
   *
   * @return the capacity in bytes
   */
  public int bufferSize() {
    return k != null ? k.capacity() : u.capacity();
  }

  /**
   * Sets the capacity (F_SETPIPE_SZ on the kernel path; the kernel rounds up to a power-of-two
   * number of pages).
   *
   * @param bytes the wanted capacity, above 0
   * @throws IOException if the kernel refuses: above {@code /proc/sys/fs/pipe-max-size} without
   *     {@code CAP_SYS_RESOURCE} (EPERM, the message names the limit) or below the bytes held
   * @throws IllegalArgumentException if {@code bytes <= 0}
   */
  public void bufferSize(int bytes) throws IOException {
    if (k != null) {
      k.resize(new Syscalls(), bytes);
    } else {
      u.capacity(bytes);
    }
  }

  /**
   * Duplicates everything that enters this pipe from now on (by {@link #readFrom} or by a tee into
   * this pipe) into {@code other}, which gets its own copy to write out; on the kernel path the
   * bytes are duplicated by tee(2), without copying. A slow {@code other} slows this pipe's reader
   * (use {@link io.nocopy.fanout.Fanout} to drop slow consumers instead). {@link #closeWrite()} also closes the
   * write side of every tee target. A closed target is skipped.
   *
   * @param other a pipe opened by {@link #open()} in this process; not owned by this pipe
   * @throws IllegalArgumentException if {@code other} is this pipe or already tees (directly or
   *     not) into this pipe
   */
  public void tee(Pipe other) {
    Objects.requireNonNull(other, "other");
    if (other == this || other.closureOf().contains(this)) {
      throw new IllegalArgumentException("tee would form a cycle");
    }
    if (other.accelerated() != accelerated()) {
      throw new IllegalArgumentException("cannot tee between a kernel pipe and a userspace pipe");
    }
    tees.add(other);
    TEE_VERSION.incrementAndGet();
  }

  private List<Pipe> closureOf() {
    List<Pipe> out = new ArrayList<>();
    for (Pipe t : tees) {
      collect(t, out);
    }
    return out;
  }

  private static void collect(Pipe p, List<Pipe> out) {
    if (!out.contains(p)) {
      out.add(p);
      for (Pipe t : p.tees) {
        collect(t, out);
      }
    }
  }

  private Pipe[] teeTargets() {
    int v = TEE_VERSION.get();
    if (v != closureVersion) {
      closure = tees.isEmpty() ? NO_PIPES : closureOf().toArray(NO_PIPES);
      closureVersion = v;
    }
    return closure;
  }

  /**
   * Reads {@code src} into this pipe until its end of stream, waiting while the pipe is full, and
   * duplicates what it reads into the tee targets. Does not close the write side: call {@link
   * #closeWrite()} when the stream is complete.
   *
   * @param src the source; not closed (except on interrupt)
   * @return the bytes read
   * @throws ClosedChannelException if this pipe or its write side is closed, or {@code src} is
   * @throws AsynchronousCloseException if the pipe or {@code src} is closed meanwhile
   * @throws ClosedByInterruptException if the thread is interrupted
   * @throws IllegalStateException if another thread is running {@code readFrom}
   * @throws IOException on an I/O error
   */
  public long readFrom(ReadableByteChannel src) throws IOException {
    Objects.requireNonNull(src, "src");
    if (!reading.compareAndSet(false, true)) {
      throw new IllegalStateException("readFrom is already running on this pipe");
    }
    readerThread = Thread.currentThread();
    try {
      return k != null ? kernelReadFrom(src) : userReadFrom(src);
    } finally {
      readerThread = null;
      reading.set(false);
    }
  }

  /**
   * Writes what enters this pipe to {@code dst} until the pipe's end of stream (its write side
   * closed and everything written).
   *
   * @param dst the destination; not closed (except on interrupt)
   * @return the bytes written
   * @throws ClosedChannelException if this pipe or {@code dst} is closed
   * @throws AsynchronousCloseException if the pipe or {@code dst} is closed meanwhile
   * @throws ClosedByInterruptException if the thread is interrupted
   * @throws IllegalStateException if another thread is running {@code writeTo}
   * @throws IOException on an I/O error (a reset peer, a broken pipe)
   */
  public long writeTo(WritableByteChannel dst) throws IOException {
    Objects.requireNonNull(dst, "dst");
    if (!writing.compareAndSet(false, true)) {
      throw new IllegalStateException("writeTo is already running on this pipe");
    }
    writerThread = Thread.currentThread();
    try {
      return k != null ? kernelWriteTo(dst) : userWriteTo(dst);
    } finally {
      writerThread = null;
      writing.set(false);
    }
  }

  /**
   * Signals end of stream downstream: once the bytes in the pipe are written, {@link #writeTo}
   * returns. Also closes the write side of every pipe this one tees into. Idempotent. A {@link
   * #readFrom} still running ends with {@link AsynchronousCloseException}.
   */
  public void closeWrite() {
    if (k != null) {
      k.w.close();
    } else {
      u.closeWrite();
    }
    for (Pipe t : tees) {
      t.closeWrite();
    }
  }

  /**
   * Closes the pipe; bytes still in it are discarded and running calls end with {@link
   * AsynchronousCloseException}. Tee targets are not closed (their write side is not closed
   * either: call {@link #closeWrite()} first for that). Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    if (k != null) {
      k.close();
    } else {
      u.close();
    }
    TEE_VERSION.incrementAndGet();
    Thread t = readerThread;
    if (t != null) {
      LockSupport.unpark(t);
    }
    t = writerThread;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // kernel path

  private long kernelReadFrom(ReadableByteChannel src) throws IOException {
    if (!k.w.enter()) {
      throw new ClosedChannelException();
    }
    Op op = new Op(readerSc).watch(src).watch(k.w);
    Ingress ing = null;
    Teeing tee = null;
    try {
      ing = new Ingress(op, src, op.dup(src), allocator);
      long moved = 0;
      long staged = 0; // bytes in the staging pipe, already teed
      while (true) {
        Pipe[] targets = teeTargets();
        if (targets.length == 0 && staged == 0) {
          op.check();
          long n = ing.fill(k.w.fd, k.capacity());
          if (n > 0) {
            moved += n;
          } else if (n == 0) {
            return moved;
          } else {
            ing.await(n, k.w.fd);
          }
          continue;
        }
        // With tee targets the bytes go through a private staging pipe: tee(2) copies from a
        // pipe's head, and this pipe's head belongs to writeTo.
        if (tee == null) {
          tee = new Teeing(op);
        }
        if (staged == 0) {
          op.check();
          long n = ing.fill(tee.stage.w.fd, tee.stage.capacity());
          if (n == 0) {
            return moved;
          }
          if (n < 0) {
            ing.await(n, tee.stage.w.fd);
            continue;
          }
          staged = n;
          tee.teeAll(targets, n);
        }
        op.check();
        long n =
            readerSc.splice(
                tee.stage.r.fd, k.w.fd, staged,
                Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
        if (n > 0) {
          staged -= n;
          moved += n;
        } else if (n == -Syscalls.EAGAIN) {
          op.await(k.w.fd, ChannelFds.POLLOUT);
        } else {
          throw Op.failure("splice into pipe", n);
        }
      }
    } finally {
      if (ing != null) {
        ing.close();
      }
      if (tee != null) {
        tee.close();
      }
      k.w.exit();
    }
  }

  private long kernelWriteTo(WritableByteChannel dst) throws IOException {
    if (!k.r.enter()) {
      throw new ClosedChannelException();
    }
    Op op = new Op(writerSc).watch(dst).watch(k.r);
    int out = -1;
    try {
      out = op.dup(dst);
      return out >= 0 ? Egress.splice(op, k, out, null) : Egress.copyOut(op, k, dst, null, allocator);
    } finally {
      if (out >= 0) {
        writerSc.close(out);
      }
      k.r.exit();
    }
  }

  /**
   * The reader's staging pipe and the tee of each staged chunk into every target. tee(2) always
   * copies from the head of the staging pipe, so a target must receive the whole chunk in one
   * call; when it takes only part (it had room for fewer pipe buffers), the chunk is teed once
   * more into a private spill pipe, the part already delivered is discarded from it into {@code
   * /dev/null}, and the rest is spliced to the target as it drains.
   */
  private static final class Teeing {
    private final Op op;
    final KernelPipe stage;
    private KernelPipe spill;

    Teeing(Op op) throws IOException {
      this.op = op;
      this.stage = KernelPipe.open(op.sc);
    }

    void teeAll(Pipe[] targets, long len) throws IOException {
      for (Pipe t : targets) {
        GuardedFd tw = t.k.w;
        if (!tw.enter()) {
          continue; // closed target
        }
        try {
          teeExact(tw, len);
        } finally {
          tw.exit();
        }
      }
    }

    private void teeExact(GuardedFd tw, long len) throws IOException {
      Syscalls sc = op.sc;
      while (true) {
        op.check();
        if (tw.closed()) {
          return;
        }
        long n = sc.tee(stage.r.fd, tw.fd, len, Syscalls.SPLICE_F_NONBLOCK);
        if (n == len) {
          Accel.TEED.add(n);
          return;
        }
        if (n > 0) {
          spillRest(tw, n, len);
          return;
        }
        if (n == -Syscalls.EAGAIN) {
          op.await(tw.fd, ChannelFds.POLLOUT);
        } else if (n == -Syscalls.EPIPE) {
          return; // the target's read end is closed: it takes nothing more
        } else {
          throw Op.failure("tee", n);
        }
      }
    }

    private void spillRest(GuardedFd tw, long done, long len) throws IOException {
      Syscalls sc = op.sc;
      if (spill == null) {
        spill = KernelPipe.open(sc);
      }
      if (spill.capacity() < stage.capacity()) {
        spill.resize(sc, stage.capacity());
      }
      long n = sc.tee(stage.r.fd, spill.w.fd, len, Syscalls.SPLICE_F_NONBLOCK);
      if (n != len) {
        throw new IOException("tee into an empty spill pipe moved " + n + " of " + len + " bytes");
      }
      Accel.SPILLED.increment();
      discard(done);
      long rest = len - done;
      while (rest > 0) {
        op.check();
        if (tw.closed()) {
          discard(rest);
          return;
        }
        long m =
            sc.splice(
                spill.r.fd, tw.fd, rest, Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
        if (m > 0) {
          rest -= m;
        } else if (m == -Syscalls.EAGAIN) {
          op.await(tw.fd, ChannelFds.POLLOUT);
        } else if (m == -Syscalls.EPIPE) {
          discard(rest);
          return;
        } else {
          throw Op.failure("splice spill to tee target", m);
        }
      }
      Accel.TEED.add(len);
    }

    private void discard(long bytes) throws IOException {
      int devNull = Native.devNull();
      while (bytes > 0) {
        long m = op.sc.splice(spill.r.fd, devNull, bytes, Syscalls.SPLICE_F_NONBLOCK);
        if (m > 0) {
          bytes -= m;
        } else {
          throw Op.failure("splice spill to /dev/null", m);
        }
      }
    }

    void close() {
      stage.close();
      if (spill != null) {
        spill.close();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // userspace path

  private long userReadFrom(ReadableByteChannel src) throws IOException {
    ChannelChecks.requireBlocking(src);
    ChannelChecks.requireOpen(src);
    if (closed || u.writeClosed()) {
      throw new ClosedChannelException();
    }
    long moved = 0;
    BufReader in = BufReader.of(src, allocator);
    try {
      Slice s;
      while ((s = in.readSliceUpTo(Accel.SMALL_TIER.size())) != null) {
        long r = s.length();
        for (Pipe t : teeTargets()) {
          t.u.put(s.retain());
        }
        if (!u.put(s)) {
          throw new AsynchronousCloseException();
        }
        moved += r;
        Accel.COPIED.add(r);
      }
      return moved;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      Op.closeQuietly(src);
      throw new ClosedByInterruptException();
    } catch (ClosedChannelException e) {
      throw ChannelChecks.closedMeanwhile(e);
    } finally {
      in.close();
    }
  }

  private long userWriteTo(WritableByteChannel dst) throws IOException {
    ChannelChecks.requireBlocking(dst);
    ChannelChecks.requireOpen(dst);
    if (closed) {
      throw new ClosedChannelException();
    }
    try {
      return Egress.drainUser(u, dst, null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      Op.closeQuietly(dst);
      throw new ClosedByInterruptException();
    } catch (ClosedChannelException e) {
      throw ChannelChecks.closedMeanwhile(e);
    }
  }

}
