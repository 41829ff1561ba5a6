package io.nocopy.buffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.Tier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SliceTest {
  Allocator alloc;
  byte[] data;

  @BeforeEach
  void setUp() {
    alloc = Allocator.builder().maxBytes(8L << 20).build();
    data = BufReaderContract.randomBytes(1000, 77);
  }

  @AfterEach
  void tearDown() {
    assertEquals(0, alloc.inUse());
    alloc.close();
  }

  /** A slice of all of {@code data} over 32-byte blocks filled 5 bytes at a time. */
  Slice sliceOfData() throws IOException {
    try (BufReader r = BufReader.of(ChunkedChannel.fixed(data, 5), alloc, Tier.PICO)) {
      return r.readSlice(data.length);
    }
  }

  static byte[] chunksOf(Slice s) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    s.forEachChunk(c -> {
      assertTrue(c.byteSize() > 0);
      out.writeBytes(c.toArray(ValueLayout.JAVA_BYTE));
    });
    return out.toByteArray();
  }

  @Test
  void retainToGivesEveryBlockOfARangeANewReference() throws IOException {
    byte[] payload = BufReaderContract.randomBytes(1300, 8);
    try (BufReader r = BufReader.of(ChunkedChannel.fixed(payload, 1300), alloc, Tier.MICRO);
        Slice s = r.readSlice(1300)) { // three blocks of 512 B
      Chunks got = new Chunks();
      s.retainTo(500, 600, got);
      assertEquals(3, got.count(), "the range touches all three blocks");
      assertArrayEquals(Arrays.copyOfRange(payload, 500, 1100), got.toByteArray());
      s.retainTo(1300, 0, got); // empty: no call
      assertEquals(3, got.count());
      assertThrows(IndexOutOfBoundsException.class, () -> s.retainTo(1200, 101, got));
      try (Slice part = s.slice(100, 1000)) {
        Chunks fromPart = new Chunks();
        part.retainTo(450, 10, fromPart);
        assertArrayEquals(Arrays.copyOfRange(payload, 550, 560), fromPart.toByteArray());
        fromPart.release();
      }
      got.release();
    }
    assertThrows(IllegalStateException.class, () -> {
      Slice closed = Slice.empty();
      closed.close();
      closed.retainTo(0, 0, new Chunks());
    });
  }

  @Test
  void nativeRegionsCoverExactlyTheRangeInOrder() throws IOException {
    try (Slice s = sliceOfData(); Slice part = s.slice(10, 900)) {
      long[] addrs = new long[64];
      int[] lens = new int[64];
      for (long[] range : new long[][] {{0, 900}, {3, 100}, {22, 10}, {31, 2}, {899, 1}, {5, 0}}) {
        int from = (int) range[0];
        int len = (int) range[1];
        int n = part.nativeRegions(from, len, addrs, lens);
        assertTrue(n >= 0, "regions of " + Arrays.toString(range));
        byte[] got = new byte[len];
        int at = 0;
        for (int k = 0; k < n; k++) {
          assertTrue(lens[k] > 0 && lens[k] <= 32);
          MemorySegment m = MemorySegment.ofAddress(addrs[k]).reinterpret(lens[k]);
          MemorySegment.copy(m, ValueLayout.JAVA_BYTE, 0, got, at, lens[k]);
          at += lens[k];
        }
        assertEquals(len, at);
        assertArrayEquals(Arrays.copyOfRange(data, 10 + from, 10 + from + len), got);
      }
      assertEquals(-1, part.nativeRegions(0, 900, new long[3], new int[3]), "too many regions");
      assertThrows(IndexOutOfBoundsException.class, () -> part.nativeRegions(800, 101, addrs, lens));
    }
  }

  @Test
  void forEachChunkWalksEveryBlockInOrder() throws IOException {
    try (Slice s = sliceOfData()) {
      List<MemorySegment> chunks = new ArrayList<>();
      s.forEachChunk(chunks::add);
      assertEquals((data.length + 31) / 32, chunks.size());
      assertArrayEquals(data, chunksOf(s));
      assertEquals(data.length, s.length());
    }
  }

  @Test
  void subSlicesOfEveryOffsetAndLength() throws IOException {
    try (Slice s = sliceOfData()) {
      for (int off = 0; off <= data.length; off += 37) {
        for (int len : new int[] {0, 1, 31, 32, 33, 100, data.length - off}) {
          if (off + len > data.length) {
            continue;
          }
          try (Slice sub = s.slice(off, len)) {
            byte[] want = Arrays.copyOfRange(data, off, off + len);
            assertArrayEquals(want, sub.toByteArray());
            assertArrayEquals(want, chunksOf(sub));
            CollectingChannel ch = new CollectingChannel(Integer.MAX_VALUE);
            assertEquals(len, sub.writeTo(ch));
            assertArrayEquals(want, ch.toByteArray());
            if (len > 10) {
              try (Slice subSub = sub.slice(3, len - 10)) {
                assertArrayEquals(Arrays.copyOfRange(data, off + 3, off + len - 7), subSub.toByteArray());
              }
            }
          }
        }
      }
      assertThrows(IndexOutOfBoundsException.class, () -> s.slice(-1, 1));
      assertThrows(IndexOutOfBoundsException.class, () -> s.slice(0, data.length + 1));
      assertThrows(IndexOutOfBoundsException.class, () -> s.slice(data.length, 1));
      assertThrows(IndexOutOfBoundsException.class, () -> s.slice(1, -1));
    }
  }

  @Test
  void retainedHandlesAreIndependent() throws IOException {
    Slice a = sliceOfData();
    Slice b = a.retain();
    Slice c = b.slice(10, 20);
    a.close();
    assertTrue(alloc.inUse() > 0);
    assertArrayEquals(data, b.toByteArray());
    b.close();
    assertArrayEquals(Arrays.copyOfRange(data, 10, 30), c.toByteArray());
    assertTrue(alloc.inUse() > 0);
    c.close();
    assertEquals(0, alloc.inUse(), "the last handle returned every block");
  }

  @Test
  void useAfterCloseAndDoubleCloseAreDetected() throws IOException {
    Slice s = sliceOfData();
    Slice other = s.retain();
    s.close();
    assertTrue(s.isClosed());
    assertFalse(other.isClosed());
    assertThrows(IllegalStateException.class, s::close, "double close");
    assertThrows(IllegalStateException.class, s::length);
    assertThrows(IllegalStateException.class, s::toByteArray);
    assertThrows(IllegalStateException.class, s::retain);
    assertThrows(IllegalStateException.class, () -> s.slice(0, 1));
    assertThrows(IllegalStateException.class, () -> s.forEachChunk(c -> {}));
    assertThrows(IllegalStateException.class, () -> s.writeTo(new CollectingChannel(10)));
    // the double close did not steal the other holder's reference
    assertArrayEquals(data, other.toByteArray());
    other.close();
  }

  @Test
  void emptySlice() throws IOException {
    try (Slice e = Slice.empty(); Slice r = e.retain()) {
      assertEquals(0, r.length());
      assertEquals(0, r.toByteArray().length);
      assertEquals(0, r.writeTo(new CollectingChannel(10)));
      r.forEachChunk(c -> {
        throw new AssertionError("no chunks");
      });
    }
  }

  @Test
  void wholeBlockChunksAreTheBlockSegmentItself() throws IOException {
    byte[] big = BufReaderContract.randomBytes(64, 5);
    try (BufReader r = BufReader.of(ChunkedChannel.fixed(big, 64), alloc, Tier.PICO);
        Slice s = r.readSlice(64)) {
      List<MemorySegment> first = new ArrayList<>();
      List<MemorySegment> second = new ArrayList<>();
      s.forEachChunk(first::add);
      s.forEachChunk(second::add);
      assertEquals(2, first.size());
      assertSame(first.get(0), second.get(0), "a whole-block chunk is not a fresh view");
    }
  }

  /** Many subscribers on their own threads each write their own handle of one slice. */
  @Test
  void fanOutToThreadsThroughRetainedHandles() throws Exception {
    Slice s = sliceOfData();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<byte[]>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        Slice mine = s.retain();
        int perWrite = 1 + i * 13;
        results.add(pool.submit(() -> {
          try (mine) {
            CollectingChannel ch = new CollectingChannel(perWrite);
            long at = 0;
            for (int round = 0; round < 10_000 && at < mine.length(); round++) {
              at += mine.writeTo(ch, at);
            }
            return ch.toByteArray();
          }
        }));
      }
      s.close();
      for (Future<byte[]> f : results) {
        assertArrayEquals(data, f.get());
      }
    } finally {
      pool.shutdown();
    }
  }
}
