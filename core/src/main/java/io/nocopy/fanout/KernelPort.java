package io.nocopy.fanout;

import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.GuardedFd;
import io.nocopy.internal.linux.KernelPipe;
import io.nocopy.internal.linux.Op;
import io.nocopy.internal.linux.Syscalls;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * A kernel sink's backlog: its own pipe, sized to the sink's bound. The delivering thread tees
 * chunks into it ({@link KernelTransport#teeInto}); whoever owns the channel splices it out to a
 * private duplicate of the channel's descriptor: the writer thread ({@link #serve}) or, while the
 * sink is idle, the delivering thread ({@link #writeDirect}: one non-blocking splice). No byte of
 * the stream enters the JVM; only inserted bytes are written into the pipe from memory.
 *
 * <p>The pipe's content is {@code put - drained} bytes: {@code put} is written by the delivering
 * thread only, {@code drained} by the channel's owner only (both volatile, read by the other).
 */
final class KernelPort implements Port {
  private static final int POLLIN_BITS = 1 | 8 | 16; // POLLIN | POLLERR | POLLHUP

  private final Fanout fanout;
  private final KernelTransport transport;
  private final WritableByteChannel channel;
  private final KernelPipe pipe;
  private final Syscalls writerSc = new Syscalls();
  private volatile long put; // delivering thread only
  private volatile long drained; // channel owner only
  private volatile GuardedFd direct; // the writer's duplicate of the channel's descriptor
  private final BooleanSupplier backlogCheck = this::hasBacklog;
  private final PipeBudget budget;
  private final AtomicLong charge; // the pipe's charge against the budget, until it is closed

  KernelPort(Fanout fanout, KernelTransport transport, WritableByteChannel channel, KernelPipe pipe,
      PipeBudget budget, long charge) {
    this.fanout = fanout;
    this.transport = transport;
    this.channel = channel;
    this.pipe = pipe;
    this.budget = budget;
    this.charge = new AtomicLong(charge);
  }

  @Override
  public TransportKind kind() {
    return TransportKind.KERNEL;
  }

  @Override
  public boolean put(Chunk c, long from, long len) {
    if (!pipe.w.enter()) {
      return true; // the sink ends: it takes anything
    }
    try {
      return added(transport.teeInto((KernelChunk) c, from, len, pipe.w.fd), len);
    } finally {
      pipe.w.exit();
    }
  }

  @Override
  public boolean putOwned(Chunk c, long from, long len, Sink s) {
    if (!put(c, from, len)) {
      return false;
    }
    writeDirect(s);
    return true;
  }

  @Override
  public boolean putBytes(ByteBuffer b) {
    if (!pipe.w.enter()) {
      return true;
    }
    try {
      return added(transport.writeInto(b, pipe.w.fd), b.remaining());
    } finally {
      pipe.w.exit();
    }
  }

  private boolean added(boolean whole, long len) {
    if (whole) {
      put += len;
    }
    return whole;
  }

  /**
   * The delivering thread owns the channel: splices the whole pipe (the bytes just put, and any
   * put while the writer still owned the channel, just before it went idle) without waiting.
   */
  @Override
  public boolean writeDirect(Sink s) {
    long n = put - drained;
    if (n <= 0) {
      return true;
    }
    GuardedFd o = direct;
    long m = 0;
    if (channel.isOpen() && pipe.r.enter()) {
      try {
        if (o.enter()) {
          try {
            m = transport.lockedSc().splice(pipe.r.fd, o.fd, n,
                Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
          } finally {
            o.exit();
          }
        }
      } finally {
        pipe.r.exit();
      }
    }
    if (m > 0) {
      drained += m;
      s.written.setRelease(s.written.getPlain() + m);
      s.direct.setRelease(s.direct.getPlain() + m);
      fanout.counters.direct.add(m);
    }
    return m == n;
  }

  @Override
  public boolean hasBacklog() {
    return put - drained > 0;
  }

  @Override
  public long backlog() {
    return Math.max(0, put - drained);
  }

  @Override
  public void serve(Sink s) throws IOException {
    if (!pipe.r.enter()) {
      return;
    }
    Op op = new Op(writerSc).watch(channel).watch(pipe.r);
    int out = -1;
    GuardedFd g = null;
    try {
      out = op.dup(channel);
      writePrefix(s, op, out);
      g = new GuardedFd(out);
      direct = g;
      drain(s, op, g.fd);
    } finally {
      if (g != null) {
        g.close(); // closes at once, or when the delivering thread's direct splice returns
      } else if (out >= 0) {
        writerSc.close(out);
      }
      pipe.r.exit();
    }
  }

  /**
   * Writer thread: drains the pipe into the channel until the pipe's end of stream. While it runs
   * this thread owns the channel; when the pipe is empty and the channel can be polled it goes
   * idle ({@link Handover#idle}) until the channel is handed back.
   */
  private void drain(Sink s, Op op, int out) throws IOException {
    int pr = pipe.r.fd;
    boolean handOver = op.pollable(out); // never splice to a file from the source thread
    while (true) {
      op.check();
      long n = writerSc.splice(pr, out, pipe.capacity(),
          Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
      if (n > 0) {
        drained += n;
        s.written.setRelease(s.written.getPlain() + n);
        fanout.counters.byWriters.add(n);
        fanout.hold.drained(s);
      } else if (n == 0) {
        return; // the source ended and every byte is written
      } else if (n == -Syscalls.EAGAIN) {
        int rev = writerSc.pollNow(pr, ChannelFds.POLLIN);
        if (rev > 0 && (rev & POLLIN_BITS) != 0) {
          if (handOver) {
            op.await(out, ChannelFds.POLLOUT); // bytes wait: the channel is full
          } // else a file, never full: retry
        } else if (handOver) {
          s.handover.idle(backlogCheck);
        } else {
          op.await(pr, ChannelFds.POLLIN);
        }
      } else {
        throw Op.failure("splice to destination", n);
      }
    }
  }

  private void writePrefix(Sink s, Op op, int out) throws IOException {
    ByteBuffer p = s.prefix;
    if (p == null) {
      return;
    }
    while (p.hasRemaining()) {
      op.check();
      int n = channel.write(p);
      if (n > 0) {
        s.written.setRelease(s.written.getPlain() + n);
        fanout.counters.byWriters.add(n);
      } else if (channel instanceof SelectableChannel sel && !sel.isBlocking()) {
        op.await(out, ChannelFds.POLLOUT);
      }
    }
  }

  @Override
  public void endOfStream() {
    pipe.w.close(); // the writer's splice returns 0 once the pipe is drained
  }

  @Override
  public void stop() {
    pipe.close(); // the writer's next check or wait ends; bytes in the pipe are discarded
    budget.give(charge.getAndSet(0));
  }

  @Override
  public void release() {
    pipe.close();
    budget.give(charge.getAndSet(0));
  }
}
