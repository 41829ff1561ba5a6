package io.nocopy.pipe;

import io.nocopy.buffer.Slice;
import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.KernelPipe;
import io.nocopy.internal.linux.Op;
import io.nocopy.internal.linux.Syscalls;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drains a pipe (kernel or userspace) into a channel until the pipe's end of stream: the write
 * side of {@link Pipe#writeTo}. {@code counter}, when given, is
 * advanced after every write so other threads can read progress.
 */
final class Egress {
  private static final int POLLIN_BITS = 1 | 8 | 16; // POLLIN | POLLERR | POLLHUP

  private Egress() {}

  /** Kernel pipe to a channel with a descriptor ({@code out}, non-blocking): splice(2). */
  static long splice(Op op, KernelPipe p, int out, AtomicLong counter) throws IOException {
    Syscalls sc = op.sc;
    int pr = p.r.fd;
    long moved = 0;
    while (true) {
      op.check();
      long n = sc.splice(pr, out, p.capacity(), Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
      if (n > 0) {
        moved += n;
        Accel.SPLICED.add(n);
        if (counter != null) {
          counter.setRelease(counter.getPlain() + n);
        }
      } else if (n == 0) {
        return moved;
      } else if (n == -Syscalls.EAGAIN) {
        int rev = sc.pollNow(pr, ChannelFds.POLLIN);
        if (rev > 0 && (rev & POLLIN_BITS) != 0) {
          // Bytes are waiting, so either the destination is full or a chunk arrived just after the
          // splice. A regular file is never full and cannot be polled (epoll_ctl says EPERM): retry.
          if (!op.pollable(out)) {
            continue;
          }
          op.await(out, ChannelFds.POLLOUT);
        } else {
          op.await(pr, ChannelFds.POLLIN);
        }
      } else {
        throw Op.failure("splice to destination", n);
      }
    }
  }

  /** Kernel pipe to a channel without a descriptor: read(2) into a pooled block, then write. */
  static long copyOut(
      Op op, KernelPipe p, WritableByteChannel dst, AtomicLong counter, Allocator allocator)
      throws IOException {
    ChannelChecks.requireBlocking(dst);
    Accel.reportNoFd(dst);
    Syscalls sc = op.sc;
    Block block = allocator.allocate(Accel.BLOCK_TIER.size());
    try {
      ByteBuffer bb = block.byteBuffer();
      long addr = block.segment().address();
      long moved = 0;
      while (true) {
        op.check();
        long n = sc.read(p.r.fd, addr, bb.capacity());
        if (n > 0) {
          bb.clear().limit((int) n);
          while (bb.hasRemaining()) {
            dst.write(bb);
          }
          moved += n;
          Accel.COPIED.add(n);
          if (counter != null) {
            counter.setRelease(counter.getPlain() + n);
          }
        } else if (n == 0) {
          return moved;
        } else if (n == -Syscalls.EAGAIN) {
          op.await(p.r.fd, ChannelFds.POLLIN);
        } else {
          throw Op.failure("read from pipe", n);
        }
      }
    } finally {
      block.release();
    }
  }

  /**
   * Userspace pipe to a blocking channel: each slice with gathering writes of its chunks (through
   * the slice's own handle, so consumers of the same blocks never share buffer state).
   */
  static long drainUser(UserPipe u, WritableByteChannel dst, AtomicLong counter)
      throws IOException, InterruptedException {
    GatheringByteChannel out = dst instanceof GatheringByteChannel g ? g : null;
    long moved = 0;
    Slice s;
    while ((s = u.take()) != null) {
      try {
        long len = s.length();
        if (out != null) {
          for (long done = 0; done < len; ) {
            done += s.writeTo(out, done);
          }
        } else {
          s.forEachChunk(chunk -> {
            ByteBuffer bb = chunk.asByteBuffer();
            while (bb.hasRemaining()) {
              dst.write(bb);
            }
          });
        }
        moved += len;
        if (counter != null) {
          counter.setRelease(counter.getPlain() + len);
        }
      } finally {
        s.close();
      }
    }
    return moved;
  }
}
