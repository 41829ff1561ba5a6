package io.nocopy.fanout;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * The one state machine of a sink: who writes to its channel, the source thread or the sink's own
 * writer thread, and how the sink ends. Exactly one thread writes to a channel at a time, so bytes
 * stay in order; a sink that keeps up costs no wake-up of its writer.
 *
 * <h2>Owner states and transitions</h2>
 *
 * <pre>
 *   WRITER --idle()--------------------------> IDLE      writer: backlog empty, channel pollable
 *   IDLE   --tryAcquire() (source, CAS)------> SOURCE    source: bytes were just queued
 *   SOURCE --release(true)-------------------> IDLE      source: wrote the whole backlog
 *   SOURCE --release(false)------------------> WRITER    source: channel full / failed; wakes writer
 *   IDLE   --idle() loop (writer, CAS)-------> WRITER    writer: backlog or stop seen while idle
 * </pre>
 *
 * The writer starts as owner (it writes the prefix first). Only the owner writes to the channel
 * and takes bytes out of the backlog; the source thread always puts bytes into the backlog before
 * {@link #tryAcquire()}, so the owner that drains finds them. The race this order closes: bytes
 * queued while the writer still owned the channel, just before it went idle, are seen either by
 * the writer's re-check after publishing IDLE (it takes the channel back) or by the source's next
 * acquisition (it writes them first, being the backlog's head). Both are volatile (Dekker), so one
 * of them always sees the other.
 *
 * <h2>Ending</h2>
 *
 * {@link #stop(Reason)} records the first reason (drop, removal, close) and wakes the writer;
 * {@link #finish()} says the source ended. Both make an idle writer take the channel back and
 * return from {@link #idle}, so it can drain (finish) or end (stop). A source that releases the
 * channel after a stop was requested wakes the writer, which waits for that release.
 *
 * <p>Thread safety: {@link #tryAcquire}/{@link #release} on the source thread (or the thread adding
 * a sink, while it holds the fan-out's delivery lock); {@link #idle} on the writer; the rest from
 * any thread.
 */
final class Handover {
  static final int IDLE = 0;
  static final int SOURCE = 1;
  static final int WRITER = 2;

  private static final VarHandle OWNER;
  private static final VarHandle STOP;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      OWNER = l.findVarHandle(Handover.class, "owner", int.class);
      STOP = l.findVarHandle(Handover.class, "stopReason", Reason.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private volatile int owner = WRITER;
  private volatile Reason stopReason;
  private volatile boolean finished;
  private volatile Thread writer;

  /** Writer thread, first thing: registers itself for wake-ups. */
  void bindWriter(Thread t) {
    writer = t;
  }

  /** The owner now (tests and assertions). */
  int owner() {
    return owner;
  }

  /**
   * Source thread: takes the channel if the writer left it idle. On true the caller writes what it
   * can without waiting, then calls {@link #release}.
   */
  boolean tryAcquire() {
    return owner == IDLE && OWNER.compareAndSet(this, IDLE, SOURCE);
  }

  /**
   * Source thread, owning the channel: gives it back.
   *
   * @param drained true if the backlog is empty (the sink stays idle), false to hand the channel
   *     to the writer (bytes wait, the channel is full or failed)
   */
  void release(boolean drained) {
    if (drained) {
      owner = IDLE;
      if (stopReason != null || finished) {
        LockSupport.unpark(writer); // it may have seen the stop while this thread owned the channel
      }
    } else {
      owner = WRITER;
      LockSupport.unpark(writer);
    }
  }

  /**
   * Writer thread, backlog found empty: gives the channel to the source thread and parks until it
   * is handed back, bytes or the end are seen while idle, or a stop is requested. Returns owning
   * the channel again.
   *
   * @param backlog tells whether bytes wait in the backlog (read by the writer while idle)
   */
  void idle(java.util.function.BooleanSupplier backlog) {
    owner = IDLE;
    while (true) {
      // bytes (or the end) queued between the empty check and IDLE becoming visible would
      // otherwise wait for the next chunk: take the channel back for them
      boolean wanted = stopReason != null || finished || backlog.getAsBoolean();
      if (wanted && OWNER.compareAndSet(this, IDLE, WRITER)) {
        return;
      }
      if (owner == WRITER) {
        return;
      }
      LockSupport.park(this); // unparked by release, finish or stop
    }
  }

  /** The source ended: the writer drains the backlog and finishes. Idempotent. */
  void finish() {
    finished = true;
    LockSupport.unpark(writer);
  }

  /** Whether {@link #finish()} was called. */
  boolean finished() {
    return finished;
  }

  /**
   * Requests the end with {@code why} (the first reason wins) and wakes the writer.
   *
   * @return true if this call set the reason
   */
  boolean stop(Reason why) {
    boolean first = STOP.compareAndSet(this, (Reason) null, why);
    LockSupport.unpark(writer);
    return first;
  }

  /** The stop reason, or null. */
  Reason stopReason() {
    return stopReason;
  }
}
