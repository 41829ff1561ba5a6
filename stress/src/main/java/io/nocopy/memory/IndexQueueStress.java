package io.nocopy.memory;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/** jcstress tests of {@link IndexQueue}, the shared free list of every pool. */
public final class IndexQueueStress {
  private IndexQueueStress() {}

  /** Two producers race into an empty queue: both values end up queued, in one order or the other. */
  @JCStressTest
  @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "producer 1 won the first ticket")
  @Outcome(id = "2, 1", expect = ACCEPTABLE, desc = "producer 2 won the first ticket")
  @Outcome(expect = FORBIDDEN, desc = "a value was lost, duplicated or the queue reported full")
  @State
  public static class TwoProducers {
    final IndexQueue q = new IndexQueue(2);

    @Actor
    public void p1() {
      q.offer(1);
    }

    @Actor
    public void p2() {
      q.offer(2);
    }

    @Arbiter
    public void check(II_Result r) {
      r.r1 = q.poll();
      r.r2 = q.poll();
    }
  }

  /** Two consumers race for one element: exactly one gets it. */
  @JCStressTest
  @Outcome(id = "7, -1", expect = ACCEPTABLE, desc = "consumer 1 took it")
  @Outcome(id = "-1, 7", expect = ACCEPTABLE, desc = "consumer 2 took it")
  @Outcome(expect = FORBIDDEN, desc = "both or neither got it")
  @State
  public static class TwoConsumers {
    final IndexQueue q = new IndexQueue(4);

    {
      q.offer(7);
    }

    @Actor
    public void c1(II_Result r) {
      r.r1 = q.poll();
    }

    @Actor
    public void c2(II_Result r) {
      r.r2 = q.poll();
    }
  }

  /**
   * A producer and a consumer on an empty queue: the consumer sees the value or empty, never
   * garbage, and the value is never lost (the arbiter finds it if the consumer did not).
   */
  @JCStressTest
  @Outcome(id = "5, -1", expect = ACCEPTABLE, desc = "consumer saw the value")
  @Outcome(id = "-1, 5", expect = ACCEPTABLE_INTERESTING, desc = "consumer ran first or before publication")
  @Outcome(expect = FORBIDDEN, desc = "lost, duplicated or torn")
  @State
  public static class ProducerConsumer {
    final IndexQueue q = new IndexQueue(1);

    @Actor
    public void producer() {
      q.offer(5);
    }

    @Actor
    public void consumer(II_Result r) {
      r.r1 = q.poll();
    }

    @Arbiter
    public void check(II_Result r) {
      r.r2 = q.poll();
    }
  }

  /**
   * The pool's recycle pattern around a wrap: two threads each take an index and put it back, on
   * a one-cell ring that laps on every operation. Whatever the interleaving, exactly one index
   * remains, never two copies of it (ABA safety through sequence numbers).
   */
  @JCStressTest
  @Outcome(id = "3, -1, 3", expect = ACCEPTABLE, desc = "only thread 1 got it")
  @Outcome(id = "-1, 3, 3", expect = ACCEPTABLE, desc = "only thread 2 got it")
  @Outcome(id = "3, 3, 3", expect = ACCEPTABLE_INTERESTING, desc = "one after the other")
  @Outcome(expect = FORBIDDEN, desc = "lost or duplicated")
  @State
  public static class RecycleAcrossLaps {
    final IndexQueue q = new IndexQueue(1);

    {
      q.offer(3);
    }

    @Actor
    public void t1(III_Result r) {
      int v = q.poll();
      r.r1 = v;
      if (v >= 0 && !q.offer(v)) {
        r.r1 = -100; // full: would mean a duplicate
      }
    }

    @Actor
    public void t2(III_Result r) {
      int v = q.poll();
      r.r2 = v;
      if (v >= 0 && !q.offer(v)) {
        r.r2 = -100;
      }
    }

    @Arbiter
    public void check(III_Result r) {
      int v = q.poll();
      r.r3 = q.poll() == IndexQueue.EMPTY ? v : -200;
    }
  }
}
