package io.nocopy.fanout;

import java.util.concurrent.locks.LockSupport;

/**
 * Backpressure on the source: the source is not read faster than its fastest sink drains, and a
 * sink is dropped for falling behind only when it falls behind the others, not the source.
 *
 * <p>Before each read the source thread looks at the sinks' backlogs. It waits instead of reading
 * while
 *
 * <ul>
 *   <li><em>every</em> sink has more than an eighth of its bound queued ({@link Sink#holdAbove}):
 *       an unpaced source, a cascade or a recording catching up then goes at the pace of its
 *       fastest sink (its fastest socket: files, written as fast as the page cache takes them,
 *       set the pace only where there is no socket); or
 *   <li>some sink is close to its bound ({@link Sink#nearFull}, so the next chunk could overflow
 *       it) and still has patience: a sink that is only a moment behind the others (its reader was
 *       not scheduled for a few milliseconds) is waited for instead of dropped.
 * </ul>
 *
 * Patience is a budget of waiting per sink ({@link #PATIENCE_NANOS}), spent while the source waits
 * for that sink and earned back at an eighth of the time that passes. A sink that keeps falling
 * behind the others (a listener slower than the stream) spends it within a fraction of a second,
 * and is then dropped when it overflows, as before; so is a sink while one that keeps up exists.
 *
 * <p>A wait ends when a sink drains (its writer wakes the source thread, {@link #drained}), when
 * the sinks change, or after {@link #STALL_NANOS} in a row: then every sink still behind is a
 * laggard ({@link Sink#laggard}), no longer holds the source, and is dropped in the usual way if it
 * overflows. A laggard that drains to its threshold holds the source again.
 *
 * <p>Wake-ups: the source publishes {@code holding} before it re-checks the backlogs, a writer
 * publishes its drained count before it reads {@code holding} (both volatile), so one of them sees
 * the other; the wait is bounded anyway ({@link #RECHECK_NANOS}).
 *
 * <p>Threads: {@link #await} on the source thread only (it alone touches the sinks' patience);
 * {@link #drained} on sinks' writer threads; {@link #wake} from any thread.
 */
final class SourceHold {
  /** How long the source waits for sinks that all stay behind before it leaves them behind. */
  static final long STALL_NANOS = 2_000_000_000L;

  /** How long the source waits at most for a sink that is behind the others (see the class). */
  static final long PATIENCE_NANOS = 250_000_000L;

  /** The longest single wait; a missed wake-up costs at most this. */
  private static final long RECHECK_NANOS = 10_000_000L;

  private final Fanout fanout;
  private volatile boolean holding;
  private volatile Thread source;
  private volatile long heldNanos; // written by the source thread only

  SourceHold(Fanout fanout) {
    this.fanout = fanout;
  }

  /** Total time the source thread spent waiting for its sinks. */
  long heldNanos() {
    return heldNanos;
  }

  /**
   * Source thread, before a read: waits while every sink is behind or a patient sink is nearly
   * full, at most {@link #STALL_NANOS} in a row, or until the fan-out closes.
   */
  void await() {
    long now = System.nanoTime();
    if (!mustWait(fanout.sinksNow(), now)) {
      return;
    }
    source = Thread.currentThread();
    long start = now;
    long deadline = start + STALL_NANOS;
    holding = true;
    try {
      while (!fanout.closed()) {
        Sink[] sinks = fanout.sinksNow();
        now = System.nanoTime();
        if (!mustWait(sinks, now)) {
          return;
        }
        long left = deadline - now;
        if (left <= 0) {
          for (Sink s : sinks) {
            s.laggard = true; // stuck for the whole stall: dropped if it overflows
          }
          return;
        }
        LockSupport.parkNanos(this, Math.min(left, RECHECK_NANOS));
      }
    } finally {
      holding = false;
      heldNanos = heldNanos + (System.nanoTime() - start);
    }
  }

  /**
   * Whether the source must wait now: every sink that counts is behind (there is at least one),
   * or one is nearly full and has patience left (it is charged the time since it was last looked
   * at). Ending sinks and laggards do not count, nor do files while there are sockets: a
   * recording would otherwise set the pace and every listener of an unpaced source fall behind.
   */
  private static boolean mustWait(Sink[] sinks, long now) {
    boolean anySocket = false;
    boolean anyFile = false;
    boolean socketDrained = false;
    boolean fileDrained = false;
    boolean waitFor = false;
    for (Sink s : sinks) {
      if (s.laggard || s.handover.stopReason() != null) {
        continue;
      }
      long backlog = s.port.backlog();
      long since = now - s.patienceAt;
      s.patienceAt = now;
      if (backlog > s.nearFull) {
        s.patience -= s.waitedFor ? since : 0; // the time the source just waited for it
        if (s.patience <= 0) {
          s.laggard = true; // behind the others for too long: dropped when it overflows
          continue;
        }
        s.waitedFor = true;
        waitFor = true;
      } else {
        s.patience = Math.min(PATIENCE_NANOS, s.patience + since / 8);
        s.waitedFor = false;
      }
      if (s.socket) {
        anySocket = true;
        socketDrained |= backlog <= s.holdAbove;
      } else {
        anyFile = true;
        fileDrained |= backlog <= s.holdAbove;
      }
    }
    // a file takes bytes as fast as the page cache: it paces the source only without sockets
    boolean allBehind = anySocket ? !socketDrained : anyFile && !fileDrained;
    return waitFor || allBehind;
  }

  /** Any thread: the sinks changed; a holding source looks again. */
  void wake() {
    if (holding) {
      LockSupport.unpark(source);
    }
  }

  /**
   * Writer thread of {@code s}, after it wrote bytes of its backlog: a sink at or below its
   * threshold is no laggard, and wakes a holding source.
   */
  void drained(Sink s) {
    if (s.port.backlog() <= s.holdAbove) {
      if (s.laggard) {
        s.laggard = false;
      }
      if (holding) {
        LockSupport.unpark(source);
      }
    }
  }
}
