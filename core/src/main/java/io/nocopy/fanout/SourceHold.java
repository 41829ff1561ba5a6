package io.nocopy.fanout;

import java.util.concurrent.locks.LockSupport;

/**
 * Backpressure on the source: the source is not read faster than its fastest sink drains, and a
 * sink is dropped for falling behind only when it drains at a small fraction of the others' pace,
 * or falls behind a source that the others keep up with; alike sinks that are a little apart
 * (their readers get more or less CPU) are all kept, and the source goes at the slowest one's pace.
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
 *       it) and keeps up, as below.
 * </ul>
 *
 * <h2>Which sink keeps up</h2>
 *
 * A sink's <em>pace</em> is the rate at which it drains while it has a backlog (how fast its
 * reader takes bytes): the bytes its writer wrote ({@link Sink#bytesWritten}) between two looks
 * at both of which it had a backlog, over the time between them, summed in books that are halved
 * every {@link #WINDOW_NANOS} (so about the last two windows count), and kept as last measured
 * while the sink has no backlog. How much a sink drained is no measure by itself: while the source
 * waits for one sink, every sink drains alike.
 *
 * <ul>
 *   <li>Where other sinks have a pace (they have had backlogs: the source outran them), a nearly
 *       full sink keeps up while its pace is at least a third of the mean pace of the others
 *       ({@link #KEEPS_UP_DIVISOR}). One under that, once it has had a backlog for {@link
 *       #JUDGE_NANOS} of its books (a reader not scheduled for a moment is not judged by that
 *       moment; a stuck one drains nothing), is a laggard.
 *   <li>Where no other sink has a pace (they have taken every byte as it came: a live source), a
 *       nearly full sink is behind the source itself, and is waited for while it has patience: a
 *       budget of waiting ({@link #PATIENCE_NANOS}) spent while the source waits for it and earned
 *       back at an eighth of the time that passes; a listener slower than the stream spends it
 *       within a fraction of a second, so it cannot slow a live stream down for everyone.
 * </ul>
 *
 * A laggard ({@link Sink#laggard}) no longer holds the source and is dropped in the usual way when
 * it overflows; so is a sink while one that keeps up exists.
 *
 * <p>A wait ends when a sink drains (its writer wakes the source thread, {@link #drained}: at its
 * threshold, or under its near-full mark if the source waits for it, {@link Sink#awaited}), when
 * the sinks change, or after {@link #STALL_NANOS} in a row: then every sink still behind is a
 * laggard, no longer holds the source, and is dropped in the usual way if it overflows (everybody
 * stuck, or a lone stuck sink). A laggard that drains to its threshold holds the source again.
 *
 * <p>Wake-ups: the source publishes {@code holding} before it re-checks the backlogs, a writer
 * publishes its drained count before it reads {@code holding} (both volatile), so one of them sees
 * the other; the wait is bounded anyway ({@link #RECHECK_NANOS}).
 *
 * <p>Threads: {@link #await} on the source thread only (it alone touches the sinks' books); {@link
 * #drained} on sinks' writer threads; {@link #wake} from any thread. A look allocates nothing.
 */
final class SourceHold {
  /** How long the source waits for sinks that all stay behind before it leaves them behind. */
  static final long STALL_NANOS = 2_000_000_000L;

  /** How long the source waits at most for a sink behind a source the others keep up with. */
  static final long PATIENCE_NANOS = 250_000_000L;

  /** A sink's books of its pace are halved each time this passes. */
  static final long WINDOW_NANOS = 1_000_000_000L;

  /** A nearly full sink keeps up while its pace is at least the others' mean over this. */
  static final int KEEPS_UP_DIVISOR = 3;

  /**
   * Time with a backlog (in a sink's halved books) after which its pace may make it a laggard: a
   * reader not scheduled for a moment is not judged by that moment.
   */
  static final long JUDGE_NANOS = 250_000_000L;

  /** Time with a backlog (in a sink's halved books) from which its pace is measured. */
  static final long MEASURED_NANOS = 20_000_000L;

  /** The longest single wait; a missed wake-up costs at most this. */
  private static final long RECHECK_NANOS = 10_000_000L;

  private final Fanout fanout;
  private volatile boolean holding;
  private volatile Thread source;
  private volatile long heldNanos; // written by the source thread only
  // source thread only: the last look, the window's start, and the sum and count of the sinks'
  // paces (those with one) at the last look
  private long lookedAt = System.nanoTime();
  private long windowAt = lookedAt;
  private long paceSum;
  private int paced;

  SourceHold(Fanout fanout) {
    this.fanout = fanout;
  }

  /** Total time the source thread spent waiting for its sinks. */
  long heldNanos() {
    return heldNanos;
  }

