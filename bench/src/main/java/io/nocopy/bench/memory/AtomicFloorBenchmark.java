package io.nocopy.bench.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor under nocopy's one-thread acquire+release: the same atomic instructions {@code
 * BlockPool.tryAcquire()} plus {@code Block.release()} execute on their fast path (stripe slot
 * {@code getAndSet}, reference count release-store, reference count CAS, stripe slot CAS), on
 * thread-private data, with nothing else around them. Subtracting this from {@link
 * AcquireReleaseBenchmark}'s nocopy-pool score gives what the checks, loads and calls around the
 * atomics cost; the score itself is what any design with these three read-modify-writes pays.
 *
 * <p>Ownership: all state is the measuring thread's.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {BenchFlags.HEAP, BenchFlags.HEAP_MAX})
public class AtomicFloorBenchmark {
  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(int[].class);
  private static final VarHandle REF;

  static {
    try {
      REF = MethodHandles.lookup().findVarHandle(AtomicFloorBenchmark.class, "ref", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static final int EMPTY = -1;
  private static final int SLOT_INDEX = 32; // away from the array header

  private final int[] slots = filled();
  private volatile int ref;

  private static int[] filled() {
    int[] a = new int[64];
    java.util.Arrays.fill(a, EMPTY);
    a[SLOT_INDEX] = 7;
    return a;
  }

  /**
   * getAndSet, setRelease, CAS, CAS: the read-modify-writes of one nocopy acquire+release.
   *
   * @return the index taken, so nothing is dead code
   */
  @Benchmark
  public int threeAtomics() {
    int idx = (int) SLOT.getAndSet(slots, SLOT_INDEX, EMPTY);
    REF.setRelease(this, 1);
    if (!REF.compareAndSet(this, 1, 0)) {
      throw new IllegalStateException("reference count changed under a single thread");
    }
    if (!SLOT.compareAndSet(slots, SLOT_INDEX, EMPTY, idx)) {
      throw new IllegalStateException("slot changed under a single thread");
    }
    return idx;
  }

  /**
   * The same with plain accesses: what the bookkeeping costs without the atomics.
   *
   * @return the index taken
   */
  @Benchmark
  public int plainAccesses() {
    int idx = slots[SLOT_INDEX];
    slots[SLOT_INDEX] = EMPTY;
    REF.set(this, 1);
    int c = (int) REF.get(this);
    REF.set(this, c - 1);
    slots[SLOT_INDEX] = idx;
    return idx;
  }
}
