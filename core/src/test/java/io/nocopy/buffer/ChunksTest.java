package io.nocopy.buffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import io.nocopy.memory.Tier;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Chunks}: ownership of the references (taken over, moved, retained, released once), the
 * ring against a model under random operations, the maximum, and allocation-free reuse.
 */
class ChunksTest {
  Allocator alloc;

  @BeforeEach
  void setUp() {
    alloc = Allocator.builder().maxBytes(8L << 20).build();
  }

  @AfterEach
  void tearDown() {
    assertEquals(0, alloc.inUse(), "every reference released exactly once");
    alloc.close();
  }

  /** A NANO (128 B) block whose byte i is {@code (base + i)}. */
  Block block(int base) throws Exception {
    Block b = alloc.allocate(Tier.NANO.size());
    for (int i = 0; i < 128; i++) {
      b.segment().set(ValueLayout.JAVA_BYTE, i, (byte) (base + i));
    }
    return b;
  }

  @Test
  void acceptTakesOverAndReleaseGivesEachReferenceBackOnce() throws Exception {
    Chunks c = new Chunks();
    Block a = block(0);
    c.accept(a, 0, 10);
    c.accept(a.retain(), 20, 5); // the same block twice: one reference per chunk
    assertEquals(2, a.refCount());
    assertEquals(2, c.count());
    assertEquals(15, c.length());
    assertSame(a, c.block(1));
    assertEquals(20, c.offset(1));
    assertEquals(5, c.length(1));
    c.release();
    assertTrue(c.isEmpty());
    assertEquals(0, c.length());
  }

  @Test
  void rangesAreRetainedAndLocatedAcrossChunks() throws Exception {
    Chunks c = new Chunks();
    Block a = block(1);
    Block b = block(2);
    c.accept(a, 0, 10);
    c.accept(b, 90, 30);
    c.accept(a.retain(), 50, 20);
    byte[] all = c.toByteArray();
    Chunks part = new Chunks();
    c.retainTo(5, 40, part); // 5 of the first, all 30 of the second, 5 of the third
    assertEquals(3, part.count());
    assertEquals(4, a.refCount()); // two chunks of a in each list
    assertArrayEquals(java.util.Arrays.copyOfRange(all, 5, 45), part.toByteArray());
    long[] addresses = new long[3];
    int[] lengths = new int[3];
    assertEquals(2, c.nativeRegions(10, 35, addresses, lengths));
    assertEquals(b.segment().address() + 90, addresses[0]);
    assertEquals(30, lengths[0]);
    assertEquals(a.segment().address() + 50, addresses[1]);
    assertEquals(5, lengths[1]);
    assertEquals(-1, c.nativeRegions(0, 60, new long[2], new int[2]), "more regions than room");
    assertEquals(0, c.nativeRegions(60, 0, addresses, lengths));
    assertThrows(IndexOutOfBoundsException.class, () -> c.retainTo(50, 11, part));
    assertThrows(IndexOutOfBoundsException.class, () -> c.nativeRegions(-1, 1, addresses, lengths));
    part.release();
    c.release();
  }

  @Test
  void aRefusedChunkIsReleasedNotLeaked() throws Exception {
    Chunks c = new Chunks(2);
    assertThrows(IllegalArgumentException.class, () -> c.accept(block(0), 0, 0));
    assertThrows(IndexOutOfBoundsException.class, () -> c.accept(block(0), 120, 10));
    assertThrows(IndexOutOfBoundsException.class, () -> c.accept(block(0), -1, 10));
    assertEquals(0, alloc.inUse(), "refused chunks' references were released");
    c.accept(block(0), 0, 1);
    c.accept(block(0), 0, 1);
    IllegalStateException full = assertThrows(IllegalStateException.class,
        () -> c.accept(block(0), 0, 1));
    assertTrue(full.getMessage().contains("maximum of 2"), full.getMessage());
    assertEquals(2, c.count());
    c.release();
    assertThrows(IllegalArgumentException.class, () -> new Chunks(0));
    assertThrows(IllegalArgumentException.class, () -> new Chunks(Chunks.MAX_COUNT + 1));
  }

