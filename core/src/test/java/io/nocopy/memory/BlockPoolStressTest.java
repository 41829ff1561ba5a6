package io.nocopy.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many threads acquire, stamp their id into the block, verify it, and release, millions of times
 * in all. Invariants: no block is ever held by two owners, none is lost, capacity is never
 * exceeded.
 */
class BlockPoolStressTest {
  private static final long TOTAL_ROUNDS = 2_000_000;

  @ParameterizedTest
  @ValueSource(ints = {2, 4, 8})
  void noBlockHasTwoOwnersNoneIsLost(int threads) throws Exception {
    int capacity = 64;
    try (BlockPool pool = BlockPool.create(Tier.NANO, capacity)) {
      AtomicIntegerArray owner = new AtomicIntegerArray(capacity);
      AtomicLong violations = new AtomicLong();
      AtomicLong nulls = new AtomicLong();
      long perThread = TOTAL_ROUNDS / threads;
      List<Thread> ts = new ArrayList<>();
      for (int t = 1; t <= threads; t++) {
        int id = t;
        ts.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      SplittableRandom rnd = new SplittableRandom(id);
                      Block[] held = new Block[4];
                      try {
                        for (long r = 0; r < perThread; r++) {
                          int n = 1 + rnd.nextInt(held.length); // hold up to 4 at a time
                          int got = 0;
                          for (int i = 0; i < n; i++) {
                            Block b =
                                (r & 1) == 0 ? pool.tryAcquire() : pool.acquire(Duration.ofSeconds(5));
                            if (b == null) {
                              nulls.incrementAndGet();
                              break;
                            }
                            if (!owner.compareAndSet(b.index, 0, id)) {
                              violations.incrementAndGet();
                            }
                            b.segment().set(ValueLayout.JAVA_INT, 0, id);
                            held[got++] = b;
                          }
                          for (int i = 0; i < got; i++) {
                            MemorySegment s = held[i].segment();
                            if (s.get(ValueLayout.JAVA_INT, 0) != id) {
                              violations.incrementAndGet();
                            }
                            if (!owner.compareAndSet(held[i].index, id, 0)) {
                              violations.incrementAndGet();
                            }
                            held[i].release();
                            held[i] = null;
                          }
                        }
                      } catch (Exception e) {
                        violations.incrementAndGet();
                        throw new RuntimeException(e);
                      }
                    }));
      }
      for (Thread t : ts) {
        t.join(120_000);
        assertTrue(!t.isAlive(), "thread finished");
      }
      assertEquals(0, violations.get(), "ownership violated");
      assertEquals(capacity, pool.available(), "every block came back");
      PoolStats s = pool.stats();
      assertEquals(0, s.inUse());
      assertTrue(s.created() <= capacity && s.highWater() <= capacity, s.toString());
      for (int i = 0; i < capacity; i++) {
        assertEquals(0, owner.get(i));
      }
      // and every block is distinct and reachable
      List<Block> all = new ArrayList<>();
      for (Block b; (b = pool.tryAcquire()) != null; ) {
        all.add(b);
      }
      assertEquals(capacity, all.size());
      assertEquals(capacity, all.stream().map(b -> b.index).distinct().count());
      all.forEach(Block::release);
    }
  }
}