  /**
   * Source thread, before a read: waits while every sink is behind or a nearly full sink keeps
   * up, at most {@link #STALL_NANOS} in a row, or until the fan-out closes.
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
            awaited(s, false);
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
   * or one is nearly full and keeps up (see the class). Updates every sink's books first. Ending
   * sinks and laggards do not count, nor do files while there are sockets: a recording would
   * otherwise set the pace and every listener of an unpaced source fall behind.
   */
  private boolean mustWait(Sink[] sinks, long now) {
    long since = now - lookedAt;
    lookedAt = now;
    boolean halve = now - windowAt >= WINDOW_NANOS;
    if (halve) {
      windowAt = now;
    }
    long sum = paceSum; // the last look's: compared with, while this look sums the next ones
    int count = paced;
    long nextSum = 0;
    int nextCount = 0;
    boolean anySocket = false;
    boolean anyFile = false;
    boolean socketDrained = false;
    boolean fileDrained = false;
    boolean waitFor = false;
    for (Sink s : sinks) {
      if (s.handover.stopReason() != null) {
        continue;
      }
      long backlog = s.port.backlog();
      long summed = s.pace; // its part of the last look's sum
      long pace = measure(s, backlog, since, halve);
      if (pace > 0) {
        nextSum += pace;
        nextCount++;
      }
      if (s.laggard) {
        continue;
      }
      long waited = now - s.patienceAt;
      s.patienceAt = now;
      if (backlog > s.nearFull) {
        int others = summed > 0 ? count - 1 : count;
        boolean keepsUp;
        if (others > 0) {
          // the others have a pace: judged by its pace, a fraction of theirs at least
          long mean = (sum - summed) / others;
          keepsUp = s.busyNanos < JUDGE_NANOS || pace * KEEPS_UP_DIVISOR >= mean;
        } else {
          // the others keep up with the source: behind the source itself, waited for with patience
          s.patience -= s.waitedFor ? waited : 0; // the time the source just waited for it
          keepsUp = s.patience > 0;
        }
        if (!keepsUp) {
          s.laggard = true; // dropped when it overflows
          s.waitedFor = false;
          awaited(s, false);
          continue;
        }
        s.waitedFor = true;
        awaited(s, true);
        waitFor = true;
      } else {
        s.patience = Math.min(PATIENCE_NANOS, s.patience + waited / 8);
        s.waitedFor = false;
        awaited(s, false);
      }
      if (s.socket) {
        anySocket = true;
        socketDrained |= backlog <= s.holdAbove;
      } else {
        anyFile = true;
        fileDrained |= backlog <= s.holdAbove;
      }
    }
    paceSum = nextSum;
    paced = nextCount;
    // a file takes bytes as fast as the page cache: it paces the source only without sockets
    boolean allBehind = anySocket ? !socketDrained : anyFile && !fileDrained;
    return waitFor || allBehind;
  }

  /** Publishes whether the source waits for {@code s} (a volatile write only when it changes). */
  private static void awaited(Sink s, boolean waitingFor) {
    if (s.awaited != waitingFor) {
      s.awaited = waitingFor;
    }
  }

  /**
   * Adds the time since the last look to {@code s}'s books if it had a backlog at both looks (it
   * was writing all along: only this thread adds to a backlog, right after a look), with the bytes
   * it wrote meanwhile; halves them at a window's end.
   *
   * @return its pace in bytes per millisecond: as last measured, 0 if never (or it drains nothing)
   */
  private static long measure(Sink s, long backlog, long since, boolean halve) {
    long written = s.written.get();
    boolean busy = backlog > 0;
    if (busy && s.seenBusy) {
      s.busyBytes += written - s.seenWritten;
      s.busyNanos += since;
    }
    s.seenWritten = written;
    s.seenBusy = busy;
    if (halve) {
      s.busyBytes >>= 1;
      s.busyNanos >>= 1;
    }
    if (s.busyNanos >= MEASURED_NANOS) {
      s.pace = s.busyBytes * 1_000_000L / s.busyNanos;
    }
    return s.pace;
  }

  /** Any thread: the sinks changed; a holding source looks again. */
  void wake() {
    if (holding) {
      LockSupport.unpark(source);
    }
  }

  /**
   * Writer thread of {@code s}, after it wrote bytes of its backlog: a sink at or below its
   * threshold is no laggard, and wakes a holding source; so does a nearly full sink the source
   * waits for once it can take a chunk again.
   */
  void drained(Sink s) {
    long backlog = s.port.backlog();
    if (backlog <= s.holdAbove) {
      if (s.laggard) {
        s.laggard = false;
      }
      if (holding) {
        LockSupport.unpark(source);
      }
    } else if (s.awaited && backlog <= s.nearFull && holding) {
      LockSupport.unpark(source);
    }
  }
}