  @Test
  void moveFromMovesReferencesWithoutCountingAndAllOrNothing() throws Exception {
    Chunks src = new Chunks();
    for (int i = 0; i < 5; i++) {
      src.accept(block(i * 10), i, 10 + i);
    }
    Chunks dst = new Chunks(4);
    dst.accept(block(99), 0, 1);
    assertThrows(IllegalStateException.class, () -> dst.moveFrom(src, 4), "1 + 4 > 4");
    assertEquals(5, src.count(), "nothing moved");
    assertEquals(1, dst.count());
    assertThrows(IndexOutOfBoundsException.class, () -> dst.moveFrom(src, 6));
    assertThrows(IllegalArgumentException.class, () -> dst.moveFrom(dst, 1));
    Block first = src.block(0);
    dst.moveFrom(src, 3);
    assertEquals(1, first.refCount(), "moved, not retained");
    assertEquals(2, src.count());
    assertEquals(13 + 14, src.length());
    assertEquals(4, dst.count());
    assertEquals(1 + 10 + 11 + 12, dst.length());
    assertSame(first, dst.block(1));
    assertEquals(2, dst.offset(3));
    src.release();
    dst.release();
  }

  @Test
  void retainToGivesANewReferenceAndKeepsItsOwn() throws Exception {
    Chunks c = new Chunks();
    c.accept(block(0), 0, 128);
    c.accept(block(7), 3, 4);
    Chunks copy = new Chunks();
    c.retainTo(copy);
    assertEquals(2, c.block(0).refCount());
    assertArrayEquals(c.toByteArray(), copy.toByteArray());
    c.release();
    assertEquals(1, copy.block(0).refCount());
    assertEquals(10, copy.toByteArray()[128], "byte 3 of the block based at 7");
    copy.release();
  }

  @Test
  void segmentIsTheBlockItselfWhenTheChunkCoversIt() throws Exception {
    Chunks c = new Chunks();
    Block whole = block(0);
    c.accept(whole, 0, 128);
    c.accept(block(0), 1, 2);
    assertSame(whole.segment(), c.segment(0));
    MemorySegment part = c.segment(1);
    assertNotSame(c.block(1).segment(), part);
    assertEquals(2, part.byteSize());
    assertEquals(1, part.get(ValueLayout.JAVA_BYTE, 0));
    assertThrows(IndexOutOfBoundsException.class, () -> c.segment(2));
    assertThrows(IndexOutOfBoundsException.class, () -> c.block(-1));
    c.release();
  }

  @Test
  void skipReleasesWholeChunksAndTrimsAPartOne() throws Exception {
    Chunks c = new Chunks();
    c.accept(block(0), 0, 10);
    c.accept(block(50), 0, 10);
    Block first = c.block(0);
    c.skip(13);
    assertEquals(1, c.count());
    assertEquals(7, c.length());
    assertEquals(3, c.offset(0));
    assertEquals(7, c.length(0));
    assertEquals(53, c.toByteArray()[0]);
    assertEquals(0, first.refCount(), "the first block went back");
    assertEquals(1, alloc.inUse());
    assertThrows(IndexOutOfBoundsException.class, () -> c.skip(8));
    c.skip(7);
    assertTrue(c.isEmpty());
  }

  @Test
  void removeFirstHandsTheReferenceOver() throws Exception {
    Chunks c = new Chunks();
    assertThrows(IllegalStateException.class, c::removeFirst);
    c.accept(block(0), 5, 6);
    Block b = c.removeFirst();
    assertEquals(0, c.length());
    assertEquals(1, b.refCount(), "the caller's now");
    b.release();
  }

  /** One chunk of the model: its block, offset and length, mirrored from the list. */
  record Entry(Block block, int offset, int length) {}

