package io.nocopy.fanout;

import io.nocopy.buffer.BlockConsumer;
import io.nocopy.buffer.BufWriter;
import io.nocopy.internal.linux.GuardedFd;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
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
 * A userspace sink's backlog: a bounded single-producer single-consumer ring of block references
 * (a block, an offset and a length per entry). The writer moves what is queued into its {@link
 * BufWriter} by reference and sends it with as few system calls as the socket allows ({@link
 * NativeSend}: {@code sendmsg} straight from the blocks' addresses; without it, gathering writes of
 * the channel). The bytes are never copied per sink, and a steady stream, backlogged or not,
 * allocates nothing: no handle per queued chunk, no buffer view per block.
 *
 * <p>The producer is the delivering thread (under the fan-out's delivery lock); the consumer is
 * whoever owns the channel ({@link Handover}): the writer thread, or the source thread writing the
 * chunk straight to an idle socket ({@link #putOwned}: through the fan-out's delivery writer,
 * nothing queued when the socket takes it all). Direct writes need a selectable channel (a
 * socket): the writer switches it to non-blocking mode before it goes idle and back to blocking
 * after. Other channels (files) are always written by the writer.
 *
 * <p>Bounded twice: {@code bound} bytes queued and not yet written, and {@link #RING} entries.
 * Ring: a tail written only by the producer and a head written only by the channel's owner
 * (release stores, acquire loads); its entries live in segments of {@value #SEGMENT}, made when
 * the backlog first reaches them, so an idle listener holds one. A writer without work parks after
 * setting {@code parked}; the producer unparks it when it sees {@code parked} after publishing
 * (both volatile, so no wake-up is lost).
 */
final class UserPort implements Port {
  static final int RING = 1024;
  private static final int SEGMENT = 64;
  static final BlockConsumer RELEASE = (block, offset, length) -> block.release();
  private static final VarHandle HEAD;
  private static final VarHandle TAIL;
  private static final VarHandle SEND_TARGET;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      HEAD = l.findVarHandle(UserPort.class, "head", long.class);
      TAIL = l.findVarHandle(UserPort.class, "tail", long.class);
      SEND_TARGET = l.findVarHandle(UserPort.class, "sendTarget", SendTargets.Target.class);
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
  private final Segment[] segments = new Segment[RING / SEGMENT];
  private final Staging staging = new Staging();
  private long head; // owner of the channel
  private long tail; // producer
  private volatile long queued; // bytes put (producer only)
  private volatile long drained; // bytes of the queue written (owner only)
  private volatile boolean parked;
  private volatile boolean finished;
  private volatile boolean stopped;
  private volatile boolean blockedInWrite;
  private volatile Thread writer;
  private volatile SendTargets.Target sendTarget; // null until the first batched send
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

  /** {@value #SEGMENT} ring entries: a block reference and its range (offset << 32 | length). */
  private static final class Segment {
    final Block[] blocks = new Block[SEGMENT];
    final long[] ranges = new long[SEGMENT];
  }

  /** The segment of ring entry {@code t}, made by the producer on first use. */
  private Segment segment(long t) {
    int g = ((int) t & (RING - 1)) / SEGMENT;
    Segment seg = segments[g];
    if (seg == null) {
      seg = new Segment(); // published to the writer by the tail's volatile store
      segments[g] = seg;
    }
    return seg;
  }

  /**
   * The producer's entries after the published tail, made the writer's by {@link #publish}: one
   * queued piece may cover several blocks, and it is queued whole or not at all.
   */
  private final class Staging implements BlockConsumer {
    private int count;
    private long bytes;
    private boolean overflow;

    @Override
    public void accept(Block block, int offset, int length) {
      long t = tail + count;
      if (overflow || t - (long) HEAD.getAcquire(UserPort.this) >= RING) {
        overflow = true;
        block.release();
        return;
      }
      Segment seg = segment(t);
      int i = (int) t & (SEGMENT - 1);
      seg.blocks[i] = block;
      seg.ranges[i] = (long) offset << 32 | length;
      count++;
      bytes += length;
    }

    /** Publishes the staged entries, or releases them all if the ring had no room for them. */
    boolean publish() {
      int n = count;
      boolean ok = !overflow;
      count = 0;
      overflow = false;
      if (!ok) {
        bytes = 0;
        for (int k = 0; k < n; k++) {
          Segment seg = segment(tail + k);
          int i = (int) (tail + k) & (SEGMENT - 1);
          seg.blocks[i].release();
          seg.blocks[i] = null;
        }
        return false;
      }
      long b = bytes;
      bytes = 0;
      if (n > 0) {
        enqueue(n, b);
      }
      return true;
    }
  }

  @Override
  public boolean put(Chunk c, long from, long len) {
    if (!fits(len)) {
      return false;
    }
    try {
      c.retainTo(from, len, staging);
    } catch (IOException e) {
      return false; // the copy out of a kernel pipe failed: this sink cannot follow
    }
    return staging.publish();
  }

  @Override
  public boolean putOwned(Chunk c, long from, long len, Sink sink) {
    if (selectable == null || tail != head) {
      return put(c, from, len); // bytes wait ahead of these: they go first, by the writer
    }
    BufWriter d = fanout.deliveryWriter;
    try {
      c.retainTo(from, len, d); // by reference
    } catch (IOException e) {
      return false;
    }
    return writeAndQueueRest(d, sink);
  }

  /**
   * The delivering thread, owning the channel, after {@code n} bytes of one batched send of
   * pieces {@code [first, end)} of {@code sends} went out: counts them and queues the rest in
   * order.
   *
   * @return false if what is left does not fit the bound (the sink is to be dropped)
   */
  boolean wrote(UringSends sends, int first, int end, long n, Sink sink) {
    countDirect(sink, n);
    BufWriter d = fanout.deliveryWriter;
    return sends.appendPieces(d, first, end, n) && queueRest(d);
  }

  /**
   * The delivering thread, owning the channel: writes pieces {@code [first, end)} of {@code sends}
   * now, in order, as far as the channel takes them without waiting, and queues the rest (backlog
   * first: with a backlog it all goes to the queue).
   *
   * @return false if what is left does not fit the bound (the sink is to be dropped)
   */
  boolean putOwned(UringSends sends, int first, int end, Sink sink) {
    BufWriter d = fanout.deliveryWriter;
    if (!sends.appendPieces(d, first, end, 0)) {
      return false;
    }
    return selectable != null && tail == head ? writeAndQueueRest(d, sink) : queueRest(d);
  }

  /**
   * The delivering thread, owning the idle channel: writes what {@code d} holds as far as the
   * channel takes it without waiting, counts it, and queues the rest.
   */
  private boolean writeAndQueueRest(BufWriter d, Sink sink) {
    long before = d.length();
    try {
      d.writeTo(out);
    } catch (IOException e) {
      // the writer meets the same error on its own write and ends the sink
    }
    countDirect(sink, before - d.length());
    return queueRest(d);
  }

  /** Moves what {@code d} holds to the queue; false (and released) if it does not fit the bound. */
  private boolean queueRest(BufWriter d) {
    long rest = d.length();
    if (rest == 0) {
      return true;
    }
    if (!fits(rest)) {
      d.drainTo(RELEASE);
      return false;
    }
    d.drainTo(staging);
    return staging.publish();
  }

  /**
   * Inserted bytes written by the source thread like the stream's chunks ({@link #putOwned}):
   * a sink that keeps up never hands its channel to the writer for them, so the chunks after an
   * insertion are not queued behind a writer waiting to be scheduled.
   */
  @Override
  public boolean putBytesOwned(ByteBuffer b, Sink sink) {
    if (selectable == null || tail != head) {
      return putBytes(b); // bytes wait ahead of these: they go first, by the writer
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
   * Delivering thread, owning the channel: where its batched sends ({@link UringSends}) go, made
   * by {@code sends} at the first of them (a slot of the ring's file table, or a duplicate of the
   * socket's descriptor). Its guard is used between {@link GuardedFd#enter} and {@link
   * GuardedFd#exit}; it is closed when the writer ends, or at once if the writer ended first.
   *
   * @return the target; {@link SendTargets.Target#NONE} (no guard) when the sink cannot be batched
   */
  SendTargets.Target sendTarget(UringSends sends) {
    SendTargets.Target t = sendTarget;
    if (t != null) {
      return t;
    }
    if (selectable == null) {
      t = SendTargets.Target.NONE;
    } else {
      t = sends.target(channel);
    }
    if (!SEND_TARGET.compareAndSet(this, null, t)) { // the writer ended meanwhile
      t.close();
      return SendTargets.Target.NONE;
    }
    return t;
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
    BufWriter d = fanout.deliveryWriter;
    try {
      d.write(MemorySegment.ofBuffer(b)); // a copy: the caller reuses its buffer
    } catch (IOException e) {
      d.drainTo(RELEASE);
      return false; // pool exhausted: the sink cannot take the bytes
    }
    return queueRest(d);
  }

  private boolean fits(long len) {
    return tail - (long) HEAD.getAcquire(this) < RING && queued - drained + len <= bound;
  }

  /** Publishes {@code n} staged entries of {@code len} bytes to the writer. */
  private void enqueue(int n, long len) {
    queued += len; // single writer: the producer
    // Volatile, not release: the store must be ordered before the read of 'parked' below (the
    // writer does the mirror image), or both could miss each other and the writer sleep on.
    TAIL.setVolatile(this, tail + n);
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
    try {
      serveQueue(s);
    } finally {
      // no batched send starts after this; one in flight keeps the target until it is reaped
      SendTargets.Target t = (SendTargets.Target) SEND_TARGET.getAndSet(this, SendTargets.Target.NONE);
      if (t != null) {
        t.close();
      }
    }
  }

  private void serveQueue(Sink s) throws IOException, InterruptedException {
    writer = Thread.currentThread();
    if (channel instanceof SelectableChannel sel && !sel.isBlocking()) {
      throw new IllegalBlockingModeException(); // the userspace transport writes in blocking mode
    }
    writePrefix(s);
    Counted counted = new Counted(s);
    // native sends of a backlog (sockets only), over a duplicate of the descriptor held only while
    // there is a backlog: a listener that keeps up holds one descriptor, its socket's
    NativeSend sends = selectable != null ? NativeSend.open(channel) : null;
    try (BufWriter sender = BufWriter.of(allocator)) {
      while (!stopped) {
        long h = head;
        long t = (long) TAIL.getAcquire(this);
        if (h == t) {
          if (finished && h == (long) TAIL.getVolatile(this)) {
            return;
          }
          if (sends != null) {
            sends.release();
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
        // everything queued goes out in as few sends as possible
        for (; h < t; h++) {
          Segment seg = segments[((int) h & (RING - 1)) / SEGMENT];
          int i = (int) h & (SEGMENT - 1);
          Block b = seg.blocks[i];
          seg.blocks[i] = null;
          long range = seg.ranges[i];
          sender.adopt(b, (int) (range >>> 32), (int) range); // the reference moves to the sender
        }
        HEAD.setRelease(this, h);
        drain(sender, counted, sends);
      }
    } finally {
      if (sends != null) {
        sends.close();
      }
    }
  }

  /**
   * Writer: sends everything {@code sender} holds, natively while the socket takes bytes at once
   * ({@code sends}, if any), and through the channel otherwise: a write of the first chunk that
   * waits for room when the socket is full, or (without native sends) gathering writes.
   */
  private void drain(BufWriter sender, Counted counted, NativeSend sends) throws IOException {
    while (sender.length() > 0 && !stopped) {
      long n = sends != null ? sends.send(sender) : -1;
      if (n > 0) {
        counted.count(n);
        continue;
      }
      blockedInWrite = true;
      try {
        if (n == 0) {
          sender.writeFirstTo(counted); // waits for room
        } else {
          sender.writeTo(counted); // counted write by write, see Counted
        }
      } finally {
        blockedInWrite = false;
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
      Segment seg = segments[((int) h & (RING - 1)) / SEGMENT];
      int i = (int) h & (SEGMENT - 1);
      Block b = seg.blocks[i];
      seg.blocks[i] = null;
      if (b != null) {
        b.release();
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
