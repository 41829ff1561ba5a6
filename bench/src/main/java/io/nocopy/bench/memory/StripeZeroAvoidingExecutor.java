package io.nocopy.bench.memory;

import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A diagnostic JMH executor: like {@link NettyThreadExecutor}, but no worker thread gets an id
 * that is a multiple of 8, so that on a machine where {@code BlockPool} has 8 stripes (2 cores) no
 * worker uses stripe 0. Stripe 0's slots share a cache line with the header (length) of the
 * stripes array, which every other thread reads for its bounds checks; see {@link
 * BlockPoolScalingProbe}. Thread ids are handed out when a {@code Thread} is constructed, so the
 * factory simply discards threads with the wrong id before starting one.
 *
 * <p>Ownership: JMH creates and shuts down the executor; its threads are daemons.
 */
public final class StripeZeroAvoidingExecutor extends ThreadPoolExecutor {
  /**
   * The constructor JMH calls for a custom executor.
   *
   * @param maxThreads the benchmark's thread count
   * @param prefix the thread name prefix JMH chooses
   */
  public StripeZeroAvoidingExecutor(int maxThreads, String prefix) {
    super(maxThreads, maxThreads, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(), factory(prefix));
  }

  private static ThreadFactory factory(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return task -> {
      Thread t;
      do {
        t = new FastThreadLocalThread(task, prefix + "-" + n.incrementAndGet());
      } while ((t.threadId() & 7) == 0);
      t.setDaemon(true);
      return t;
    };
  }
}
