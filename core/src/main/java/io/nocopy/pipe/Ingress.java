package io.nocopy.pipe;

import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.Op;
import io.nocopy.internal.linux.Syscalls;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Moves bytes from a source into a pipe's write end: splice(2) when the source has a
 * descriptor, else the source's read into a pooled block and write(2) into the pipe.
 */
final class Ingress {
  static final long SOURCE_EMPTY = -1;
  static final long PIPE_FULL = -2;
  private final Op op;
  private final ReadableByteChannel src;
  private final int in;
  private Block block;
  private ByteBuffer bb;
  private long addr;
  private long pendingOff;
  private long pending;

  Ingress(Op op, ReadableByteChannel src, int in, Allocator allocator) throws IOException {
    this.op = op;
    this.src = src;
    this.in = in;
    if (in < 0) {
      ChannelChecks.requireBlocking(src);
      Accel.reportNoFd(src);
      block = allocator.allocate(Accel.BLOCK_TIER.size());
      bb = block.byteBuffer();
      addr = block.segment().address();
    }
  }

  /** Bytes waiting in the source now (FIONREAD), or -1 when that cannot be known (no descriptor). */
  long waiting() {
    if (in < 0) {
      return -1;
    }
    int n = op.sc.available(in);
    return n >= 0 ? n : -1;
  }

  /** Bytes moved, 0 at the source's end, or SOURCE_EMPTY / PIPE_FULL. */
  long fill(int pipeW, long max) throws IOException {
    Syscalls sc = op.sc;
    if (in >= 0) {
      long n = sc.splice(in, pipeW, max, Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
      if (n >= 0) {
        return n;
      }
      if (n == -Syscalls.EAGAIN) {
        int rev = sc.pollNow(pipeW, ChannelFds.POLLOUT);
        return rev > 0 && (rev & ChannelFds.POLLOUT) != 0 ? SOURCE_EMPTY : PIPE_FULL;
      }
      throw Op.failure("splice from source", n);
    }
    if (pending == 0) {
      bb.clear();
      if (max < bb.capacity()) {
        bb.limit((int) max);
      }
      int r = src.read(bb);
      if (r < 0) {
        return 0;
      }
      pendingOff = 0;
      pending = r;
      if (r == 0) {
        return SOURCE_EMPTY;
      }
    }
    long n = sc.write(pipeW, addr + pendingOff, pending);
    if (n > 0) {
      pendingOff += n;
      pending -= n;
      Accel.COPIED.add(n);
      return n;
    }
    if (n == -Syscalls.EAGAIN) {
      return PIPE_FULL;
    }
    throw Op.failure("write into pipe", n);
  }

  void await(long why, int pipeW) throws IOException {
    if (why == PIPE_FULL) {
      op.await(pipeW, ChannelFds.POLLOUT);
    } else if (in >= 0) {
      op.await(in, ChannelFds.POLLIN);
    } else {
      op.check(); // a blocking source returned 0 bytes: read again
    }
  }

  void close() {
    if (in >= 0) {
      op.sc.close(in);
    }
    if (block != null) {
      block.release();
    }
  }
}
