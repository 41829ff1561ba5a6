package io.nocopy.pipe;

import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.KernelPipe;
import io.nocopy.internal.linux.Op;
import io.nocopy.internal.linux.Syscalls;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import java.io.IOException;

/**
 * The splice loop of {@link Transfer} (one per direction of a proxy) with its adaptive read/write
 * stage. One thread; the pipe and block are its own. {@code staged} bytes sit in the pipe (splice mode) or in the block at {@code blockOff}
 * (copy mode); the mode only changes when nothing is staged, so bytes keep their order.
 */
final class SpliceLoop {
  /**
   * A splice read below this many bytes counts as a small read (adaptive path): measured on
   * loopback, two splices cost more CPU than read+write up to about 16-64 KiB per call.
   */
  static final int SMALL_READ = 16 * 1024;

  /** A read(2) that fills the whole 32 KiB block (more was waiting) sends the transfer to splice. */
  static final int FAST_READ = (int) Accel.SMALL_TIER.size();

  private static final boolean ADAPTIVE =
      Boolean.parseBoolean(System.getProperty("nocopy.pipe.adaptive", "true"));

  private final Op op;
  private final Syscalls sc;
  private final int in;
  private final int out;
  private final int pr;
  private final int pw;
  private final long cap;
  private final long limit;
  private final Allocator allocator;
  long moved;
  boolean done;

  /**
   * Whether the source may have bytes / the destination may have room: cleared by an EAGAIN from
   * that socket, set again by a readiness event (or after any wait, in {@link #run}). An
   * operation whose side is not ready is not attempted: an event loop steps only what can move.
   */
  boolean inReady = true;

  boolean outReady = true;

  private long staged;
  private boolean eof;
  private boolean copyMode;
  private boolean switchMode;
  private int smallReads;
  private Block block;
  private long blockAddr;
  private long blockOff;
  private long blockSize;

  SpliceLoop(Op op, KernelPipe pipe, int in, int out, long limit, Allocator allocator) {
    this.op = op;
    this.allocator = allocator;
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
      start();
      while (true) {
        boolean progress = step();
        if (done) {
          return moved;
        }
        if (!progress) {
          if (staged > 0) {
            op.await(out, ChannelFds.POLLOUT);
          } else {
            op.await(in, ChannelFds.POLLIN);
          }
          inReady = true;
          outReady = true;
        }
      }
    } finally {
      release();
    }
  }

  /** Before the first step. */
  void start() throws IOException {
    if (ADAPTIVE) {
      enterCopyMode(); // start small: a fast stream fills the block and moves to splice
    }
  }

  /** After the last step, also on failure: gives the block back. Idempotent. */
  void release() {
    if (block != null) {
      block.release();
      block = null;
    }
  }

  /**
   * One round: fill the stage from the source (until the pipe is full or the source would
   * block), then drain it into the destination. Returns whether anything moved; false means
   * every operation this direction is blocked on returned EAGAIN (the destination's when bytes
   * are staged, else the source's), so an edge-triggered wait on both is safe. Sets {@link
   * #done} at the end of stream or limit, once everything staged was delivered.
   */
  boolean step() throws IOException {
    boolean progress = false;
    long room = limit - moved - staged;
    if (!eof && room > 0 && inReady) {
      progress = copyMode ? readIntoBlock(room) : spliceIn(room);
    }
    if (staged > 0 && outReady) {
      progress |= copyMode ? writeFromBlock() : spliceOut();
    }
    if (staged == 0) {
      if (eof || moved == limit) {
        done = true;
        return true;
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
    return progress;
  }

  private void enterCopyMode() throws IOException {
    if (block == null) {
      block = allocator.allocate(Accel.SMALL_TIER.size());
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
      // source empty, or the pipe is full of partly filled pages: drain first. Only an empty
      // pipe proves the source empty (a full one would never get a readiness event for it).
      if (staged == 0) {
        inReady = false;
      }
      return false;
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
      outReady = false;
      return false;
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
    if (n == -Syscalls.EAGAIN) {
      inReady = false;
      return false;
    }
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
      outReady = false;
      return false;
    }
    throw Op.failure("write to destination", n);
  }
}
