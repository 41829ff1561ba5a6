package io.nocopy.memory;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/** jcstress tests of {@link BlockPool} and {@link Block} ownership. */
public final class BlockPoolStress {
  private BlockPoolStress() {}

  /** Two threads race for the only block of a pool: exactly one gets it. */
  @JCStressTest
  @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "thread 1 got the block")
  @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "thread 2 got the block")
  @Outcome(expect = FORBIDDEN, desc = "the block was handed out twice or not at all")
  @State
  public static class LastBlock {
    final BlockPool pool = BlockPool.create(Tier.PICO, 1);

    @Actor
    public void a1(II_Result r) {
      r.r1 = pool.tryAcquire() != null ? 1 : 0;
    }

    @Actor
    public void a2(II_Result r) {
      r.r2 = pool.tryAcquire() != null ? 1 : 0;
    }

    @Arbiter
    public void close() {
      pool.close();
    }
  }

  /**
   * Two owners of a block (reference count 2) release it at once: exactly one release is the last,
   * and the block is back in the pool exactly once.
   */
  @JCStressTest
  @Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "owner 1 released last")
  @Outcome(id = "0, 1, 1", expect = ACCEPTABLE, desc = "owner 2 released last")
  @Outcome(expect = FORBIDDEN, desc = "both or neither returned it, or the pool lost/duplicated it")
  @State
  public static class SharedRelease {
    final BlockPool pool = BlockPool.create(Tier.PICO, 2);
    final Block block = pool.tryAcquire().retain();

    @Actor
    public void o1(III_Result r) {
      r.r1 = block.release() ? 1 : 0;
    }

    @Actor
    public void o2(III_Result r) {
      r.r2 = block.release() ? 1 : 0;
    }

    @Arbiter
    public void check(III_Result r) {
      // Both blocks must be acquirable now, and then no third.
      Block a = pool.tryAcquire();
      Block b = pool.tryAcquire();
      Block c = pool.tryAcquire();
      r.r3 = (a != null && b != null && a != b && c == null && pool.available() == 0) ? 1 : 0;
      pool.close();
    }
  }

  /** Release on one thread, acquire on another: the acquirer sees the releaser's write. */
  @JCStressTest
  @Outcome(id = "42, 1", expect = ACCEPTABLE, desc = "acquired after release, write visible")
  @Outcome(id = "-1, 1", expect = ACCEPTABLE, desc = "acquired before release: pool empty")
  @Outcome(expect = FORBIDDEN, desc = "stale memory seen, or block lost")
  @State
  public static class HandOffVisibility {
    final BlockPool pool = BlockPool.create(Tier.PICO, 1);
    final Block held = pool.tryAcquire();

    @Actor
    public void releaser() {
      held.segment().set(java.lang.foreign.ValueLayout.JAVA_INT, 0, 42);
      held.release();
    }

    @Actor
    public void acquirer(II_Result r) {
      Block b = pool.tryAcquire();
      if (b == null) {
        r.r1 = -1;
      } else {
        r.r1 = b.segment().get(java.lang.foreign.ValueLayout.JAVA_INT, 0);
        b.release();
      }
    }

    @Arbiter
    public void check(II_Result r) {
      r.r2 = pool.available() == 1 ? 1 : 0;
      pool.close();
    }
  }
}