  @Test
  void randomOperationsMatchAModelAcrossWrapAndGrowth() throws Exception {
    Random rnd = new Random(5);
    Chunks c = new Chunks(64);
    Chunks other = new Chunks();
    ArrayDeque<Entry> model = new ArrayDeque<>();
    for (int step = 0; step < 20_000; step++) {
      int op = rnd.nextInt(6);
      if (op <= 1 && c.count() < 64) {
        int off = rnd.nextInt(128);
        int len = 1 + rnd.nextInt(128 - off);
        Block b = block(rnd.nextInt(256));
        c.accept(b, off, len);
        model.addLast(new Entry(b, off, len));
      } else if (op == 2 && !c.isEmpty()) {
        int off = c.offset(0);
        int len = c.length(0);
        Block b = c.removeFirst();
        Entry e = model.removeFirst();
        assertEquals(new Entry(b, off, len), e);
        b.release();
      } else if (op == 3 && !c.isEmpty()) {
        long n = rnd.nextLong(c.length() + 1);
        c.skip(n);
        skipModel(model, n);
      } else if (op == 4) {
        int n = rnd.nextInt(c.count() + 1);
        c.releaseLast(n);
        for (int i = 0; i < n; i++) {
          model.removeLast();
        }
      } else {
        int n = rnd.nextInt(Math.min(c.count(), 8) + 1);
        other.moveFrom(c, n); // then back to the end, as a message ring does
        for (int i = 0; i < n; i++) {
          model.addLast(model.removeFirst());
        }
        c.moveFrom(other, n);
      }
      check(c, model);
    }
    c.release();
    assertTrue(other.isEmpty());
  }

  private static void skipModel(ArrayDeque<Entry> model, long n) {
    while (n > 0) {
      Entry e = model.removeFirst();
      if (n >= e.length()) {
        n -= e.length();
      } else {
        model.addFirst(new Entry(e.block(), e.offset() + (int) n, e.length() - (int) n));
        n = 0;
      }
    }
  }

  private static void check(Chunks c, ArrayDeque<Entry> model) throws Exception {
    assertEquals(model.size(), c.count());
    long total = 0;
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    Iterator<Entry> it = model.iterator();
    for (int i = 0; i < c.count(); i++) {
      Entry e = it.next();
      assertEquals(e, new Entry(c.block(i), c.offset(i), c.length(i)), "chunk " + i);
      total += e.length();
      expected.writeBytes(e.block().segment().asSlice(e.offset(), e.length())
          .toArray(ValueLayout.JAVA_BYTE));
    }
    assertEquals(total, c.length());
    assertArrayEquals(expected.toByteArray(), c.toByteArray());
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    c.forEach(seg -> seen.writeBytes(seg.toArray(ValueLayout.JAVA_BYTE)));
    assertArrayEquals(expected.toByteArray(), seen.toByteArray());
  }

  @Test
  void rangeOperationsStartInsideAChunk() throws Exception {
    Chunks c = new Chunks();
    for (int i = 0; i < 4; i++) {
      c.accept(block(i * 32), 0, 20);
    }
    byte[] all = c.toByteArray();
    // 30 bytes from byte 5 of chunk 1: 15 + 15 bytes over chunks 1 and 2
    assertEquals(2, c.countCovering(1, 5, 30));
    byte[] copied = new byte[30];
    c.copyTo(1, 5, 30, copied);
    assertArrayEquals(java.util.Arrays.copyOfRange(all, 25, 55), copied);
    List<Long> sizes = new ArrayList<>();
    c.forEach(1, 5, 30, seg -> sizes.add(seg.byteSize()));
    assertEquals(List.of(15L, 15L), sizes);
    Chunks table = Chunks.exact(2);
    c.retainTo(1, 5, 30, table);
    assertArrayEquals(copied, table.toByteArray());
    assertEquals(2, c.block(1).refCount());
    table.release();
    c.release();
  }

  @Test
  void reuseAllocatesNothingOnceWarm() throws Exception {
    var mx = (com.sun.management.ThreadMXBean)
        java.lang.management.ManagementFactory.getThreadMXBean();
    Block b = block(0);
    Chunks ring = new Chunks();
    Chunks taken = new Chunks();
    long before = 0;
    for (int round = 0; round < 2_000; round++) {
      if (round == 1_000) {
        before = mx.getCurrentThreadAllocatedBytes();
      }
      for (int i = 0; i < 37; i++) {
        ring.accept(b.retain(), i, 1 + i);
      }
      taken.moveFrom(ring, 20);
      taken.release();
      ring.skip(ring.length() / 2);
      ring.releaseLast(ring.count());
    }
    long allocated = mx.getCurrentThreadAllocatedBytes() - before;
    b.release();
    assertEquals(0, allocated, "bytes allocated by 1000 warm rounds");
  }
}
