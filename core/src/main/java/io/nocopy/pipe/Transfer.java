package io.nocopy.pipe;

import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.Syscalls;
import io.nocopy.memory.Block;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;

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
  /**
   * A splice read below this many bytes counts as a small read (adaptive path): measured on
   * loopback, two splices cost more CPU than read+write up to about 16-64 KiB per call.
   */
  static final int SMALL_READ = 16 * 1024;

  /** A read(2) that fills the whole 32 KiB block (more was waiting) sends the transfer to splice. */
  static final int FAST_READ = (int) Accel.SMALL_TIER.size();

  private static final boolean ADAPTIVE =
      Boolean.parseBoolean(System.getProperty("nocopy.pipe.adaptive", "true"));

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
    Objects.requireNonNull(src, "src");
    Objects.requireNonNull(dst, "dst");
    if (limit < 0) {
      throw new IllegalArgumentException("negative limit " + limit);
    }
    if (limit == 0) {
      return 0;
    }
    if (src instanceof FileChannel fc) {
      return fromFile(fc, dst, limit);
    }
    if (!Accel.NATIVE) {
      Accel.reportOff();
      return copy(src, dst, limit);
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
        return copy(src, dst, limit);
      }
      Loop loop = new Loop(op, lease.pipe, in, out, limit);
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

  /**
   * The splice loop with its adaptive read/write stage. One thread; the pipe and block are its
   * own. {@code staged} bytes sit in the pipe (splice mode) or in the block at {@code blockOff}
   * (copy mode); the mode only changes when nothing is staged, so bytes keep their order.
   */
  private static final class Loop {
    private final Op op;
    private final Syscalls sc;
    private final int in;
    private final int out;
    private final int pr;
    private final int pw;
    private final long cap;
    private final long limit;
    private long moved;
    private long staged;
    private boolean eof;
    private boolean copyMode;
    private boolean switchMode;
    private int smallReads;
    private Block block;
    private long blockAddr;
    private long blockOff;
    private long blockSize;

    Loop(Op op, KernelPipe pipe, int in, int out, long limit) {
      this.op = op;
      this.sc = op.sc;
      this.in = in;
      this.out = out;
      this.pr = pipe.r.fd;
      this.pw = pipe.w.fd;
      this.cap = pipe.capacity();
      this.limit = limit;
    }

    boolean pipeEmpty() {
      return copyMode || staged == 0;
    }

    long run() throws IOException {
      try {
        if (ADAPTIVE) {
          enterCopyMode(); // start small: a fast stream fills the block and moves to splice
        }
        while (true) {
          boolean progress = false;
          long room = limit - moved - staged;
          if (!eof && room > 0) {
            progress = copyMode ? readIntoBlock(room) : spliceIn(room);
          }
          if (staged > 0) {
            progress |= copyMode ? writeFromBlock() : spliceOut();
          }
          if (staged == 0) {
            if (eof || moved == limit) {
              return moved;
            }
            if (switchMode) {
              switchMode = false;
              if (copyMode) {
                copyMode = false;
              } else {
                enterCopyMode();
              }
            }
          }
          if (!progress) {
            if (staged > 0) {
              op.await(out, ChannelFds.POLLOUT);
            } else {
              op.await(in, ChannelFds.POLLIN);
            }
          }
        }
      } finally {
        if (block != null) {
          block.release();
        }
      }
    }

    private void enterCopyMode() throws IOException {
      if (block == null) {
        block = Accel.allocator().allocate(Accel.SMALL_TIER.size());
        blockAddr = block.segment().address();
        blockSize = block.segment().byteSize();
      }
      copyMode = true;
      smallReads = 0;
    }

    private boolean spliceIn(long room) throws IOException {
      if (staged >= cap) {
        return false;
      }
      op.check();
      long n =
          sc.splice(
              in, pw, Math.min(cap - staged, room),
              Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
      if (n > 0) {
        staged += n;
        if (ADAPTIVE) {
          if (n < SMALL_READ) {
            if (++smallReads >= 2) {
              switchMode = true;
            }
          } else {
            smallReads = 0;
            switchMode = false;
          }
        }
        return true;
      }
      if (n == 0) {
        eof = true;
        return true;
      }
      if (n == -Syscalls.EAGAIN) {
        return false; // source empty, or the pipe is full of partly filled pages: drain first
      }
      if (n == -Syscalls.EINTR) {
        return true;
      }
      throw Op.failure("splice from source", n);
    }

    private boolean spliceOut() throws IOException {
      op.check();
      long n = sc.splice(pr, out, staged, Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
      if (n > 0) {
        staged -= n;
        moved += n;
        Accel.SPLICED.add(n);
        return true;
      }
      if (n == -Syscalls.EAGAIN) {
        return false;
      }
      if (n == -Syscalls.EINTR) {
        return true;
      }
      if (n == 0) {
        throw new IOException("splice to destination moved 0 of " + staged + " bytes");
      }
      throw Op.failure("splice to destination", n);
    }

    private boolean readIntoBlock(long room) throws IOException {
      if (staged > 0) {
        return false;
      }
      op.check();
      long n = sc.read(in, blockAddr, Math.min(blockSize, room));
      if (n > 0) {
        staged = n;
        blockOff = 0;
        if (n >= FAST_READ) {
          switchMode = true;
        }
        return true;
      }
      if (n == 0) {
        eof = true;
        return true;
      }
      if (n == -Syscalls.EAGAIN) {
        return false;
      }
      if (n == -Syscalls.EINTR) {
        return true;
      }
      throw Op.failure("read from source", n);
    }

    private boolean writeFromBlock() throws IOException {
      op.check();
      long n = sc.write(out, blockAddr + blockOff, staged);
      if (n > 0) {
        staged -= n;
        blockOff += n;
        moved += n;
        Accel.COPIED.add(n);
        return true;
      }
      if (n == -Syscalls.EAGAIN) {
        return false;
      }
      if (n == -Syscalls.EINTR) {
        return true;
      }
      throw Op.failure("write to destination", n);
    }
  }

  /** Userspace path: one pooled block, blocking channels. */
  static long copy(ReadableByteChannel src, WritableByteChannel dst, long limit)
      throws IOException {
    requireBlocking(src);
    requireBlocking(dst);
    requireOpen(src);
    requireOpen(dst);
    Block block = Accel.allocator().allocate(Accel.BLOCK_TIER.size());
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
      throw closedMeanwhile(e);
    } finally {
      block.release();
    }
  }

  static void requireOpen(Channel ch) throws ClosedChannelException {
    if (!ch.isOpen()) {
      throw new ClosedChannelException();
    }
  }

  /**
   * A JDK channel closed during a blocking call that had made progress returns the partial count,
   * and the next call throws a plain {@link ClosedChannelException}; for a loop whose channels
   * were open when it started, that is an asynchronous close.
   */
  static ClosedChannelException closedMeanwhile(ClosedChannelException e) {
    if (e instanceof AsynchronousCloseException) {
      return e;
    }
    AsynchronousCloseException a = new AsynchronousCloseException();
    a.initCause(e);
    return a;
  }

  static void requireBlocking(Channel ch) {
    if (ch instanceof SelectableChannel s && !s.isBlocking()) {
      throw new IllegalBlockingModeException();
    }
  }

  /** File source: FileChannel.transferTo (sendfile to sockets), advancing the position. */
  private static long fromFile(FileChannel fc, WritableByteChannel dst, long limit)
      throws IOException {
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
          long rest = copy(fc, dst, limit - moved);
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
