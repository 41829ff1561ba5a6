package io.nocopy.buffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import io.nocopy.memory.Tier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BufWriterTest {
  Allocator alloc;

  @BeforeEach
  void setUp() {
    alloc = Allocator.builder().maxBytes(8L << 20).build();
  }

  @AfterEach
  void tearDown() {
    assertEquals(0, alloc.inUse(), "blocks still in use");
    alloc.close();
  }

  @Test
  void numbersVarintsAndBytesRoundTripThroughBufReader() throws IOException {
    Random rnd = new Random(1);
    long[] values = new long[500];
    int[] widths = new int[500];
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    try (BufWriter w = BufWriter.of(alloc, Tier.PICO)) {
      for (int i = 0; i < values.length; i++) {
        values[i] = rnd.nextLong() >>> rnd.nextInt(64);
        widths[i] = 1 + rnd.nextInt(8);
        switch (i % 5) {
          case 0 -> w.writeBE(values[i], widths[i]);
          case 1 -> w.writeLE(values[i], widths[i]);
          case 2 -> w.writeVarint(values[i]);
          case 3 -> w.writeByte((int) values[i]);
          default -> {
            byte[] b = new byte[widths[i] * 9];
            rnd.nextBytes(b);
            w.write(b);
            expected.writeBytes(b);
          }
        }
      }
      CollectingChannel out = new CollectingChannel(Integer.MAX_VALUE);
      long total = w.length();
      assertEquals(total, w.writeTo(out));
      assertEquals(0, w.length());
      byte[] bytes = out.toByteArray();
      assertEquals(total, bytes.length);
      ByteArrayOutputStream raw = new ByteArrayOutputStream();
      try (BufReader r = BufReader.of(ChunkedChannel.fixed(bytes, 3), alloc, Tier.PICO)) {
        for (int i = 0; i < values.length; i++) {
          long mask = widths[i] == 8 ? -1L : (1L << (8 * widths[i])) - 1;
          switch (i % 5) {
            case 0 -> assertEquals(values[i] & mask, r.readBE(widths[i]));
            case 1 -> assertEquals(values[i] & mask, r.readLE(widths[i]));
            case 2 -> assertEquals(values[i], r.readVarint());
            case 3 -> assertEquals(values[i] & 0xff, r.readByte());
            default -> {
              for (int k = 0; k < widths[i] * 9; k++) {
                raw.write(r.readByte());
              }
            }
          }
        }
        assertEquals(0, r.buffered());
      }
      assertArrayEquals(expected.toByteArray(), raw.toByteArray());
    }
  }

  @Test
  void numbersMatchByteBufferEncodings() throws IOException {
    try (BufWriter w = BufWriter.of(alloc)) {
      w.writeBE(0x0102030405060708L, 8).writeLE(0x0102030405060708L, 8);
      w.writeBE(0xabcdL, 2).writeLE(0xabcdL, 2).writeBE(0xdeadbeefL, 4).writeLE(0xdeadbeefL, 4);
      w.writeBE(0x010203L, 3);
      ByteBuffer want = ByteBuffer.allocate(31);
      want.putLong(0x0102030405060708L).order(ByteOrder.LITTLE_ENDIAN).putLong(0x0102030405060708L);
      want.order(ByteOrder.BIG_ENDIAN).putShort((short) 0xabcd).order(ByteOrder.LITTLE_ENDIAN)
          .putShort((short) 0xabcd).order(ByteOrder.BIG_ENDIAN).putInt(0xdeadbeef)
          .order(ByteOrder.LITTLE_ENDIAN).putInt(0xdeadbeef).put(new byte[] {1, 2, 3});
      try (Slice s = w.toSlice()) {
        assertArrayEquals(want.array(), s.toByteArray());
      }
      assertThrows(IllegalArgumentException.class, () -> w.writeBE(1, 0));
      assertThrows(IllegalArgumentException.class, () -> w.writeLE(1, 9));
    }
  }

  @Test
  void varintSizeMatchesEncoding() throws IOException {
    for (long v : new long[] {0, 1, 127, 128, 16_383, 16_384, Long.MAX_VALUE, -1L}) {
      try (BufWriter w = BufWriter.of(alloc, Tier.PICO)) {
        w.writeVarint(v);
        assertEquals(BufWriter.varintSize(v), w.length(), "value " + v);
      }
    }
  }

  @Test
  void slicesAreAppendedByReference() throws IOException {
    byte[] payload = BufReaderContract.randomBytes(300, 2);
    try (BufReader r = BufReader.of(ChunkedChannel.fixed(payload, 300), alloc, Tier.MICRO);
        Slice frame = r.readSlice(300);
        BufWriter w = BufWriter.of(alloc, Tier.PICO)) {
      List<Long> frameAddresses = new ArrayList<>();
      frame.forEachChunk(c -> frameAddresses.add(c.address()));
      w.writeVarint(300).write(frame).writeByte(0x7e).write(frame);
      try (Slice out = w.toSlice()) {
        List<Long> outAddresses = new ArrayList<>();
        out.forEachChunk(c -> outAddresses.add(c.address()));
        assertTrue(outAddresses.containsAll(frameAddresses), "frame chunks are shared, not copied");
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        want.write(0xac);
        want.write(0x02);
        want.writeBytes(payload);
        want.write(0x7e);
        want.writeBytes(payload);
        assertArrayEquals(want.toByteArray(), out.toByteArray());
      }
    }
  }

  @Test
  void sameBlockTwiceInOneGatherAndPartialWritesResume() throws IOException {
    byte[] payload = BufReaderContract.randomBytes(50, 3);
    try (BufReader r = BufReader.of(ChunkedChannel.fixed(payload, 50), alloc, Tier.MICRO);
        Slice frame = r.readSlice(50);
        BufWriter w = BufWriter.of(alloc)) {
      w.write(new byte[] {1, 2, 3}).write(frame).write(new byte[] {4, 5}).write(frame);
      byte[] want;
      try (Slice taken = w.toSlice()) {
        want = taken.toByteArray();
      }
      w.write(new byte[] {1, 2, 3}).write(frame).write(new byte[] {4, 5}).write(frame);
      CollectingChannel ch = new CollectingChannel(7);
      long total = 0;
      for (int round = 0; round < 100 && w.length() > 0; round++) {
        ch.maxPerWrite = round % 3 == 0 ? 0 : 7; // sometimes the socket is full
        total += w.writeTo(ch);
      }
      assertEquals(want.length, total);
      assertArrayEquals(want, ch.toByteArray());
    }
  }

  @Test
  void consecutiveRangesOfOneBlockGoOutAsOneRegion() throws IOException {
    byte[] payload = BufReaderContract.randomBytes(300, 4);
    try (BufReader r = BufReader.of(ChunkedChannel.fixed(payload, 300), alloc, Tier.MICRO);
        Slice all = r.readSlice(300); // one 512 B block
        BufWriter w = BufWriter.of(alloc)) {
      for (int i = 0; i < 6; i++) {
        try (Slice s = all.slice(50 * i, 50)) { // six handles on consecutive ranges
          w.write(s);
        }
      }
      long[] addresses = new long[8];
      int[] lengths = new int[8];
      assertEquals(1, w.nativeRegions(addresses, lengths), "contiguous ranges of a block merge");
      assertEquals(300, lengths[0]);
      w.skip(120);
      assertEquals(180, w.length());
      assertEquals(1, w.nativeRegions(addresses, lengths));
      byte[] rest = new byte[lengths[0]];
      MemorySegment.copy(MemorySegment.ofAddress(addresses[0]).reinterpret(lengths[0]), 0,
          MemorySegment.ofArray(rest), 0, lengths[0]);
      assertArrayEquals(Arrays.copyOfRange(payload, 120, 300), rest);
      w.skip(180);
      assertEquals(0, w.nativeRegions(addresses, lengths));
    }
  }

  @Test
  void partsOfSlicesAreAppendedByReferenceAndDrainedAsBlocks() throws IOException {
    byte[] payload = BufReaderContract.randomBytes(700, 5);
    try (BufReader r = BufReader.of(ChunkedChannel.fixed(payload, 700), alloc, Tier.MICRO);
        Slice frame = r.readSlice(700); // two blocks of 512 B
        BufWriter w = BufWriter.of(alloc)) {
      w.write(frame, 500, 20).write(new byte[] {9}).write(frame, 0, 3);
      assertThrows(IndexOutOfBoundsException.class, () -> w.write(frame, 690, 11));
      Chunks out = new Chunks();
      w.drainTo(out);
      assertEquals(0, w.length());
      ByteArrayOutputStream want = new ByteArrayOutputStream();
      want.write(payload, 500, 20);
      want.write(9);
      want.write(payload, 0, 3);
      assertArrayEquals(want.toByteArray(), out.toByteArray());
      out.release();
      w.write(new byte[] {1, 2}); // the writer goes on after a drain
      assertEquals(2, w.length());
    }
  }

  @Test
  void adoptedBlocksAreReleasedOnceWrittenOrClosed() throws IOException {
    Block b = alloc.allocate(512);
    b.segment().fill((byte) 7);
    try (BufWriter w = BufWriter.of(alloc)) {
      w.adopt(b, 10, 100).adopt(b.retain(), 110, 50); // contiguous: one chunk, one reference
      assertEquals(1, b.refCount());
      CollectingChannel ch = new CollectingChannel(Integer.MAX_VALUE);
      assertEquals(150, w.writeTo(ch));
      byte[] sevens = new byte[150];
      Arrays.fill(sevens, (byte) 7);
      assertArrayEquals(sevens, ch.toByteArray());
    } // released when written: the pool has it back (tearDown checks)
    Block c = alloc.allocate(512);
    BufWriter closed = BufWriter.of(alloc);
    closed.close();
    assertThrows(IllegalStateException.class, () -> closed.adopt(c, 0, 1)); // released anyway
  }

  @Test
  void writeFirstToWritesOnlyTheFirstChunk() throws IOException {
    byte[] payload = BufReaderContract.randomBytes(40, 6);
    try (BufReader r = BufReader.of(ChunkedChannel.fixed(payload, 40), alloc, Tier.MICRO);
        Slice frame = r.readSlice(40);
        BufWriter w = BufWriter.of(alloc)) {
      w.write(frame).write(new byte[] {1, 2, 3});
      CollectingChannel ch = new CollectingChannel(Integer.MAX_VALUE);
      assertEquals(40, w.writeFirstTo(ch));
      assertArrayEquals(payload, ch.toByteArray());
      assertEquals(3, w.writeFirstTo(ch));
      assertEquals(0, w.writeFirstTo(ch));
      assertEquals(0, w.length());
    }
  }

  @Test
  void takenBytesAreNeverOverwritten() throws IOException {
    try (BufWriter w = BufWriter.of(alloc, Tier.PICO)) {
      w.write(new byte[] {1, 2, 3});
      Slice first = w.toSlice();
      w.write(new byte[] {4, 5, 6});
      CollectingChannel ch = new CollectingChannel(Integer.MAX_VALUE);
      w.writeTo(ch);
      w.write(new byte[] {7, 8, 9}); // the block is still held by 'first': must not reuse it
      try (Slice second = w.toSlice()) {
        assertArrayEquals(new byte[] {1, 2, 3}, first.toByteArray());
        assertArrayEquals(new byte[] {7, 8, 9}, second.toByteArray());
      }
      first.close();
    }
  }

  @Test
  void steadyStateReusesOneBlock() throws IOException {
    try (BufWriter w = BufWriter.of(alloc, Tier.MICRO)) {
      CollectingChannel ch = new CollectingChannel(Integer.MAX_VALUE);
      for (int i = 0; i < 1000; i++) {
        w.writeBE(i, 4).writeVarint(i).write(new byte[100]);
        w.writeTo(ch);
        assertEquals(1, alloc.inUse(), "the written-out block is reused, not replaced");
      }
      assertEquals(1000L * (104) + 1000 + 872 /* 2-byte varints from 128 */, ch.toByteArray().length);
    }
  }

  @Test
  void bigCopiesSpanBlocks() throws IOException {
    byte[] big = BufReaderContract.randomBytes(10_000, 4);
    try (BufWriter w = BufWriter.of(alloc, Tier.MICRO)) {
      w.write(big, 10, 9000).write(MemorySegment.ofArray(big).asSlice(9010, 990));
      try (Slice s = w.toSlice()) {
        assertArrayEquals(Arrays.copyOfRange(big, 10, 10_000), s.toByteArray());
      }
      assertThrows(IndexOutOfBoundsException.class, () -> w.write(big, 9999, 2));
      assertEquals(0, w.length());
    }
  }

  @Test
  void closedWriterRejectsEverythingAndReleasesItsBlocks() throws IOException {
    BufWriter w = BufWriter.of(alloc, Tier.PICO);
    w.write(new byte[100]);
    assertTrue(alloc.inUse() >= 3);
    w.close();
    w.close();
    assertEquals(0, alloc.inUse());
    assertThrows(IllegalStateException.class, () -> w.writeByte(1));
    assertThrows(IllegalStateException.class, () -> w.writeBE(1, 2));
    assertThrows(IllegalStateException.class, () -> w.writeVarint(1));
    assertThrows(IllegalStateException.class, () -> w.write(new byte[1]));
    assertThrows(IllegalStateException.class, w::toSlice);
    assertThrows(IllegalStateException.class, w::length);
    assertThrows(IllegalStateException.class, () -> w.writeTo(new CollectingChannel(1)));
    try (Slice s = Slice.empty()) {
      assertThrows(IllegalStateException.class, () -> w.write(s));
    }
  }
}
