package io.nocopy.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Contract tests for every tier, and iobuf's pool scenarios with ownership enforced. */
class BlockPoolTest {

  @ParameterizedTest
  @EnumSource(Tier.class)
  void everyTierHandsOutAlignedBlocksOfItsSize(Tier tier) {
    int capacity = tier.size() >= (32L << 20) ? 1 : 3;
    try (BlockPool pool = BlockPool.create(tier, capacity)) {
      List<Block> held = new ArrayList<>();
      Set<Long> addresses = new HashSet<>();
      for (int i = 0; i < capacity; i++) {
        Block b = pool.tryAcquire();
        assertNotNull(b);
        MemorySegment seg = b.segment();
        assertEquals(tier.size(), seg.byteSize());
        assertSame(tier, b.tier());
        long align = tier.size() >= 4096 ? Memory.pageSize() : Memory.cacheLineSize();
        assertEquals(0, seg.address() % align, "alignment of " + tier + " at " + seg.address());
        assertTrue(addresses.add(seg.address()), "distinct memory");
        // whole block is writable
        seg.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        seg.set(ValueLayout.JAVA_BYTE, tier.size() - 1, (byte) 2);
        assertEquals(tier.size(), b.byteBuffer().capacity());
        held.add(b);
      }
      assertNull(pool.tryAcquire(), "bounded");
      assertEquals(0, pool.available());
      held.forEach(Block::release);
      assertEquals(capacity, pool.available());
    }
  }

  @Test
  void basicGetPut() {
    try (BlockPool pool = BlockPool.create(Tier.SMALL, 4)) {
      assertEquals(Tier.SMALL, pool.tier());
      assertEquals(4, pool.capacity());
      assertEquals(4, pool.available());
      Block b = pool.tryAcquire();
      assertEquals(1, b.refCount());
      assertEquals(3, pool.available());
      b.segment().set(ValueLayout.JAVA_LONG, 0, 0xCAFEL);
      assertTrue(b.release());
      assertEquals(0, b.refCount());
      assertEquals(4, pool.available());
    }
  }

  @Test
  void nonBlockingAcquireOnEmptyPoolReturnsNull() {
    try (BlockPool pool = BlockPool.create(Tier.NANO, 2)) {
      Block a = pool.tryAcquire();
      Block b = pool.tryAcquire();
      assertNotSame(a, b);
      assertNull(pool.tryAcquire());
      a.release();
      Block c = pool.tryAcquire();
      assertSame(a, c, "the released block is reused");
      c.release();
      b.release();
    }
  }

  @Test
  void blockingAcquireUnblocksOnRelease() throws Exception {
    try (BlockPool pool = BlockPool.create(Tier.MICRO, 1)) {
      Block held = pool.tryAcquire();
      CountDownLatch waiting = new CountDownLatch(1);
      AtomicReference<Block> got = new AtomicReference<>();
      Thread t =
          Thread.ofVirtual()
              .start(
                  () -> {
                    waiting.countDown();
                    try {
                      got.set(pool.acquire(Duration.ofSeconds(30)));
                    } catch (Exception e) {
                      throw new RuntimeException(e);
                    }
                  });
      waiting.await();
      Thread.sleep(50); // let it reach the parked phase
      assertNull(got.get());
      held.release();
      t.join(10_000);
      assertFalse(t.isAlive(), "waiter woke up");
      assertSame(held, got.get());
      got.get().release();
      assertTrue(pool.stats().waits() >= 1);
    }
  }

  @Test
  void exhaustionTimesOutWithAMessageNamingTheLimit() {
    try (BlockPool pool = BlockPool.create(Tier.SMALL, 2)) {
      Block a = pool.tryAcquire();
      Block b = pool.tryAcquire();
      long t0 = System.nanoTime();
      PoolExhaustedException e =
          assertThrows(PoolExhaustedException.class, () -> pool.acquire(Duration.ofMillis(50)));
      long waitedMs = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(waitedMs >= 50, "waited " + waitedMs);
      assertEquals(Tier.SMALL, e.tier());
      String m = e.getMessage();
      assertTrue(m.contains("SMALL") && m.contains("capacity 2") && m.contains("2 of"), m);
      assertTrue(m.contains("waited"), m);
      assertEquals(1, pool.stats().exhaustions());
      a.release();
      b.release();
    }
  }

  @Test
  void acquireWithZeroTimeoutDoesNotWait() {
    try (BlockPool pool = BlockPool.create(Tier.PICO, 1)) {
      Block a = pool.tryAcquire();
      assertThrows(PoolExhaustedException.class, () -> pool.acquire(Duration.ZERO));
      a.release();
    }
  }

