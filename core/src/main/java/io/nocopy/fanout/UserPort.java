package io.nocopy.fanout;

import io.nocopy.buffer.BufWriter;
import io.nocopy.buffer.Slice;
import io.nocopy.internal.linux.GuardedFd;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * A userspace sink's backlog: a bounded single-producer single-consumer ring of retained slices,
 * written with one gathering write of everything queued (through a {@link BufWriter}, by
 * reference: the bytes are never copied per sink and a steady stream allocates no views).
 *
 * <p>The producer is the delivering thread (under the fan-out's delivery lock); the consumer is
 * whoever owns the channel ({@link Handover}): the writer thread, or the source thread writing the
 * shared slice straight to an idle socket ({@link #putOwned}: no reference taken, nothing queued
 * when the socket takes it all). Direct writes need a selectable channel (a socket): the writer
 * switches it to non-blocking mode before it goes idle and back to blocking after. Other channels
 * (files) are always written by the writer.
 *
 * <p>Bounded twice: {@code bound} bytes queued and not yet written, and {@link #RING} entries.
 * Ring: a tail written only by the producer and a head written only by the channel's owner
 * (release stores, acquire loads). A writer without work parks after setting {@code parked}; the
 * producer unparks it when it sees {@code parked} after publishing (both volatile, so no wake-up is
 * lost).
 */
final class UserPort implements Port {
  static final int RING = 1024;
  private static final VarHandle HEAD;
  private static final VarHandle TAIL;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      HEAD = l.findVarHandle(UserPort.class, "head", long.class);
      TAIL = l.findVarHandle(UserPort.class, "tail", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Fanout fanout;
  private final WritableByteChannel channel;
  private final GatheringByteChannel out;
  private final SelectableChannel selectable; // non-null when the source may write directly
  private final Allocator allocator;
  private final long bound;
  private final Slice[] ring = new Slice[RING];
  private long head; // owner of the channel
  private long tail; // producer
  private volatile long queued; // bytes put (producer only)
  private volatile long drained; // bytes of the queue written (owner only)
  private volatile boolean parked;
  private volatile boolean finished;
  private volatile boolean stopped;
  private volatile boolean blockedInWrite;
  private volatile Thread writer;
  private volatile GuardedFd sendFd;
  private final BooleanSupplier backlogCheck = this::hasBacklog;

  UserPort(Fanout fanout, WritableByteChannel channel, int bound) {
    this.fanout = fanout;
    this.channel = channel;
    this.out = Gathering.of(channel);
    this.selectable =
        channel instanceof SelectableChannel sel && channel instanceof GatheringByteChannel
            ? sel
            : null;
    this.allocator = fanout.allocator;
    this.bound = bound;
  }

  @Override
  public boolean put(Chunk c, long from, long len) {
    Slice s;
    try {
      s = c.slice();
    } catch (IOException e) {
      return false; // the copy out of a kernel pipe failed: this sink cannot follow
    }
    if (!fits(len)) {
      return false;
    }
    enqueue(from == 0 && len == s.length() ? s.retain() : s.slice(from, len), len);
    return true;
  }

  @Override
  public boolean putOwned(Chunk c, long from, long len, Sink sink) {
    if (selectable == null || tail != head) {
      return put(c, from, len); // slices wait ahead of this one: they go first, by the writer
    }
    Slice s;
    try {
      s = c.slice();
    } catch (IOException e) {
      return false;
    }
    long n;
    try {
      if (from == 0 && len == s.length()) {
        n = s.writeTo(out, 0);
      } else {
        try (Slice part = s.slice(from, len)) {
          n = part.writeTo(out, 0);
        }
      }
    } catch (IOException e) {
      n = 0; // the writer meets the same error on its own write and ends the sink
    }
    return wrote(s, from, len, n, sink);
  }

  /**
   * The delivering thread, owning the channel, wrote {@code n} bytes of {@code [from, from + len)}
   * of {@code s} directly: counts them and queues exactly the unsent remainder.
   *
   * @return false if the remainder does not fit the bound (the sink is to be dropped)
   */
  boolean wrote(Slice s, long from, long len, long n, Sink sink) {
    countDirect(sink, n);
    return n == len || queue(s, from + n, len - n);
  }

  /**
   * Like {@link #wrote(Slice, long, long, long, Sink)} for one send of several pieces in stream
   * order, piece {@code k} being {@code [froms[k], froms[k] + lengths[k])} of {@code slices[k]},
   * or of {@code scratch} where {@code slices[k]} is null ({@link UringSends}): the {@code n}
   * bytes sent are the first pieces' bytes; the rest of the piece they end in and every piece after
   * it are queued in order, as one entry (scratch bytes copied: the scratch is reused).
   *
   * @return false if what is left does not fit the bound (the sink is to be dropped)
   */
  boolean wrote(Slice[] slices, long[] froms, long[] lengths, int first, int end,
      MemorySegment scratch, long n, Sink sink) {
    countDirect(sink, n);
    int k = first;
    while (k < end && n >= lengths[k]) {
      n -= lengths[k++];
    }
    if (k == end) {
      return true;
    }
    if (k == end - 1 && slices[k] != null) {
      return queue(slices[k], froms[k] + n, lengths[k] - n); // the usual rest: part of the chunk
    }
    // the rest as one queue entry: a chunk with many insertions would take many of the ring's
    long rest = -n;
    for (int i = k; i < end; i++) {
      rest += lengths[i];
    }
    if (!fits(rest)) {
      return false;
    }
    try (BufWriter w = BufWriter.of(allocator)) {
      for (; k < end; k++, n = 0) {
        long from = froms[k] + n;
        long len = lengths[k] - n;
        if (slices[k] != null) {
          try (Slice part = slices[k].slice(from, len)) {
            w.write(part); // by reference: the writer takes its own block references
          }
        } else {
          w.write(scratch.asSlice(from, len)); // a copy: the scratch is reused
        }
      }
      enqueue(w.toSlice(), rest);
      return true;
    } catch (IOException e) {
      return false; // pool exhausted: the sink cannot take the bytes
    }
  }

  /**
   * The delivering thread, owning the channel: writes the pieces (as in {@link #wrote(Slice[],
   * long[], long[], int, int, MemorySegment, long, Sink)}) now, in order, as far as the channel
   * takes them without waiting, and queues the rest (backlog first: with a backlog it all goes to
   * the queue).
   *
   * @return false if what is left does not fit the bound (the sink is to be dropped)
   */
  boolean putOwned(Slice[] slices, long[] froms, long[] lengths, int first, int end,
      MemorySegment scratch, Sink sink) {
    long n = 0;
    if (selectable != null && tail == head) {
      try {
        for (int k = first; k < end; k++) {
          long w;
          if (slices[k] == null) {
            w = out.write(scratch.asSlice(froms[k], lengths[k]).asByteBuffer());
          } else {
            try (Slice part = slices[k].slice(froms[k], lengths[k])) {
              w = part.writeTo(out, 0);
            }
          }
          n += w;
          if (w < lengths[k]) {
            break;
          }
        }
      } catch (IOException e) {
        // the writer meets the same error on its own write and ends the sink
      }
    }
    return wrote(slices, froms, lengths, first, end, scratch, n, sink);
  }

  private boolean queue(Slice s, long from, long len) {
    if (!fits(len)) {
      return false;
    }
    enqueue(s.slice(from, len), len);
    return true;
  }

  /**
   * Inserted bytes written by the source thread like the stream's chunks ({@link #putOwned}):
   * a sink that keeps up never hands its channel to the writer for them, so the chunks after an
   * insertion are not queued behind a writer waiting to be scheduled.
   */
  @Override
  public boolean putBytesOwned(ByteBuffer b, Sink sink) {
    if (selectable == null || tail != head) {
      return putBytes(b); // slices wait ahead of these bytes: they go first, by the writer
    }
    ByteBuffer rest = b.duplicate();
    try {
      out.write(rest);
    } catch (IOException e) {
      // the writer meets the same error on its own write and ends the sink
    }
    countDirect(sink, rest.position() - b.position());
    return !rest.hasRemaining() || putBytes(rest);
  }

  private void countDirect(Sink sink, long n) {
    if (n > 0) {
      sink.written.setRelease(sink.written.getPlain() + n);
      sink.direct.setRelease(sink.direct.getPlain() + n);
      fanout.counters.direct.add(n);
    }
  }

  /**
   * The writer's private duplicate of the channel's descriptor, for sends the delivering thread
   * batches ({@link UringSends}), or null (none yet, or the fan-out does not batch). Used only by
   * the delivering thread while it owns the channel, between {@link GuardedFd#enter} and {@link
   * GuardedFd#exit}; the writer closes it when it ends.
   */
  GuardedFd sendFd() {
    return sendFd;
  }

  /** Whether the channel is still open (the caller may close it at any time). */
  boolean channelOpen() {
    return channel.isOpen();
  }

  @Override
  public boolean putBytes(ByteBuffer b) {
    int len = b.remaining();
    if (!fits(len)) {
      return false;
    }
    try (BufWriter w = BufWriter.of(allocator)) {
      w.write(MemorySegment.ofBuffer(b));
      enqueue(w.toSlice(), len);
      return true;
    } catch (IOException e) {
      return false; // pool exhausted: the sink cannot take the bytes
    }
  }

  private boolean fits(long len) {
    return tail - (long) HEAD.getAcquire(this) < RING && queued - drained + len <= bound;
  }

  private void enqueue(Slice s, long len) {
    long t = tail;
    ring[(int) t & (RING - 1)] = s;
    queued += len; // single writer: the producer
    // Volatile, not release: the store must be ordered before the read of 'parked' below (the
    // writer does the mirror image), or both could miss each other and the writer sleep on.
    TAIL.setVolatile(this, t + 1);
    if (parked) {
      LockSupport.unpark(writer);
    }
  }

  @Override
  public boolean writeDirect(Sink s) {
    return !hasBacklog(); // queued bytes are the writer's to send
  }

  @Override
  public boolean hasBacklog() {
    return head != (long) TAIL.getVolatile(this);
  }

  @Override
  public long backlog() {
    return Math.max(0, queued - drained);
  }

  @Override
  public void serve(Sink s) throws IOException, InterruptedException {
    writer = Thread.currentThread();
    if (channel instanceof SelectableChannel sel && !sel.isBlocking()) {
      throw new IllegalBlockingModeException(); // the userspace transport writes in blocking mode
    }
    writePrefix(s);
    Counted counted = new Counted(s);
    GuardedFd g = fanout.sends != null && selectable != null ? UringSends.dup(channel) : null;
    sendFd = g;
    try (BufWriter sender = BufWriter.of(allocator)) {
      while (!stopped) {
        long h = head;
        long t = (long) TAIL.getAcquire(this);
        if (h == t) {
          if (finished && h == (long) TAIL.getVolatile(this)) {
            return;
          }
          if (selectable != null) {
            idle(s);
          } else {
            parked = true;
            if (h == (long) TAIL.getVolatile(this) && !finished && !stopped) {
              LockSupport.park(this);
            }
            parked = false;
          }
          continue;
        }
        // everything queued goes out in one gathering write
        for (; h < t; h++) {
          int i = (int) h & (RING - 1);
          Slice sl = ring[i];
          ring[i] = null;
          try {
            sender.write(sl); // by reference: the writer takes its own block references
          } finally {
            sl.close();
          }
        }
        HEAD.setRelease(this, h);
        long len = sender.length();
        blockedInWrite = true;
        try {
          long sent = 0;
          while (sent < len && !stopped) {
            sent += sender.writeTo(counted); // counted write by write, see Counted
          }
        } finally {
          blockedInWrite = false;
        }
      }
    } finally {
      if (g != null) {
        g.close(); // at once, or when the delivering thread's batched send is reaped
      }
    }
  }

  private void writePrefix(Sink s) throws IOException {
    ByteBuffer p = s.prefix;
    if (p == null) {
      return;
    }
    blockedInWrite = true;
    try {
      while (p.hasRemaining() && !stopped) {
        int n = channel.write(p);
        s.written.setRelease(s.written.getPlain() + n);
        fanout.counters.byWriters.add(n);
      }
    } finally {
      blockedInWrite = false;
    }
  }

  /** Writer, queue drained: the source writes to the non-blocking socket until it hands back. */
  private void idle(Sink s) throws IOException {
    selectable.configureBlocking(false);
    s.handover.idle(backlogCheck);
    try {
      selectable.configureBlocking(true); // also after a stop: the caller gets it back as it came
    } catch (IOException e) {
      if (!stopped) {
        throw e;
      }
    }
  }

  @Override
  public void endOfStream() {
    finished = true;
    if (parked) {
      LockSupport.unpark(writer);
    }
  }

  @Override
  public void stop() {
    stopped = true;
    Thread w = writer;
    if (w != null) {
      LockSupport.unpark(w);
      if (blockedInWrite) {
        w.interrupt(); // only this ends a blocking write (it closes the channel)
      }
    }
  }

  @Override
  public void release() {
    long h = head;
    long t = (long) TAIL.getAcquire(this);
    for (; h < t; h++) {
      int i = (int) h & (RING - 1);
      Slice sl = ring[i];
      ring[i] = null;
      if (sl != null) {
        sl.close();
      }
    }
    head = t;
  }

  @Override
  public TransportKind kind() {
    return TransportKind.USERSPACE;
  }

  /**
   * The writer's view of the channel: counts every write as it returns, so bytes the channel took
   * leave the backlog at once and not when a whole gathering write of many chunks is done (a sink
   * whose writer is busy with a long write is not behind by what it already sent: backpressure
   * and the bound see the bytes really waiting). Writer thread only; allocates nothing.
   */
  private final class Counted implements GatheringByteChannel {
    private final Sink sink;

    Counted(Sink sink) {
      this.sink = sink;
    }

    private long count(long n) {
      if (n > 0) {
        drained += n; // the writer owns the channel
        sink.written.setRelease(sink.written.getPlain() + n);
        fanout.counters.byWriters.add(n);
        fanout.hold.drained(sink);
      }
      return n;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      return count(out.write(srcs, offset, length));
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
      return count(out.write(srcs));
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return (int) count(out.write(src));
    }

    @Override
    public boolean isOpen() {
      return out.isOpen();
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }
}
