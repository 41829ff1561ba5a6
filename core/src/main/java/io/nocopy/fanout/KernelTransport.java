package io.nocopy.fanout;

import io.nocopy.buffer.ChunkConsumer;
import io.nocopy.buffer.Slice;
import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.KernelPipe;
import io.nocopy.internal.linux.Native;
import io.nocopy.internal.linux.Op;
import io.nocopy.internal.linux.Syscalls;
import io.nocopy.memory.Block;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * The kernel transport: the source thread splices the source into a staging pipe, each sink's
 * {@link KernelPort} tees the chunk into its own pipe, and the staging copy is discarded. No byte
 * of the stream enters the JVM, except for sinks that use userspace (a copy read once per chunk,
 * {@link #copyOf}). The burst is a {@link PipeBurst}.
 *
 * <h2>Ranges and inserted bytes</h2>
 *
 * tee(2) copies from a pipe's head, so a sink's range that starts at the head is one tee; a range
 * that starts inside the chunk (a sink's start position, the rest after an insertion point) goes
 * through a private scratch pipe: tee the chunk up to the range's end into it, discard the part
 * before the range, splice the range into the sink's pipe. Inserted bytes are written into the
 * sink's pipe from a pooled block. Every such step must complete at once (the sink's pipe is its
 * bound): a sink that cannot take it is too slow.
 *
 * <h2>The source's bytes in userspace, once per chunk</h2>
 *
 * The source tap and a compact burst need the chunk's bytes: {@link #sourceCopy} tees the staging
 * pipe into a parser pipe and reads that into one pooled block, at most once per chunk, on the
 * source thread. The sinks' bytes still never enter the JVM.
 *
 * <p>Threads: the source side ({@link #begin}, {@link #read}, {@link #done}) uses {@code sc};
 * everything under the delivery lock (tees, burst, copies, inserted bytes, direct splices) uses
 * {@link #lockedSc()}, because the thread adding a sink runs it too.
 */
final class KernelTransport implements Transport {
  private final Fanout fanout;
  private final ReadableByteChannel src;
  private final Syscalls sc = new Syscalls();
  private final Syscalls locked = new Syscalls();
  private final KernelPipe stage;
  private final PipeBurst burst;
  private final long chunkMax;
  private final KernelChunk chunk = new KernelChunk(this);
  private final Op op;
  private KernelPipe parser; // source thread: the source copy's pipe, opened on first use
  private Block copyBlock; // source thread: holds the current chunk's source copy
  private long copyAddress; // copyBlock's address
  private boolean copied; // the current chunk's bytes are in copyBlock
  private KernelPipe scratch; // under the delivery lock
  private Block bytesBlock; // inserted bytes go through it, under the delivery lock
  private Slice leading;
  private int in = -1;
  private boolean entered;
  private boolean closed; // under the delivery lock: the scratch pipe and block are gone

  KernelTransport(Fanout f, Source.OfChannel src) throws IOException {
    this.fanout = f;
    this.src = src.channel();
    this.leading = src.leading();
    this.stage = KernelPipe.open(sc);
    this.chunkMax = Math.min(stage.capacity(), Math.max(4096, f.sinkBound / 4));
    try {
      this.burst = new PipeBurst(this, f.burstBytes, chunkMax);
    } catch (IOException | RuntimeException e) {
      stage.close();
      throw e;
    }
    this.op = new Op(sc).watch(this.src).watch(stage.w);
  }

  @Override
  public TransportKind kind() {
    return TransportKind.KERNEL;
  }

  Syscalls lockedSc() {
    return locked;
  }

  @Override
  public void begin() throws IOException {
    if (!stage.w.enter()) {
      throw new java.nio.channels.AsynchronousCloseException();
    }
    if (!stage.r.enter()) {
      stage.w.exit();
      throw new java.nio.channels.AsynchronousCloseException();
    }
    entered = true;
    in = op.dup(src);
    if (in < 0) {
      throw new IOException("the source channel has no descriptor");
    }
  }

  @Override
  public Chunk read() throws IOException {
    op.check();
    long pos = fanout.counters.bytesIn;
    if (leading != null) {
      long n = stageLeading();
      if (n > 0) {
        return chunk.set(stage.r.fd, pos, n);
      }
    }
    long n = sc.splice(in, stage.w.fd, chunkMax, Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
    if (n > 0) {
      return chunk.set(stage.r.fd, pos, n);
    }
    if (n == 0) {
      return null;
    }
    if (n == -Syscalls.EAGAIN) {
      return Chunk.NONE;
    }
    throw Op.failure("splice from source", n);
  }

  /** Writes up to a chunk of the read-ahead bytes into the (empty) staging pipe. */
  private long stageLeading() throws IOException {
    long want = Math.min(chunkMax, leading.length());
    long[] done = {0};
    leading.forEachChunk(seg -> {
      if (done[0] < want) {
        long m = Math.min(seg.byteSize(), want - done[0]);
        writeFully(sc, stage.w.fd, seg.address(), m, "write read-ahead bytes into the staging pipe");
        done[0] += m;
      }
    });
    Slice rest = leading.length() == want ? null : leading.slice(want, leading.length() - want);
    leading.close();
    leading = rest;
    return want;
  }

  private static void writeFully(Syscalls sc, int fd, long address, long len, String what)
      throws IOException {
    long done = 0;
    while (done < len) { // into an empty pipe that holds a chunk: this completes
      long w = sc.write(fd, address + done, len - done);
      if (w <= 0) {
        throw Op.failure(what, w == 0 ? -Syscalls.EAGAIN : w);
      }
      done += w;
    }
  }

  @Override
  public void tap(Chunk c, ChunkConsumer tap) throws IOException {
    tap.accept(copyBlock(c).asSlice(0, c.length));
  }

  private MemorySegment copyBlock(Chunk c) throws IOException {
    sourceCopy((KernelChunk) c);
    return copyBlock.segment();
  }

  /**
   * Source thread (also under the delivery lock): the current chunk's bytes, read once per chunk
   * from a tee of the staging pipe into a pooled block; the staging pipe keeps them.
   *
   * @return the address of the chunk's first byte in pooled memory, valid until {@link #done}
   */
  long sourceCopy(KernelChunk c) throws IOException {
    if (copied) {
      return copyAddress;
    }
    if (parser == null) {
      parser = KernelPipe.open(sc);
      if (parser.capacity() < stage.capacity()) {
        parser.resize(sc, stage.capacity());
      }
      copyBlock = fanout.allocator.allocate((int) chunkMax);
      copyAddress = copyBlock.segment().address();
    }
    int len = (int) c.length;
    if (sc.tee(c.fd, parser.w.fd, len, Syscalls.SPLICE_F_NONBLOCK) != len) {
      discard(sc, parser.r.fd, sc.available(parser.r.fd), "parser pipe");
      throw new IOException("tee of a chunk into the empty parser pipe was partial");
    }
    for (long got = 0; got < len; ) {
      long r = sc.read(parser.r.fd, copyAddress + got, len - got);
      if (r <= 0) {
        throw Op.failure("read a chunk out of the parser pipe", r == 0 ? -Syscalls.EAGAIN : r);
      }
      got += r;
    }
    copied = true;
    return copyAddress;
  }

  @Override
  public void awaitSource() throws IOException {
    op.await(in, ChannelFds.POLLIN);
  }

  @Override
  public void done(Chunk c) throws IOException {
    chunk.reset();
    copied = false;
    discard(sc, stage.r.fd, c.length, "staging pipe");
  }

  @Override
  public long waiting() {
    int n = in < 0 ? -1 : sc.available(in);
    return n >= 0 ? n : -1;
  }

  @Override
  public void keepBurst(Chunk c) throws IOException {
    burst.keep((KernelChunk) c);
  }

  @Override
  public long burstStart() {
    return fanout.counters.bytesIn - burst.held();
  }

  @Override
  public void giveBurst(Sink s, long start) throws IOException {
    burst.give(s, start, fanout.counters.bytesIn);
  }

  /** A new pipe's size on Linux (16 pages) until the user's soft pipe page limit is reached. */
  private static final int DEFAULT_PIPE_SIZE = 16 * PipeBudget.PAGE;

  @Override
  public Port newPort(SinkBuilder b) throws IOException {
    boolean asked = b.transport == TransportKind.KERNEL;
    if (b.transport == TransportKind.USERSPACE) {
      return new UserPort(fanout, b.channel, b.bound);
    }
    if (ChannelFds.fdOf(b.channel) < 0) {
      if (asked) {
        throw new IllegalArgumentException(
            "a kernel sink needs a channel with a descriptor: " + b.channel.getClass().getName());
      }
      Native.reportNoFd(b.channel);
      return new UserPort(fanout, b.channel, b.bound);
    }
    // within this process's share of the user's pipe pages (see PipeBudget): beyond it a sink
    // takes the userspace path, so that new fan-outs still find pages for their own pipes
    PipeBudget budget = PipeBudget.user();
    long charge = PipeBudget.charge(Math.max(b.bound, DEFAULT_PIPE_SIZE));
    if (!budget.take(charge)) {
      if (!asked) {
        return new UserPort(fanout, b.channel, b.bound);
      }
      budget.force(charge);
    }
    Syscalls s = new Syscalls();
    KernelPipe p = null;
    try {
      p = KernelPipe.open(s);
      if (p.capacity() < b.bound) {
        int got = s.setPipeSize(p.r.fd, b.bound);
        if (got == -Syscalls.EPERM && !asked) {
          // over /proc/sys/fs/pipe-max-size or the user's pipe page budget (other processes of
          // the user count too): this sink alone takes the userspace path
          p.close();
          budget.give(charge);
          return new UserPort(fanout, b.channel, b.bound);
        }
        if (got < 0) {
          throw KernelPipe.resizeFailure(b.bound, -got);
        }
      }
    } catch (IOException | RuntimeException e) {
      if (p != null) {
        p.close();
      }
      budget.give(charge);
      throw e;
    }
    return new KernelPort(fanout, this, b.channel, p, budget, charge);
  }

  // ---------------------------------------------------------------------------------------------
  // under the delivery lock

  /**
   * Puts {@code [from, from + len)} of the chunk into the pipe {@code w}, whole or not at all
   * (a partial copy would leave a hole: the caller drops the sink).
   */
  boolean teeInto(KernelChunk c, long from, long len, int w) {
    if (from == 0) {
      return locked.tee(c.fd, w, len, Syscalls.SPLICE_F_NONBLOCK) == len;
    }
    try {
      KernelPipe x = scratch(c.length);
      long upTo = from + len;
      if (locked.tee(c.fd, x.w.fd, upTo, Syscalls.SPLICE_F_NONBLOCK) != upTo) {
        throw new IOException("tee into an empty scratch pipe was partial");
      }
      discard(locked, x.r.fd, from, "the part before a sink's range");
      long m = locked.splice(x.r.fd, w, len, Syscalls.SPLICE_F_NONBLOCK | Syscalls.SPLICE_F_MOVE);
      long moved = Math.max(0, m);
      if (moved < len) {
        discard(locked, x.r.fd, len - moved, "the rest of a sink's range");
      }
      return moved == len;
    } catch (IOException e) {
      return false;
    }
  }

  /** Writes the bytes (position to limit, not consumed) into pipe {@code w}, whole or false. */
  boolean writeInto(ByteBuffer b, int w) {
    if (closed) {
      return false;
    }
    try {
      if (bytesBlock == null) {
        bytesBlock = fanout.allocator.allocate(64 << 10);
      }
      MemorySegment seg = bytesBlock.segment();
      MemorySegment from = MemorySegment.ofBuffer(b);
      long off = 0;
      while (off < from.byteSize()) {
        long m = Math.min(seg.byteSize(), from.byteSize() - off);
        MemorySegment.copy(from, off, seg, 0, m);
        if (locked.write(w, seg.address(), m) != m) {
          return false; // no room: a part would leave a hole
        }
        off += m;
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** A copy of the chunk in pooled memory, for userspace sinks (the chunk stays in its pipe). */
  Slice copyOf(KernelChunk c) throws IOException {
    KernelPipe x = scratch(c.length);
    if (locked.tee(c.fd, x.w.fd, c.length, Syscalls.SPLICE_F_NONBLOCK) != c.length) {
      throw new IOException("tee into an empty scratch pipe was partial");
    }
    int max = 128 << 10;
    int n = (int) ((c.length + max - 1) / max);
    io.nocopy.buffer.Chunks chunks = new io.nocopy.buffer.Chunks(n);
    try {
      for (long left = c.length; left > 0; ) {
        int len = (int) Math.min(left, max);
        Block b = fanout.allocator.allocate(len);
        chunks.accept(b, 0, len);
        long got = 0;
        while (got < len) {
          long r = locked.read(x.r.fd, b.segment().address() + got, len - got);
          if (r <= 0) {
            throw Op.failure("read a chunk out of the scratch pipe", r == 0 ? -Syscalls.EAGAIN : r);
          }
          got += r;
        }
        left -= len;
      }
      return Slice.of(chunks, chunks.count());
    } catch (IOException | RuntimeException e) {
      chunks.release();
      discardQuietly(x);
      throw e;
    }
  }

  private KernelPipe scratch(long atLeast) throws IOException {
    if (closed) {
      throw new java.nio.channels.AsynchronousCloseException();
    }
    if (scratch == null) {
      scratch = KernelPipe.open(locked);
    }
    // a tee takes one buffer per buffer of its source, however few bytes each holds: room for
    // as many buffers as the burst pipe (the source with the most) has
    long want = Math.max(atLeast, burst.capacity());
    if (scratch.capacity() < want) {
      scratch.resize(locked, (int) want);
    }
    return scratch;
  }

  private void discardQuietly(KernelPipe x) {
    int left = locked.available(x.r.fd);
    if (left > 0) {
      try {
        discard(locked, x.r.fd, left, "scratch pipe");
      } catch (IOException ignored) {
        // the scratch pipe is closed with the transport
      }
    }
  }

  /** Moves {@code n} bytes from the head of pipe {@code fd} to /dev/null. */
  static void discard(Syscalls sc, int fd, long n, String what) throws IOException {
    int devNull = Native.devNull();
    while (n > 0) {
      long m = sc.splice(fd, devNull, n, Syscalls.SPLICE_F_NONBLOCK);
      if (m <= 0) {
        throw Op.failure("splice " + what + " to /dev/null", m == 0 ? -Syscalls.EAGAIN : m);
      }
      n -= m;
    }
  }

  @Override
  public void end() {
    if (leading != null) {
      leading.close();
      leading = null;
    }
    if (in >= 0) {
      sc.close(in);
      in = -1;
    }
    copied = false;
    if (parser != null) {
      parser.close();
      parser = null;
    }
    if (copyBlock != null) {
      copyBlock.release();
      copyBlock = null;
    }
    if (entered) {
      stage.r.exit();
      stage.w.exit();
      entered = false;
    }
  }

  @Override
  public void close() {
    stage.close();
    fanout.delivery.lock();
    try {
      closed = true;
      burst.close();
      if (scratch != null) {
        scratch.close();
      }
      if (bytesBlock != null) {
        bytesBlock.release();
        bytesBlock = null;
      }
    } finally {
      fanout.delivery.unlock();
    }
  }
}