  @Test
  void interruptedWaiterThrows() throws Exception {
    try (BlockPool pool = BlockPool.create(Tier.PICO, 1)) {
      Block a = pool.tryAcquire();
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      Thread t =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      pool.acquire(Duration.ofSeconds(30));
                    } catch (Throwable e) {
                      thrown.set(e);
                    }
                  });
      Thread.sleep(30);
      t.interrupt();
      t.join(5_000);
      assertTrue(thrown.get() instanceof InterruptedException, String.valueOf(thrown.get()));
      a.release();
    }
  }

  @Test
  void highContentionOnASmallPool() throws Exception {
    int capacity = 8;
    int threads = 16;
    int rounds = 20_000;
    try (BlockPool pool = BlockPool.create(Tier.MICRO, capacity)) {
      AtomicInteger[] owner = new AtomicInteger[capacity];
      for (int i = 0; i < capacity; i++) {
        owner[i] = new AtomicInteger();
      }
      AtomicInteger violations = new AtomicInteger();
      AtomicInteger maxHeld = new AtomicInteger();
      AtomicInteger held = new AtomicInteger();
      ExecutorService ex = Executors.newFixedThreadPool(threads);
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 1; t <= threads; t++) {
        int id = t;
        fs.add(
            ex.submit(
                () -> {
                  for (int r = 0; r < rounds; r++) {
                    Block b = pool.acquire(Duration.ofSeconds(10));
                    int h = held.incrementAndGet();
                    maxHeld.accumulateAndGet(h, Math::max);
                    if (!owner[b.index].compareAndSet(0, id)) {
                      violations.incrementAndGet();
                    }
                    b.segment().set(ValueLayout.JAVA_INT, 0, id);
                    Thread.onSpinWait();
                    if (b.segment().get(ValueLayout.JAVA_INT, 0) != id) {
                      violations.incrementAndGet();
                    }
                    owner[b.index].set(0);
                    held.decrementAndGet();
                    b.release();
                  }
                  return null;
                }));
      }
      for (Future<?> f : fs) {
        f.get(60, TimeUnit.SECONDS);
      }
      ex.shutdown();
      assertEquals(0, violations.get(), "a block was held by two owners");
      assertTrue(maxHeld.get() <= capacity);
      assertEquals(capacity, pool.available(), "no block lost");
      PoolStats s = pool.stats();
      assertEquals(0, s.inUse());
      assertTrue(s.highWater() <= capacity && s.highWater() >= 1, s.toString());
      assertTrue(s.created() <= capacity);
    }
  }

  @Test
  void doubleReleaseIsDetected() {
    try (BlockPool pool = BlockPool.create(Tier.PICO, 4)) {
      Block b = pool.tryAcquire();
      assertTrue(b.release());
      IllegalStateException e = assertThrows(IllegalStateException.class, b::release);
      assertTrue(e.getMessage().contains("double release"), e.getMessage());
      assertEquals(4, pool.available(), "the pool was not corrupted");
      Set<Block> all = new HashSet<>();
      for (int i = 0; i < 4; i++) {
        assertTrue(all.add(pool.tryAcquire()), "no block handed out twice");
      }
      assertNull(pool.tryAcquire());
      all.forEach(Block::release);
    }
  }

  @Test
  void retainKeepsTheBlockOutOfThePoolUntilTheLastRelease() {
    try (BlockPool pool = BlockPool.create(Tier.PICO, 1)) {
      Block b = pool.tryAcquire();
      assertSame(b, b.retain());
      assertEquals(2, b.refCount());
      assertFalse(b.release());
      assertNull(pool.tryAcquire(), "still owned by the second holder");
      b.segment(); // still valid
      assertTrue(b.release());
      assertNotNull(pool.tryAcquire());
    }
  }

  @Test
  void useAfterReleaseFailsLoudly() {
    try (BlockPool pool = BlockPool.create(Tier.PICO, 2)) {
      Block b = pool.tryAcquire();
      b.release();
      assertThrows(IllegalStateException.class, b::segment);
      assertThrows(IllegalStateException.class, b::byteBuffer);
      assertThrows(IllegalStateException.class, b::retain);
    }
  }

  @Test
  void releaseIntoAForeignPoolIsRejected() {
    try (BlockPool a = BlockPool.create(Tier.PICO, 1);
        BlockPool b = BlockPool.create(Tier.PICO, 1)) {
      Block block = a.tryAcquire();
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> b.release(block));
      assertTrue(e.getMessage().contains("another pool"), e.getMessage());
      assertEquals(1, block.refCount(), "nothing released");
      assertTrue(a.release(block));
    }
  }

  @Test
  void badConstructionArguments() {
    assertThrows(IllegalArgumentException.class, () -> BlockPool.create(Tier.PICO, 0));
    assertThrows(IllegalArgumentException.class, () -> BlockPool.create(Tier.PICO, -3));
    assertThrows(IllegalArgumentException.class, () -> BlockPool.create(null, 3));
    assertThrows(IllegalArgumentException.class, () -> BlockPool.create(Tier.TITAN, 1 << 20));
  }

  @Test
  void closedPoolFailsLoudlyAndFreesMemory() {
    BlockPool pool = BlockPool.create(Tier.MEDIUM, 2);
    Block leaked = pool.tryAcquire();
    MemorySegment seg = leaked.segment();
    pool.close();
    assertTrue(pool.isClosed());
    assertThrows(IllegalStateException.class, pool::tryAcquire);
    assertThrows(IllegalStateException.class, () -> pool.acquire(Duration.ofMillis(1)));
    assertThrows(IllegalStateException.class, pool::fill);
    // the memory is gone: access fails instead of touching freed memory
    assertThrows(IllegalStateException.class, () -> seg.get(ValueLayout.JAVA_BYTE, 0));
    leaked.release(); // harmless
    pool.close(); // idempotent
  }

  @Test
  void lazyGrowthFillAndTrim() {
    // 2 KiB blocks, 2 MiB slabs: 1024 blocks per slab, 3 slabs for 2500 blocks.
    try (BlockPool pool = BlockPool.create(Tier.SMALL, 2500)) {
      assertEquals(0, pool.stats().created(), "lazy: nothing allocated yet");
      Block b = pool.tryAcquire();
      assertEquals(1024, pool.stats().created(), "one slab carved");
      pool.fill();
      assertEquals(2500, pool.stats().created());
      long freed = pool.trim();
      assertEquals((2500 - 1024) * 2048L, freed, "all slabs but the one with a block in use");
      assertEquals(1024, pool.stats().created());
      b.release();
      assertEquals(1024 * 2048L, pool.trim());
      assertEquals(0, pool.stats().created());
      // everything still works after trimming
      List<Block> all = new ArrayList<>();
      for (Block x; (x = pool.tryAcquire()) != null; ) {
        x.segment().set(ValueLayout.JAVA_INT, 0, all.size());
        all.add(x);
      }
      assertEquals(2500, all.size());
      for (int i = 0; i < all.size(); i++) {
        assertEquals(i, all.get(i).segment().get(ValueLayout.JAVA_INT, 0));
      }
      all.forEach(Block::release);
      assertEquals(2500, pool.available());
    }
  }

  @Test
  void statsCountCapacityUseAndHighWater() {
    try (BlockPool pool = BlockPool.create(Tier.NANO, 10)) {
      List<Block> bs = new ArrayList<>();
      for (int i = 0; i < 7; i++) {
        bs.add(pool.tryAcquire());
      }
      PoolStats s = pool.stats();
      assertEquals(Tier.NANO, s.tier());
      assertEquals(10, s.capacity());
      assertEquals(7, s.inUse());
      assertEquals(7, s.highWater());
      bs.forEach(Block::release);
      s = pool.stats();
      assertEquals(0, s.inUse());
      assertEquals(7, s.highWater());
    }
  }

  @Test
  void exhaustionWaitsAreRecordedAsJfrEvents() throws Exception {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("nocopy", ".jfr");
    try (jdk.jfr.Recording rec = new jdk.jfr.Recording();
        BlockPool pool = BlockPool.create(Tier.PICO, 1)) {
      rec.enable("io.nocopy.PoolExhaustionWait").withThreshold(Duration.ZERO);
      rec.start();
      Block a = pool.tryAcquire();
      assertThrows(PoolExhaustedException.class, () -> pool.acquire(Duration.ofMillis(5)));
      a.release();
      rec.stop();
      rec.dump(file);
      List<RecordedEvent> events =
          RecordingFile.readAllEvents(file).stream()
              .filter(e -> e.getEventType().getName().equals("io.nocopy.PoolExhaustionWait"))
              .toList();
      assertEquals(1, events.size());
      assertEquals("PICO", events.get(0).getString("tier"));
      assertFalse(events.get(0).getBoolean("succeeded"));
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }
}
