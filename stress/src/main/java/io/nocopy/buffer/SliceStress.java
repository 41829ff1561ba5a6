package io.nocopy.buffer;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.nocopy.memory.Block;
import io.nocopy.memory.BlockPool;
import io.nocopy.memory.Tier;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.I_Result;

/** jcstress tests of {@link Slice} handle counting: the lock-free part of the buffer layer. */
public final class SliceStress {
  private SliceStress() {}

  /**
   * Two subscribers close their handles of one slice at once: the block goes back to its pool
   * exactly once, whoever is last.
   */
  @JCStressTest
  @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "block released once and back in the pool")
  @Outcome(expect = FORBIDDEN, desc = "block leaked, released twice, or the pool lost it")
  @State
  public static class ConcurrentClose {
    final BlockPool pool = BlockPool.create(Tier.PICO, 1);
    final Block block = pool.tryAcquire();
    final Slice first = Slice.adopt(block, 0, 32);
    final Slice second = first.retain();

    @Actor
    public void subscriber1() {
      first.close();
    }

    @Actor
    public void subscriber2() {
      second.close();
    }

    @Arbiter
    public void check(II_Result r) {
      r.r1 = block.refCount();
      r.r2 = pool.available();
      pool.close();
    }
  }

  /**
   * One thread takes a new handle from its own while another closes a different handle of the same
   * slice: the block stays held by the new handle, and is released when that one closes.
   */
  @JCStressTest
  @Outcome(id = "1", expect = ACCEPTABLE, desc = "the retained handle kept the block alive")
  @Outcome(expect = FORBIDDEN, desc = "the block was released under a live handle")
  @State
  public static class RetainWhileClosing {
    final BlockPool pool = BlockPool.create(Tier.PICO, 1);
    final Block block = pool.tryAcquire();
    final Slice a = Slice.adopt(block, 0, 32);
    final Slice b = a.retain();
    Slice c;

    @Actor
    public void retainer() {
      c = a.retain();
      a.close();
    }

    @Actor
    public void closer() {
      b.close();
    }

    @Arbiter
    public void check(I_Result r) {
      int alive = block.refCount(); // only c is open: 1
      c.close();
      r.r1 = (alive == 1 && block.refCount() == 0 && pool.available() == 1) ? 1 : 0;
      pool.close();
    }
  }
}
