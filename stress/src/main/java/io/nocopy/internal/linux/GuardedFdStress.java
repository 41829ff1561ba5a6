package io.nocopy.internal.linux;

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
 * jcstress tests of {@link GuardedFd}: a descriptor is closed exactly once, never while a user is
 * inside a call on it, and never used after its close was requested. The close is counted
 * instead of calling close(2).
 */
public final class GuardedFdStress {
  private GuardedFdStress() {}

  /** One user against one close. */
  @JCStressTest
  @Outcome(id = "1, 0, 1", expect = ACCEPTABLE,
      desc = "the user entered first; the close happened after its exit")
  @Outcome(id = "0, 0, 1", expect = ACCEPTABLE, desc = "the close came first: the user stayed out")
  @Outcome(id = "1, 1, 1", expect = FORBIDDEN, desc = "closed while the user was inside")
  @Outcome(expect = FORBIDDEN, desc = "closed more than once, or never")
  @State
  public static class UseAgainstClose {
    final AtomicInteger closes = new AtomicInteger();
    final GuardedFd g = new GuardedFd(42, fd -> closes.incrementAndGet());

    @Actor
    public void user(III_Result r) {
      if (g.enter()) {
        r.r1 = 1;
        r.r2 = closes.get(); // the descriptor must still be open here
        g.exit();
      }
    }

    @Actor
    public void closer() {
      g.close();
    }

    @Arbiter
    public void count(III_Result r) {
      r.r3 = closes.get();
    }
  }

  /** Two threads use and close: still exactly one close(2), never under a user. */
  @JCStressTest
  @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "closed once, never under a user")
  @Outcome(expect = FORBIDDEN, desc = "closed under a user, twice, or never")
  @State
  public static class UsersThatClose {
    final AtomicInteger closes = new AtomicInteger();
    final AtomicInteger closedUnderUser = new AtomicInteger();
    final GuardedFd g = new GuardedFd(7, fd -> closes.incrementAndGet());

    private void use() {
      if (g.enter()) {
        if (closes.get() != 0) {
          closedUnderUser.incrementAndGet();
        }
        g.exit();
      }
    }

    @Actor
    public void first() {
      use();
      g.close();
    }

    @Actor
    public void second() {
      use();
      g.close();
      use(); // after its own close: must stay out
    }

    @Arbiter
    public void count(II_Result r) {
      r.r1 = closedUnderUser.get();
      r.r2 = closes.get();
    }
  }
}
