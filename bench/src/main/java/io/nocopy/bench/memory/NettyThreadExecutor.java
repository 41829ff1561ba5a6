package io.nocopy.bench.memory;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The executor JMH runs benchmark threads on in these forks ({@code -Djmh.executor=CUSTOM
 * -Djmh.executor.class=} this class, see {@link BenchFlags}): Netty {@code
 * FastThreadLocalThread}s, the kind of thread a Netty event loop runs on. Netty's allocators take their fastest path (FastThreadLocal caches,
 * recycler) only on such threads, so this gives the Netty peers their best case; nocopy and the
 * queue pools do not care which thread class runs them.
 *
 * <p>Ownership: JMH creates and shuts down the executor; its threads are daemons.
 */
public final class NettyThreadExecutor extends ThreadPoolExecutor {
  /**
   * The constructor JMH calls for a custom executor.
   *
   * @param maxThreads the benchmark's thread count
   * @param prefix the thread name prefix JMH chooses
   */
  public NettyThreadExecutor(int maxThreads, String prefix) {
    super(
        maxThreads,
        maxThreads,
        1,
        TimeUnit.MINUTES,
        new LinkedBlockingQueue<>(),
        new DefaultThreadFactory(prefix, true));
  }
}
