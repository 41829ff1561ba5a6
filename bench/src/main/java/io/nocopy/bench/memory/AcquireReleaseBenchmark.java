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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One acquire immediately followed by its release, on one thread and on two threads sharing one
 * pool. Throughput mode, so that the two-thread score (JMH sums the threads) divided by the
 * one-thread score is the scaling factor; ns/op on one thread is {@code 1000 / score}.
 *
 * <p>Every pool is prefilled with {@link #CAPACITY} buffers of the requested size (nocopy: blocks
 * of the tier that holds it). Run with {@code -prof gc}: {@code gc.alloc.rate.norm} is the B/op
 * figure, which must be 0 for nocopy.
 *
 * <p>Ownership: the pool is created per trial and closed at its end, after checking that every
 * buffer came back.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
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
public class AcquireReleaseBenchmark {
  /** Buffers in every bounded pool: far more than two threads ever hold at once. */
  public static final int CAPACITY = 1024;

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

  private BufferPool pool;

  /** Creates and prefills the pool. */
  @Setup(Level.Trial)
  public void setUp() {
    pool = PoolKind.of(impl).create(size, CAPACITY);
  }

  /**
   * Checks that every buffer came back, then frees the pool.
   *
   * @throws IllegalStateException if buffers are still in use (the benchmark leaked: void result)
   */
  @TearDown(Level.Trial)
  public void tearDown() {
    pool.closeChecked();
  }

  /**
   * One thread: acquire, then release.
   *
   * @param bh keeps the buffer observable
   */
  @Benchmark
  @Threads(1)
  public void oneThread(Blackhole bh) {
    cycle(bh);
  }

  /**
   * Two threads on the same pool: acquire, then release, each.
   *
   * @param bh keeps the buffer observable
   */
  @Benchmark
  @Threads(2)
  public void twoThreads(Blackhole bh) {
    cycle(bh);
  }

  private void cycle(Blackhole bh) {
    BufferPool p = pool;
    Object b = p.acquire();
    bh.consume(b);
    p.release(b);
  }
}
