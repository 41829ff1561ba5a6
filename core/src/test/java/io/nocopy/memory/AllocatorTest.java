package io.nocopy.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AllocatorTest {
  @Test
  void allocatesFromTheSmallestFittingTier() throws Exception {
    try (Allocator alloc = Allocator.create()) {
      long[] sizes = {0, 1, 32, 33, 100, 2048, 2049, 16 * 1024, 1 << 20};
      Tier[] expect = {Tier.PICO, Tier.PICO, Tier.PICO, Tier.NANO, Tier.NANO, Tier.SMALL, Tier.MEDIUM,
          Tier.BIG, Tier.HUGE};
      for (int i = 0; i < sizes.length; i++) {
        Block b = alloc.allocate(sizes[i]);
        assertSame(expect[i], b.tier(), "size " + sizes[i]);
        assertSame(alloc.pool(expect[i]), b.pool);
        assertTrue(b.segment().byteSize() >= sizes[i]);
        b.release();
      }
      assertEquals(0, alloc.inUse());
    }
  }

  @Test
  void rejectsBadSizes() {
    try (Allocator alloc = Allocator.create()) {
      assertThrows(IllegalArgumentException.class, () -> alloc.allocate(-1));
      assertThrows(IllegalArgumentException.class, () -> alloc.allocate((128L << 20) + 1));
    }
  }

  @Test
  void builderRejectsBadLimits() {
    assertThrows(IllegalArgumentException.class, () -> Allocator.builder().capacity(Tier.PICO, 0));
    assertThrows(IllegalArgumentException.class, () -> Allocator.builder().maxBytes(31));
    assertThrows(IllegalArgumentException.class, () -> Allocator.builder().maxBytes(-1));
    assertThrows(
        IllegalArgumentException.class, () -> Allocator.builder().acquireTimeout(Duration.ofMillis(-1)));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Allocator.builder().maxBytes(1 << 20).capacity(Tier.HUGE, 1).build());
    assertTrue(e.getMessage().contains("below one HUGE block"), e.getMessage());
  }

  @Test
  void perTierCapacityIsEnforced() throws Exception {
    try (Allocator alloc =
        Allocator.builder().capacity(Tier.SMALL, 3).acquireTimeout(Duration.ofMillis(20)).build()) {
      List<Block> held = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        held.add(alloc.allocate(2000));
      }
      PoolExhaustedException e = assertThrows(PoolExhaustedException.class, () -> alloc.allocate(2000));
      assertTrue(e.getMessage().contains("capacity 3"), e.getMessage());
      held.forEach(Block::release);
      assertEquals(0, alloc.inUse());
    }
  }

  @Test
  void byteCapBoundsAllTiersTogetherAndNamesTheLimit() throws Exception {
    // 4 MiB cap: two 2 MiB slabs. Fill it with MEDIUM blocks, then ask for BIG ones.
    try (Allocator alloc =
        Allocator.builder().maxBytes(4L << 20).acquireTimeout(Duration.ofMillis(20)).build()) {
      List<Block> held = new ArrayList<>();
      for (int i = 0; i < 512; i++) {
        held.add(alloc.allocate(8192));
      }
      assertEquals(4L << 20, alloc.reservedBytes());
      PoolExhaustedException e = assertThrows(PoolExhaustedException.class, () -> alloc.allocate(32768));
      assertTrue(e.getMessage().contains("byte cap 4 MiB"), e.getMessage());
      assertTrue(alloc.reservedBytes() <= alloc.maxBytes());
      // Release the MEDIUM blocks: allocate() trims the idle slabs and BIG fits now.
      held.forEach(Block::release);
      Block big = alloc.allocate(32768);
      assertNotNull(big);
      assertTrue(alloc.reservedBytes() <= 4L << 20);
      big.release();
      assertEquals(0, alloc.inUse());
    }
  }

  @Test
  void trimGivesIdleMemoryBack() throws Exception {
    try (Allocator alloc = Allocator.create()) {
      Block b = alloc.allocate(100_000);
      b.release();
      assertTrue(alloc.reservedBytes() > 0);
      long freed = alloc.trim();
      assertTrue(freed > 0);
      assertEquals(0, alloc.reservedBytes());
      alloc.allocate(100_000).release();
    }
  }

  @Test
  void statsCoverUsedTiers() throws Exception {
    try (Allocator alloc = Allocator.create()) {
      Block a = alloc.allocate(10);
      Block b = alloc.allocate(5000);
      List<PoolStats> stats = alloc.stats();
      assertEquals(List.of(Tier.PICO, Tier.MEDIUM), stats.stream().map(PoolStats::tier).toList());
      assertEquals(2, alloc.inUse());
      a.release();
      b.release();
    }
  }

  @Test
  void closedAllocatorFailsLoudly() {
    Allocator alloc = Allocator.create();
    alloc.close();
    assertThrows(IllegalStateException.class, () -> alloc.allocate(10));
    alloc.close();
  }

  @Test
  void closeReportsBlocksStillInUse() throws Exception {
    Allocator alloc = Allocator.create();
    Block leaked = alloc.allocate(64);
    List<String> report = alloc.pool(Tier.NANO).leakReport();
    assertEquals(1, report.size());
    assertTrue(report.get(0).contains("NANO"), report.get(0));
    alloc.close();
    leaked.release();
  }
}
