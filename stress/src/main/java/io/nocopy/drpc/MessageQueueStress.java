package io.nocopy.drpc;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.nocopy.memory.Block;
import io.nocopy.memory.BlockPool;
import io.nocopy.memory.Tier;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * jcstress tests of {@link MessageQueue}'s receive guard: the flag that lets one {@code
 * receive(MessageHandler)} at a time use the queue's one taken-message list and {@link
 * ReceivedMessage}. It is set under the queue's lock when a message is taken and cleared with a
 * release store after the handler, outside the lock.
 */
public final class MessageQueueStress {
  private MessageQueueStress() {}

  /**
   * Two threads each lend a message to a handler from the same queue, which holds messages 0 and
   * 1. The handler notes the message's first byte (its number) and whether another handler was
   * running at the same time. Result: the message each thread handled (-1: its receive was
   * refused with {@link IllegalStateException}), the messages still queued, and the problems seen
   * (1: two handlers overlapped, 2: a handler saw a wrong or released message, 4: a block was
   * not back in its pool after the queue was aborted).
   */
  @JCStressTest
  @Outcome(id = "0, 1, 0, 0", expect = ACCEPTABLE,
      desc = "one after the other: the first thread handled message 0, then the second message 1")
  @Outcome(id = "1, 0, 0, 0", expect = ACCEPTABLE,
      desc = "one after the other: the second thread first")
  @Outcome(id = "0, -1, 1, 0", expect = ACCEPTABLE,
      desc = "the second thread's receive came while the first was in its handler: refused, "
          + "message 1 still queued")
  @Outcome(id = "-1, 0, 1, 0", expect = ACCEPTABLE,
      desc = "the first thread's receive came while the second was in its handler: refused")
  @Outcome(expect = FORBIDDEN,
      desc = "handlers overlapped, a message was lost, handled twice or seen released, or a "
          + "block leaked")
  @State
  public static class TwoReceivers {
    final BlockPool pool = BlockPool.create(Tier.PICO, 2);
    final MessageQueue queue = new MessageQueue(2, OverflowPolicy.BLOCK);
    final AtomicInteger inHandler = new AtomicInteger();
    volatile int problems;

    public TwoReceivers() {
      for (int id = 0; id < 2; id++) {
        Block b = pool.tryAcquire();
        b.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) id);
        queue.accept(b, 0, 1);
        try {
          queue.publish();
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
      }
    }

    /** The number of the message this thread handled, or -1 if its receive was refused. */
    int receiveOne() {
      int[] got = {-2};
      try {
        boolean handled = queue.receive(m -> {
          if (inHandler.incrementAndGet() != 1) {
            problems |= 1;
          }
          if (m.length() != 1) {
            problems |= 2;
          }
          got[0] = m.chunk(0).get(ValueLayout.JAVA_BYTE, 0);
          inHandler.decrementAndGet();
        });
        return handled ? got[0] : -3;
      } catch (IllegalStateException refused) {
        return -1;
      } catch (IOException | InterruptedException | RuntimeException e) {
        problems |= 2;
        return -4;
      }
    }

    @Actor
    public void receiver1(IIII_Result r) {
      r.r1 = receiveOne();
    }

    @Actor
    public void receiver2(IIII_Result r) {
      r.r2 = receiveOne();
    }

    @Arbiter
    public void check(IIII_Result r) {
      r.r3 = queue.size();
      queue.abort(new IOException("end of the test"));
      int p = problems;
      if (pool.available() != 2) {
        p |= 4;
      }
      r.r4 = p;
      pool.close();
    }
  }
}
