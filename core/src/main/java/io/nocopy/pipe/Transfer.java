package io.nocopy.pipe;

import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.Epoll;
import io.nocopy.internal.linux.Op;
import io.nocopy.internal.linux.Syscalls;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Moves bytes from one channel to another until the source's end of stream or a byte limit, in
 * the kernel where it can.
 *
 * <h2>Paths</h2>
 *
 * <ul>
 *   <li><b>File source</b>: {@link FileChannel#transferTo} (sendfile(2) to sockets), from the
 *       channel's position, which is advanced by the bytes moved.
 *   <li><b>Splice</b> (both channels have descriptors and acceleration is on, see {@link
 *       #accelerated}): source &rarr; pooled kernel pipe &rarr; destination with splice(2); no byte
 *       enters the JVM. <b>Adaptive</b>: a stream that delivers little per readiness event (below
 *       16 KiB per read twice in a row) is moved by read(2)/write(2) through one pooled 32 KiB block
 *       instead, which costs less per byte at that size than two splices; once a read fills the
 *       whole block the transfer returns to splice (HAProxy's {@code splice-auto} idea). The
 *       system property {@code nocopy.pipe.adaptive=false} keeps it on splice.
 *   <li><b>Userspace</b> (anything else): one pooled 128 KiB block, read then written; the channels
 *       must be in blocking mode.
 * </ul>
 *
 * <p>{@link #proxy} relays both directions of a socket pair on one thread (one epoll set, one wait
 * for whichever side is ready): a TCP proxy's connection in one call.
 *
 * <h2>Blocking, closing, interrupts</h2>
 *
 * The call blocks the calling thread (virtual threads unmount while waiting for readiness; no
 * carrier is pinned) until done. On the splice path the channels' descriptors are switched to
 * {@code O_NONBLOCK} at the OS level and stay so (JDK channels handle that transparently, as they
 * do for virtual threads); the call never waits on the source while it holds bytes for the
 * destination. Closing either channel from another thread ends the call with {@link
 * java.nio.channels.AsynchronousCloseException}; interrupting the thread closes both channels and
 * ends it with {@link java.nio.channels.ClosedByInterruptException}, within {@code 100 ms}.
 *
 * <p>The channels stay the caller's: the call closes neither (except on interrupt, as above). The
 * pipe it borrows always goes back to the pool, or is closed if bytes were left in it.
 */
public final class Transfer {
  private Transfer() {}

  /**
   * Moves every byte of {@code src} to {@code dst}, until {@code src}'s end of stream.
   *
   * @param src the source, read from its current position; not closed
   * @param dst the destination; not closed
   * @return the bytes moved
   * @throws IOException on an I/O error, {@link java.nio.channels.AsynchronousCloseException} or
   *     {@link java.nio.channels.ClosedByInterruptException} as described above
   * @throws IllegalBlockingModeException if the userspace path gets a channel in non-blocking mode
   */
  public static long transfer(ReadableByteChannel src, WritableByteChannel dst)
      throws IOException {
    return transfer(src, dst, Long.MAX_VALUE);
  }

  /**
   * Moves bytes from {@code src} to {@code dst} until {@code src}'s end of stream or {@code limit}
   * bytes, whichever comes first. Never reads more than {@code limit} bytes from {@code src}.
   *
   * @param src the source, read from its current position; not closed
   * @param dst the destination; not closed
   * @param limit the most bytes to move, zero or more
   * @return the bytes moved: {@code limit}, or fewer if the source ended first
   * @throws IOException on an I/O error, {@link java.nio.channels.AsynchronousCloseException} or
   *     {@link java.nio.channels.ClosedByInterruptException} as described above
   * @throws IllegalArgumentException if {@code limit} is negative
   * @throws IllegalBlockingModeException if the userspace path gets a channel in non-blocking mode
   */
  public static long transfer(ReadableByteChannel src, WritableByteChannel dst, long limit)
      throws IOException {
    return transfer(src, dst, limit, Accel.allocator());
  }

  /**
   * {@link #transfer(ReadableByteChannel, WritableByteChannel, long)} with the allocator of the
   * pooled blocks its userspace and adaptive paths use (the others use the library's shared one).
   *
   * @param src the source, read from its current position; not closed
   * @param dst the destination; not closed
   * @param limit the most bytes to move, zero or more
   * @param allocator where the transfer's pooled blocks come from; stays the caller's
   * @return the bytes moved: {@code limit}, or fewer if the source ended first
   * @throws IOException on an I/O error, {@link java.nio.channels.AsynchronousCloseException} or
   *     {@link java.nio.channels.ClosedByInterruptException} as described above
   * @throws IllegalArgumentException if {@code limit} is negative
   * @throws IllegalBlockingModeException if the userspace path gets a channel in non-blocking mode
   */
  public static long transfer(
      ReadableByteChannel src, WritableByteChannel dst, long limit, Allocator allocator)
      throws IOException {
    Objects.requireNonNull(allocator, "allocator");
    Objects.requireNonNull(src, "src");
    Objects.requireNonNull(dst, "dst");
    if (limit < 0) {
      throw new IllegalArgumentException("negative limit " + limit);
    }
    if (limit == 0) {
      return 0;
    }
    if (src instanceof FileChannel fc) {
      return fromFile(fc, dst, limit, allocator);
    }
    if (!Accel.NATIVE) {
      Accel.reportOff();
      return copy(src, dst, limit, allocator);
    }
    PipePool.Lease lease = PipePool.acquire();
    Syscalls sc = lease.sc;
    Op op = new Op(sc).watch(src).watch(dst);
    boolean empty = true;
    int in = -1;
    int out = -1;
    try {
      in = op.dup(src);
      out = in < 0 ? -1 : op.dup(dst);
      if (in < 0 || out < 0) {
        Accel.reportNoFd(in < 0 ? src : dst);
        return copy(src, dst, limit, allocator);
      }
      SpliceLoop loop = new SpliceLoop(op, lease.pipe, in, out, limit, allocator);
      try {
        return loop.run();
      } finally {
        empty = loop.pipeEmpty();
      }
    } finally {
      if (in >= 0) {
        sc.close(in);
      }
      if (out >= 0) {
        sc.close(out);
      }
      PipePool.release(lease, empty);
    }
  }

  /**
   * The bytes a {@link #proxy} moved in each direction.
   *
   * @param aToB bytes moved from the first socket to the second
   * @param bToA bytes moved from the second socket to the first
   */
  public record Proxied(long aToB, long bToA) {}

  /**
   * Relays two sockets both ways until both directions ended: a TCP (or Unix-domain) proxy's
   * connection, on the calling thread alone. When a direction reaches its source's end of stream
   * and has delivered every byte, the destination's output is shut down ({@link
   * SocketChannel#shutdownOutput()}), so a half-close travels through; the call returns when the
   * other direction has ended too.
   *
   * <p>On the splice path both directions run in one loop on one private edge-triggered epoll set
   * (the shape of HAProxy's event loop): each direction splices source &rarr; its own pooled pipe
   * &rarr; destination (adaptive as in {@link #transfer}), and the thread waits only when neither
   * direction can move, for whichever socket becomes ready first. A platform thread blocks in
   * {@code epoll_wait}; a virtual thread parks on the epoll descriptor through the JDK's poller and
   * unmounts. Without acceleration (or a socket without a descriptor) the second direction runs on
   * a virtual thread of its own through the userspace path, and the sockets must be in blocking
   * mode.
   *
   * <p>Ownership, closing and interrupts as for {@link #transfer}: the sockets stay the caller's
   * and are not closed (except on interrupt); closing either from another thread ends the call
   * with {@link java.nio.channels.AsynchronousCloseException}. An error in one direction (a reset
   * peer) ends both: on the userspace path the other direction is stopped by shutting the input of
   * its source down. Both pooled pipes go back to the pool (or are closed if bytes were left).
   *
   * @param a one socket, e.g. the accepted client connection
   * @param b the other socket, e.g. the connection to the upstream server
   * @return the bytes moved each way
   * @throws IOException on an I/O error in either direction, {@link
   *     java.nio.channels.AsynchronousCloseException} or {@link
   *     java.nio.channels.ClosedByInterruptException} as described above
   * @throws IllegalArgumentException if {@code a} and {@code b} are the same socket
   * @throws IllegalBlockingModeException if the userspace path gets a socket in non-blocking mode
   */
  public static Proxied proxy(SocketChannel a, SocketChannel b) throws IOException {
    return proxy(a, b, Accel.allocator());
  }

  /**
   * {@link #proxy(SocketChannel, SocketChannel)} with the allocator of the pooled blocks its
   * adaptive and userspace paths use.
   *
   * @param a one socket, e.g. the accepted client connection
   * @param b the other socket, e.g. the connection to the upstream server
   * @param allocator where the proxy's pooled blocks come from; stays the caller's
   * @return the bytes moved each way
   * @throws IOException as {@link #proxy(SocketChannel, SocketChannel)}
   */
  public static Proxied proxy(SocketChannel a, SocketChannel b, Allocator allocator)
      throws IOException {
    Objects.requireNonNull(allocator, "allocator");
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    if (a == b) {
      throw new IllegalArgumentException("a proxy needs two different sockets");
    }
    if (!Accel.NATIVE) {
      Accel.reportOff();
      return proxyCopy(a, b, allocator);
    }
    PipePool.Lease la = PipePool.acquire();
    PipePool.Lease lb = null;
    Syscalls sc = la.sc;
    Op op = new Op(sc).watch(a).watch(b);
    int fa = -1;
    int fb = -1;
    Epoll ep = null;
    SpliceLoop ab = null;
    SpliceLoop ba = null;
    try {
      lb = PipePool.acquire();
      fa = op.dup(a);
      fb = fa < 0 ? -1 : op.dup(b);
      if (fa < 0 || fb < 0) {
        Accel.reportNoFd(fa < 0 ? a : b);
        return proxyCopy(a, b, allocator);
      }
      ep = Epoll.open();
      int askA = 0; // what each socket is registered for: only what a direction is blocked on
      int askB = 0;
      ep.add(fa, askA);
      ep.add(fb, askB);
      ab = new SpliceLoop(op, la.pipe, fa, fb, Long.MAX_VALUE, allocator);
      ba = new SpliceLoop(op, lb.pipe, fb, fa, Long.MAX_VALUE, allocator);
      ab.start();
      ba.start();
      while (true) {
        boolean progress = false;
        if (!ab.done) {
          progress = ab.step();
          if (ab.done) {
            shutdownOutput(b);
          }
        }
        if (!ba.done) {
          progress |= ba.step();
          if (ba.done) {
            shutdownOutput(a);
          }
        }
        if (ab.done && ba.done) {
          return new Proxied(ab.moved, ba.moved);
        }
        if (!progress) {
          // Every direction that is not done saw EAGAIN on what it is blocked on (its ready flag
          // is false): ask for exactly those events, so bytes arriving at a source whose pipe is
          // full, say, do not wake the thread for nothing.
          int wantA =
              (!ab.done && !ab.inReady ? Epoll.EPOLLIN | Epoll.EPOLLRDHUP : 0)
                  | (!ba.done && !ba.outReady ? Epoll.EPOLLOUT : 0);
          int wantB =
              (!ba.done && !ba.inReady ? Epoll.EPOLLIN | Epoll.EPOLLRDHUP : 0)
                  | (!ab.done && !ab.outReady ? Epoll.EPOLLOUT : 0);
          if (wantA != askA) {
            ep.modify(fa, wantA);
            askA = wantA;
          }
          if (wantB != askB) {
            ep.modify(fb, wantB);
            askB = wantB;
          }
          int n = op.await(ep);
          if (n <= 0) { // a slice passed or a signal: try everything once more
            ab.inReady = ab.outReady = ba.inReady = ba.outReady = true;
          }
          for (int i = 0; i < n; i++) {
            int fd = ep.eventFd(i);
            int ev = ep.eventMask(i);
            boolean readable = (ev & (Epoll.EPOLLIN | Epoll.READ_END)) != 0;
            boolean writable = (ev & (Epoll.EPOLLOUT | Epoll.ERROR)) != 0;
            if (fd == fa) {
              ab.inReady |= readable;
              ba.outReady |= writable;
            } else if (fd == fb) {
              ba.inReady |= readable;
              ab.outReady |= writable;
            }
          }
        }
      }
    } finally {
      if (ab != null) {
        ab.release();
      }
      if (ba != null) {
        ba.release();
      }
      if (ep != null) {
        ep.close();
      }
      if (fa >= 0) {
        sc.close(fa);
      }
      if (fb >= 0) {
        sc.close(fb);
      }
      PipePool.release(la, ab == null || ab.pipeEmpty());
      if (lb != null) {
        PipePool.release(lb, ba == null || ba.pipeEmpty());
      }
    }
  }

  /**
   * Userspace proxy: {@code b -> a} on a virtual thread, {@code a -> b} on the caller. The first
   * failure on either side is the one reported; it shuts the other direction's source input down,
   * so that direction ends too and the call never waits on a peer that has nothing more to say.
   */
  private static Proxied proxyCopy(SocketChannel a, SocketChannel b, Allocator allocator)
      throws IOException {
    ChannelChecks.requireBlocking(a);
    ChannelChecks.requireBlocking(b);
    AtomicReference<Throwable> first = new AtomicReference<>();
    long[] back = new long[1];
    Thread helper =
        Thread.ofVirtual()
            .name("nocopy-proxy-back")
            .start(
                () -> {
                  try {
                    back[0] = copy(b, a, Long.MAX_VALUE, allocator);
                    a.shutdownOutput();
                  } catch (Throwable t) {
                    first.compareAndSet(null, t);
                    shutdownInputQuietly(a); // the caller's direction ends with end of stream
                  }
                });
    long forth = 0;
    try {
      forth = copy(a, b, Long.MAX_VALUE, allocator);
      b.shutdownOutput();
    } catch (Throwable t) {
      first.compareAndSet(null, t);
      shutdownInputQuietly(b);
    }
    joinUninterruptibly(helper);
    Throwable t = first.get();
    if (t == null) {
      return new Proxied(forth, back[0]);
    }
    if (t instanceof ClosedChannelException c) {
      throw ChannelChecks.closedMeanwhile(c);
    }
    if (t instanceof IOException e) {
      throw e;
    }
    if (t instanceof RuntimeException r) {
      throw r;
    }
    throw (Error) t;
  }

  private static void shutdownInputQuietly(SocketChannel ch) {
    try {
      ch.shutdownInput();
    } catch (IOException ignored) {
      // already closed or not connected: its reader ends anyway
    }
  }

  /** Joins, keeping (and restoring) the caller's interrupt status: the helper always ends. */
  private static void joinUninterruptibly(Thread t) {
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Passes a direction's end on; a socket closed meanwhile is an asynchronous close. */
  private static void shutdownOutput(SocketChannel ch) throws IOException {
    try {
      ch.shutdownOutput();
    } catch (ClosedChannelException e) {
      throw ChannelChecks.closedMeanwhile(e);
    }
  }

  /**
   * Whether {@link #transfer} between these channels would run in the kernel (splice, or sendfile
   * for a file source).
   *
   * @param src the source channel
   * @param dst the destination channel
   * @return true when acceleration is on and both channels have file descriptors
   */
  public static boolean accelerated(Channel src, Channel dst) {
    return Accel.NATIVE && ChannelFds.fdOf(src) >= 0 && ChannelFds.fdOf(dst) >= 0;
  }

  /** Userspace path: one pooled block, blocking channels. */
  static long copy(
      ReadableByteChannel src, WritableByteChannel dst, long limit, Allocator allocator)
      throws IOException {
    ChannelChecks.requireBlocking(src);
    ChannelChecks.requireBlocking(dst);
    ChannelChecks.requireOpen(src);
    ChannelChecks.requireOpen(dst);
    Block block = allocator.allocate(Accel.BLOCK_TIER.size());
    try {
      ByteBuffer bb = block.byteBuffer();
      long moved = 0;
      while (moved < limit) {
        bb.clear();
        if (limit - moved < bb.capacity()) {
          bb.limit((int) (limit - moved));
        }
        int r = src.read(bb);
        if (r < 0) {
          break;
        }
        bb.flip();
        while (bb.hasRemaining()) {
          dst.write(bb);
        }
        moved += r;
        Accel.COPIED.add(r);
      }
      return moved;
    } catch (ClosedChannelException e) {
      throw ChannelChecks.closedMeanwhile(e);
    } finally {
      block.release();
    }
  }

  /** File source: FileChannel.transferTo (sendfile to sockets), advancing the position. */
  private static long fromFile(
      FileChannel fc, WritableByteChannel dst, long limit, Allocator allocator) throws IOException {
    long pos = fc.position();
    long moved = 0;
    int outFd = -1;
    Op op = null;
    try {
      while (moved < limit) {
        long size = fc.size();
        if (pos >= size) {
          break;
        }
        long n = fc.transferTo(pos, Math.min(limit - moved, size - pos), dst);
        if (n > 0) {
          pos += n;
          moved += n;
          continue;
        }
        // 0 with bytes left: a destination whose descriptor is non-blocking is full. Wait for it.
        if (op == null && Accel.NATIVE) {
          op = new Op(new Syscalls()).watch(fc).watch(dst);
          outFd = op.dup(dst);
        }
        if (outFd < 0) {
          // no descriptor to wait on: finish through userspace (blocking channels only)
          fc.position(pos);
          long rest = copy(fc, dst, limit - moved, allocator);
          pos = fc.position();
          return moved + rest;
        }
        op.await(outFd, ChannelFds.POLLOUT);
      }
      fc.position(pos);
      return moved;
    } finally {
      if (outFd >= 0) {
        op.sc.close(outFd);
      }
    }
  }
}
