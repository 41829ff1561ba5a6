package io.nocopy.fanout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One receiver of a fan-out's stream: its channel, its backlog (a kernel pipe or a queue of
 * slices, see {@link #transport()}), its writer thread and counters. Made by {@link
 * SinkBuilder#add()}; the handle stays valid after the sink ended, for its counters and reason.
 *
 * <h2>Who writes</h2>
 *
 * A sink that keeps up is written by the fan-out's source thread right after each chunk, without
 * waiting (one tee and one splice, or one gathering write of the shared slice); when the channel
 * cannot take a chunk whole, the sink's own writer thread takes over, waits for the channel,
 * drains the backlog and hands the channel back once the backlog is empty. The states and
 * transitions are described once, in {@code Handover}. Channels that cannot be polled (files) are
 * always written by the writer thread, so a slow disk never stalls the source.
 *
 * <h2>Ownership</h2>
 *
 * The channel stays the caller's: the fan-out never closes it (except that a userspace sink whose
 * writer is blocked in the channel's {@code write} when it is dropped is interrupted, which closes
 * the channel, the JDK's rule for interruptible channels). After {@link FanoutListener#sinkClosed}
 * the channel is the caller's alone again. A sink can leave its fan-out at a stream position
 * without its channel being touched ({@link #detach}), and the channel can then be a sink of
 * another fan-out: a listener moved to another stream without being disconnected.
 *
 * <p>Thread safety: every method may be called from any thread.
 */
public final class Sink {
  final Fanout fanout;
  final WritableByteChannel channel;
  final ByteBuffer prefix;
  final Port port;
  final Handover handover = new Handover();
  // null for a sink without hooks: its delivery costs nothing extra; set under the delivery lock
  Hooks hooks;
  final AtomicLong written = new AtomicLong(); // by the channel's owner only; read by anyone
  final AtomicLong direct = new AtomicLong(); // part of written: by the source thread
  final long startPosition;
  /** Backlog above which this sink is behind and, with every other sink behind, holds the source. */
  final long holdAbove;
  /** Whether the channel is a socket or pipe (selectable), not a file: it may set the pace. */
  final boolean socket;
  /**
   * Backlog above which the next chunk might overflow this sink: the source waits while the sink
   * keeps up ({@link SourceHold}).
   */
  final long nearFull;
  /**
   * Behind for a whole stall, draining at under half the pace of the others, or out of patience
   * ({@link SourceHold}): holds the source no more.
   */
  volatile boolean laggard;
  /**
   * The source waits for this nearly full sink ({@link SourceHold}): its writer wakes the source
   * as soon as it is under {@link #nearFull}. Written by the source thread only, when it changes.
   */
  volatile boolean awaited;
  // SourceHold's books on this sink, source thread only: its patience; its written count and
  // whether it had a backlog at the last look; bytes drained and time spent while it had one
  // (halved every window), and its pace from them (bytes per ms, as last measured)
  long patience = SourceHold.PATIENCE_NANOS;
  long patienceAt = System.nanoTime();
  boolean waitedFor;
  long seenWritten;
  boolean seenBusy;
  long busyBytes;
  long busyNanos;
  long pace;
  private final long prefixLength;
  private volatile Reason reason;
  private volatile boolean detached; // reached its detach position (set under the delivery lock)
  private volatile long endedAt = -1; // where its stream stopped, once it ended

  Sink(Fanout fanout, SinkBuilder b, Port port, long startPosition, Hooks hooks) {
    this.fanout = fanout;
    this.channel = b.channel;
    this.prefix = b.prefix == null ? null : b.prefix.duplicate();
    this.prefixLength = prefix == null ? 0 : prefix.remaining();
    this.port = port;
    this.startPosition = startPosition;
    this.hooks = hooks;
    this.holdAbove = b.bound / 8;
    this.socket = b.channel instanceof java.nio.channels.SelectableChannel;
    // a chunk is at most a quarter of the fan-out's bound (and at least a page)
    this.nearFull = Math.max(holdAbove, b.bound - Math.max(4096, fanout.sinkBound / 4));
  }

  /**
   * The sink's channel, owned by the caller.
   *
   * @return the channel given to {@link Fanout#sink}
   */
  public WritableByteChannel channel() {
    return channel;
  }

  /**
   * How bytes reach this sink: the fan-out's transport, or {@link TransportKind#USERSPACE} where
   * this sink differs (asked for, or its pipe could not be sized to its bound).
   *
   * @return the transport
   */
  public TransportKind transport() {
    return port.kind();
  }

  /**
   * The stream position where this sink's stream started (see {@link StartPosition}).
   *
   * @return a position of the source's stream
   */
  public long startPosition() {
    return startPosition;
  }

  /**
   * Bytes written to the channel so far: prefix, header, stream and inserted bytes.
   *
   * @return the count
   */
  public long bytesWritten() {
    return written.get();
  }

  /**
   * The length of the prefix ({@link SinkBuilder#prefix}): the part of {@link #bytesWritten()}
   * that is not the stream.
   *
   * @return bytes, 0 without a prefix
   */
  public long prefixLength() {
    return prefixLength;
  }

  /**
   * The part of {@link #bytesWritten()} the source thread wrote directly.
   *
   * @return the count
   */
  public long bytesDirect() {
    return direct.get();
  }

  /**
   * Bytes waiting for this sink now (in its pipe or queue), an estimate while it runs.
   *
   * @return the count
   */
  public long backlog() {
    return port.backlog();
  }

  /**
   * The stream position after the last stream byte this sink has been given: while it runs, the
   * source's position (or its start, if later); once it ended, where its stream stopped (its detach
   * position, or the source's end).
   *
   * @return a position of the source's stream
   */
  public long endPosition() {
    long e = endedAt;
    return e >= 0 ? e : Math.max(startPosition, fanout.bytesIn());
  }

  /**
   * Why the sink ended, or null while it runs.
   *
   * @return the reason or null
   */
  public Reason reason() {
    return reason;
  }

  /**
   * Whether the sink still receives.
   *
   * @return true until it ended
   */
  public boolean isOpen() {
    return reason == null;
  }

  /**
   * Stops the sink: no more bytes are written to it, queued ones are discarded, and the listener
   * gets {@link Reason#REMOVED}. Idempotent; no effect after the sink ended.
   */
  public void remove() {
    drop(Reason.REMOVED);
  }

  /**
   * Makes the sink leave the fan-out at stream position {@code position} without closing its
   * channel: it takes the stream's bytes before that position and none after, its writer writes
   * them all, then it ends with {@link Reason#DETACHED} and its channel is the caller's again (to
   * join another fan-out). A position the sink has already been given bytes past is refused, so a
   * caller who wants the sink to stop on a boundary of the stream's format (a frame, a page) gets
   * that boundary or nothing; {@link #endPosition()} is never refused. If the source ends first,
   * the sink ends with {@link Reason#FINISHED} as it would have; a later {@link #remove()} or drop
   * still ends it at once.
   *
   * <p>Takes the fan-out's delivery lock (waits for the chunk being delivered). May be called from
   * the fan-out's source tap, which runs before the chunk it scans is delivered: a position the tap
   * found in that chunk is never refused.
   *
   * @param position a stream position
   * @return true if the sink will end there (or at an earlier position asked before), false if it
   *     was already given bytes past {@code position}, or has ended or is ending
   */
  public boolean detach(long position) {
    fanout.delivery.lock();
    try {
      if (reason != null || handover.stopReason() != null || handover.finished()) {
        return false;
      }
      // under the delivery lock every sink has been given exactly the chunks before bytesIn
      long at = Math.max(startPosition, fanout.bytesIn());
      if (position < at) {
        return false;
      }
      if (hooks == null) {
        hooks = Hooks.plain(startPosition);
      }
      if (position >= hooks.end()) {
        return true;
      }
      hooks.endAt(position);
      if (at == position) {
        endHere();
      }
      return true;
    } finally {
      fanout.delivery.unlock();
    }
  }

  /** Delivery lock held: the sink got its last byte; its writer drains, then it ends DETACHED. */
  void endHere() {
    detached = true;
    port.endOfStream();
    handover.finish();
  }

  /** Ends the sink with {@code why} unless it already ends. */
  void drop(Reason why) {
    if (reason == null && handover.stop(why)) {
      port.stop();
    }
  }

  /**
   * Delivery thread (the source thread, or the adder under the delivery lock): puts {@code [from,
   * from + len)} of the chunk into the backlog, and writes it on at once if the sink is idle.
   * Drops the sink if it does not fit.
   */
  void offer(Chunk c, long from, long len) {
    if (len <= 0 || handover.stopReason() != null) {
      return;
    }
    if (handover.tryAcquire()) {
      offerOwned(c, from, len);
    } else {
      boolean fits = port.put(c, from, len);
      queued(fits);
      if (!fits) {
        drop(Reason.TOO_SLOW);
      }
    }
  }

  /**
   * Delivery thread, owning the channel ({@link Handover#tryAcquire} succeeded): writes the range
   * now as far as the channel takes it, queues the rest, and gives the channel back.
   */
  void offerOwned(Chunk c, long from, long len) {
    boolean fits = port.putOwned(c, from, len, this);
    released(fits);
  }

  /**
   * Delivery thread, owning the channel after a direct write: gives it back (to the writer if
   * bytes wait), and drops the sink if its bytes did not fit.
   */
  void released(boolean fits) {
    handover.release(!fits || !port.hasBacklog());
    if (!fits) {
      drop(Reason.TOO_SLOW);
    }
  }

  /**
   * Like {@link #offer} for bytes the hooks insert: written at once by this thread if the sink is
   * idle, else a copy is queued.
   */
  void offerBytes(ByteBuffer bytes) {
    if (!bytes.hasRemaining() || handover.stopReason() != null) {
      return;
    }
    if (handover.tryAcquire()) {
      released(port.putBytesOwned(bytes, this));
    } else {
      boolean fits = port.putBytes(bytes);
      queued(fits);
      if (!fits) {
        drop(Reason.TOO_SLOW);
      }
    }
  }

  /**
   * After bytes were queued because the writer owned the channel: the writer may have found its
   * backlog empty and gone idle between the failed acquisition and the queueing, so the channel is
   * tried once more (the queueing before the acquisition is the order {@code Handover} needs);
   * otherwise the bytes would wait for the next offer.
   */
  private void queued(boolean fits) {
    if (fits && handover.tryAcquire()) {
      handover.release(port.writeDirect(this));
    }
  }

  /** Source thread: a chunk of the live stream. */
  void deliver(Chunk c) {
    UringSends batch = fanout.sends;
    if (batch != null && batch.offer(this, c)) {
      return; // batched (with its insertions, if it has hooks), or queued for its writer
    }
    if (hooks == null) {
      offer(c, 0, c.length);
    } else {
      hooks.deliver(this, c);
    }
  }

  /**
   * Delivery lock held: a chunk of the burst, of which the sink takes the part from {@code start}
   * on (its hooks, if it has any, know the start).
   */
  void deliverFrom(Chunk c, long start) {
    if (hooks == null) {
      long from = Math.max(0, start - c.position);
      offer(c, from, c.length - from);
    } else {
      hooks.deliver(this, c);
    }
  }

  /** Source thread, after the last chunk. */
  void endOfStream() {
    port.endOfStream();
    handover.finish();
  }

  /** Writer thread. */
  void run() {
    handover.bindWriter(Thread.currentThread());
    Reason why = Reason.FINISHED;
    IOException error = null;
    try {
      port.serve(this);
    } catch (IOException e) {
      why = Reason.FAILED;
      error = e;
    } catch (InterruptedException e) {
      why = Reason.CLOSED;
    } catch (RuntimeException e) {
      why = Reason.FAILED;
      error = new IOException(e);
    } finally {
      Reason stop = handover.stopReason();
      if (stop != null) {
        why = stop;
        error = null;
      } else if (why == Reason.FINISHED && detached) {
        why = Reason.DETACHED;
      } else if (why != Reason.FINISHED) {
        handover.stop(why); // the source skips this sink from now on
      }
      endedAt = why == Reason.DETACHED ? hooks.end() : Math.max(startPosition, fanout.bytesIn());
      reason = why;
      fanout.sinkEnded(this, why, error);
    }
  }
}
