package io.nocopy.bench.memory;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A burst of {@code burst} acquires, then the releases in reverse order (the shape of JCTools'
 * {@code QueueAsPoolBurstCost}): a reader that grabs several blocks for one large read, then
 * frees them. The score is ns per whole burst; divide by {@code burst} for ns per buffer. A burst
 * of 128 overflows nocopy's per-stripe slots, so it measures the shared queue behind them.
 *
 * <p>Ownership: the pool is created per trial and closed at its end, after checking that every
 * buffer came back; the handle array belongs to the measuring thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {
      BenchFlags.NATIVE_ACCESS,
      BenchFlags.UNSAFE,
      BenchFlags.NETTY_NO_LEAK_DETECTION,
      BenchFlags.HEAP,
      BenchFlags.HEAP_MAX,
      BenchFlags.EXECUTOR,
      BenchFlags.EXECUTOR_CLASS
    })
public class BurstBenchmark {
  /** The implementation, one of {@link PoolKind#label()}. */
  @Param({
    "nocopy-pool",
    "nocopy-allocator",
    "netty-pooled",
    "netty-adaptive",
    "jctools-mpmc",
    "clq",
    "abq",
    "arena-confined"
  })
  public String impl;

  /** Bytes requested per buffer: 256 B (nocopy MICRO), 2 KiB (SMALL), 16 KiB (BIG). */
  @Param({"256", "2048", "16384"})
  public int size;

  /** Buffers held at once. */
  @Param({"16", "128"})
  public int burst;

  /**
   * Buffers in the bounded pools. The FIFO free lists cycle through all of them, so this is the
   * working set a burst walks: try {@code -p capacity=160} to see how much of a burst's cost is
   * cache misses.
   */
  @Param({"1024"})
  public int capacity;

  private BufferPool pool;
  private Object[] held;

  /** Creates and prefills the pool. */
  @Setup(Level.Trial)
  public void setUp() {
    if (capacity < burst) {
      throw new IllegalArgumentException("capacity " + capacity + " < burst " + burst);
    }
    pool = PoolKind.of(impl).create(size, capacity);
    held = new Object[burst];
  }

  /**
   * Checks that every buffer came back, then frees the pool.
   *
   * @throws IllegalStateException if buffers are still in use (void result)
   */
  @TearDown(Level.Trial)
  public void tearDown() {
    pool.closeChecked();
  }

  /** Acquires {@code burst} buffers, then releases them last-in first-out. */
  @Benchmark
  public void acquireBurstThenRelease() {
    BufferPool p = pool;
    Object[] h = held;
    int n = burst;
    for (int i = 0; i < n; i++) {
      h[i] = p.acquire();
    }
    for (int i = n - 1; i >= 0; i--) {
      p.release(h[i]);
      h[i] = null;
    }
  }
}
