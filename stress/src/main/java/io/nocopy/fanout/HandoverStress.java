package io.nocopy.fanout;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * jcstress tests of {@link Handover}, a sink's owner state machine: the source thread and the
 * sink's writer never both write, no byte put in the backlog is lost or written twice, and an
 * idle writer always comes back for the end or a stop.
 *
 * <p>The backlog is modelled by two counters: {@code put} (bytes the source queued) and {@code
 * drained} (bytes the channel's owner wrote); the owner writes {@code put - drained}.
 */
public final class HandoverStress {
  private HandoverStress() {}

  /** The backlog model: what the source queued and what the owner wrote. */
  static final class Backlog {
    volatile int put;
    volatile int drained;
    final AtomicInteger writers = new AtomicInteger(); // owners writing at once

    boolean pending() {
      return put - drained > 0;
    }

    /** The owner writes everything queued; returns how much. */
    int writeAll() {
      if (writers.incrementAndGet() != 1) {
        throw new IllegalStateException("two owners wrote at once");
      }
      int n = put - drained;
      drained += n;
      writers.decrementAndGet();
      return n;
    }
  }

  /**
   * The race the handover exists for: the writer, having drained the backlog, goes idle while the
   * source queues a chunk and tries to take the channel. Exactly one of them writes the chunk.
   */
  @JCStressTest
  @Outcome(id = "1, 0, 2", expect = ACCEPTABLE,
      desc = "the writer was idle: the source took the channel and wrote the chunk directly")
  @Outcome(id = "0, 1, 2", expect = ACCEPTABLE,
      desc = "the writer still owned the channel: it saw the chunk after going idle and wrote it")
  @Outcome(id = "0, 0, 2", expect = FORBIDDEN, desc = "the chunk was never written")
  @Outcome(id = "1, 1, 2", expect = FORBIDDEN, desc = "the chunk was written twice")
  @Outcome(expect = FORBIDDEN, desc = "the writer did not end owning the channel")
  @State
  public static class QueueWhileGoingIdle {
    final Handover h = new Handover();
    final Backlog b = new Backlog();

    @Actor
    public void source(III_Result r) {
      b.put = 1;
      if (h.tryAcquire()) {
        r.r1 = b.writeAll();
        h.release(!b.pending());
      }
      h.finish();
    }

    @Actor
    public void writer(III_Result r) {
      h.bindWriter(Thread.currentThread());
      h.idle(b::pending); // backlog found empty: hand the channel over
      r.r2 = b.writeAll(); // owning again: write what waits
    }

    @Arbiter
    public void owner(III_Result r) {
      r.r3 = h.owner();
    }
  }

  /**
   * The source writes directly but the channel takes only part: it hands the channel to the
   * writer, which writes the rest. Every byte is written once, the writer ends as owner.
   */
  @JCStressTest
  @Outcome(id = "2, 2", expect = ACCEPTABLE,
      desc = "the source wrote part, the writer the rest; or the writer wrote both chunks")
  @Outcome(expect = FORBIDDEN, desc = "bytes lost or written twice, or the writer not the owner")
  @State
  public static class PartialDirectWrite {
    final Handover h = new Handover();
    final Backlog b = new Backlog();

    @Actor
    public void source() {
      b.put = 2;
      if (h.tryAcquire()) {
        b.drained = 1; // the channel took one byte of two
        h.release(!b.pending());
      }
      h.finish();
    }

    @Actor
    public void writer() {
      h.bindWriter(Thread.currentThread());
      h.idle(b::pending);
      while (b.pending() || !h.finished()) {
        if (b.pending()) {
          b.writeAll();
        } else {
          h.idle(b::pending);
        }
      }
    }

    @Arbiter
    public void check(II_Result r) {
      r.r1 = b.drained;
      r.r2 = h.owner();
    }
  }

  /**
   * A stop (a removal, a drop) while the source owns the channel of an idle writer: the writer
   * comes back when the source releases it, and the first reason is kept.
   */
  @JCStressTest
  @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "the writer returned owning the channel")
  @Outcome(expect = FORBIDDEN, desc = "the writer returned without owning the channel")
  @State
  public static class StopWhileTheSourceOwns {
    final Handover h = new Handover();
    final Backlog b = new Backlog();

    @Actor
    public void source() {
      b.put = 1;
      if (h.tryAcquire()) {
        h.stop(Reason.REMOVED); // a removal arrives while this thread writes
        b.writeAll();
        h.release(true);
      } else {
        h.stop(Reason.REMOVED);
      }
      h.stop(Reason.TOO_SLOW); // a later reason does not replace the first
    }

    @Actor
    public void writer(II_Result r) {
      h.bindWriter(Thread.currentThread());
      h.idle(b::pending);
      r.r1 = h.stopReason() == Reason.REMOVED || b.pending() ? 1 : 0;
      r.r2 = h.owner();
      if (h.stopReason() == null) {
        // came back for the backlog before the stop: go idle once more until the stop
        b.writeAll();
        h.idle(b::pending);
        r.r1 = h.stopReason() == Reason.REMOVED ? 1 : 0;
        r.r2 = h.owner();
      }
    }
  }

  /** Two sources may never both own: only one CAS from IDLE wins. */
  @JCStressTest
  @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the first won")
  @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "the second won")
  @Outcome(id = "0, 0", expect = FORBIDDEN, desc = "nobody took the idle channel")
  @Outcome(id = "1, 1", expect = FORBIDDEN, desc = "two owners")
  @State
  public static class OneAcquirer {
    final Handover h = new Handover();

    {
      h.idle(() -> true); // WRITER -> IDLE -> WRITER at once (backlog) ...
      h.release(true); // ... and idle again: owner IDLE, as after a drained direct write
    }

    @Actor
    public void a(II_Result r) {
      r.r1 = h.tryAcquire() ? 1 : 0;
    }

    @Actor
    public void b(II_Result r) {
      r.r2 = h.tryAcquire() ? 1 : 0;
    }
  }
}
