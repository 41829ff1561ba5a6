package io.nocopy.bench.memory;

import io.nocopy.memory.Block;
import io.nocopy.memory.BlockPool;
import io.nocopy.memory.Tier;
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
import org.openjdk.jmh.infra.ThreadParams;

/**
 * A diagnostic for the two-thread scaling of {@link BlockPool}: do two threads slow each other
 * down because the blocks they cycle are neighbours in memory?
 *
 * <p>In {@link AcquireReleaseBenchmark} each thread ends up cycling one block through its own
 * stripe, and after {@code fill()} the first two threads take blocks #0 and #1 from the shared
 * queue: two {@code Block} objects allocated one after the other, whose reference counts are then
 * written by CAS from two cores, likely on one cache line. With {@code spread=true} each thread
 * first arranges to cycle block #{@code 64 * threadIndex} instead (it takes that many blocks, puts
 * the last one into its stripe first, then the rest), so the two hot blocks are objects apart by
 * kilobytes. If two-thread throughput rises with {@code spread=true}, false sharing between
 * neighbouring blocks is (part of) the scaling loss.
 *
 * <p>Ownership: the pool is created per trial and closed at its end; each thread owns what it
 * holds between its own acquire and release.
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
public class BlockPoolScalingProbe {
  private static final int SPREAD = 64;

  /** Whether each thread moves its hot block {@value #SPREAD} blocks away from the other's. */
  @Param({"false", "true"})
  public boolean spread;

  private BlockPool pool;

  /** Creates and fills a 2 KiB pool of {@link AcquireReleaseBenchmark#CAPACITY} blocks. */
  @Setup(Level.Trial)
  public void setUp() {
    pool = BlockPool.create(Tier.SMALL, AcquireReleaseBenchmark.CAPACITY).fill();
  }

  /**
   * Frees the pool.
   *
   * @throws IllegalStateException if a block was not released
   */
  @TearDown(Level.Trial)
  public void tearDown() {
    int inUse = pool.capacity() - pool.available();
    pool.close();
    if (inUse != 0) {
      throw new IllegalStateException(inUse + " blocks not released");
    }
  }

  /** Per-thread preparation: with {@code spread}, seeds the thread's stripe with a distant block. */
  @State(Scope.Thread)
  public static class Placement {
    /**
     * Runs on the measuring thread before its first invocation.
     *
     * @param probe the benchmark (its pool)
     * @param threads which thread this is
     */
    @Setup(Level.Trial)
    public void place(BlockPoolScalingProbe probe, ThreadParams threads) {
      if (!probe.spread) {
        return;
      }
      int n = SPREAD * threads.getThreadIndex() + 1;
      Block[] held = new Block[n];
      for (int i = 0; i < n; i++) {
        held[i] = probe.pool.tryAcquire();
      }
      held[n - 1].release(); // first into the stripe: the block this thread will cycle
      for (int i = 0; i < n - 1; i++) {
        held[i].release();
      }
    }
  }

  /**
   * One acquire and release on one thread (the reference).
   *
   * @param placement this thread's preparation
   * @return the block's identity hash, so the acquire is observable
   */
  @Benchmark
  @Threads(1)
  public int oneThread(Placement placement) {
    return cycle();
  }

  /**
   * One acquire and release on each of two threads.
   *
   * @param placement this thread's preparation
   * @return as {@link #oneThread}
   */
  @Benchmark
  @Threads(2)
  public int twoThreads(Placement placement) {
    return cycle();
  }

  private int cycle() {
    Block b = pool.tryAcquire();
    int h = System.identityHashCode(b);
    b.release();
    return h;
  }
}
