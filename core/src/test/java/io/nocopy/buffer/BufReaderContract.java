package io.nocopy.buffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.Tier;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link BufReader} must show whatever the chunking of its source. Subclasses
 * pick the source (1 byte per read, 2 bytes, random sizes, whole buffers) and the block tier.
 */
abstract class BufReaderContract {
  Allocator alloc;

  /** A channel serving exactly {@code data}, chunked the subclass's way. */
  abstract ReadableByteChannel source(byte[] data);

  /** The block tier the reader uses (small tiers put block boundaries everywhere). */
  abstract Tier tier();

  BufReader reader(byte[] data) {
    return BufReader.of(source(data), alloc, tier());
  }

  @BeforeEach
  void createAllocator() {
    alloc = Allocator.builder().maxBytes(32L << 20).build();
  }

  @AfterEach
  void everyBlockCameBack() {
    assertEquals(0, alloc.inUse(), "blocks still in use after the test");
    alloc.close();
  }

  static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void readByteReturnsEveryByteThenEof() throws IOException {
    byte[] data = randomBytes(3000, 1);
    try (BufReader r = reader(data)) {
      for (byte b : data) {
        assertEquals(b & 0xff, r.readByte());
      }
      assertThrows(EOFException.class, r::readByte);
      assertThrows(EOFException.class, r::readByte); // still at the end
    }
  }

  @Test
  void bigAndLittleEndianOfEveryWidth() throws IOException {
    byte[] data = randomBytes(4000, 2);
    ByteBuffer expect = ByteBuffer.wrap(data);
    Random widths = new Random(3);
    try (BufReader r = reader(data)) {
      while (expect.remaining() >= 8) {
        int n = 1 + widths.nextInt(8);
        boolean be = widths.nextBoolean();
        long want = 0;
        byte[] bytes = new byte[n];
        expect.get(bytes);
        for (int i = 0; i < n; i++) {
          int b = bytes[be ? i : n - 1 - i] & 0xff;
          want = (want << 8) | b;
        }
        assertEquals(want, be ? r.readBE(n) : r.readLE(n), "width " + n + (be ? " BE" : " LE"));
      }
    }
  }

  /**
   * Numbers and varints that straddle two blocks. A peek first buffers the bytes so they are laid
   * out from the start of a block, whatever the source chunking.
   */
  @Test
  void valuesStraddlingABlockBoundary() throws IOException {
    int block = (int) tier().size();
    byte[] data = randomBytes(block + 16, 17);
    data[block - 1] = (byte) 0x93; // a varint starting at block - 1 spans the boundary
    data[block] = (byte) 0x05;
    for (int w = 1; w <= 8; w++) {
      for (int off = block - w; off < block; off++) {
        long be = 0;
        long le = 0;
        for (int i = 0; i < w; i++) {
          be = (be << 8) | (data[off + i] & 0xff);
          le = (le << 8) | (data[off + w - 1 - i] & 0xff);
        }
        try (BufReader r = reader(data)) {
          r.peek(off + w, c -> {});
          r.skip(off);
          assertEquals(be, r.readBE(w), "BE width " + w + " at " + off);
        }
        try (BufReader r = reader(data)) {
          r.peek(off + w, c -> {});
          r.skip(off);
          assertEquals(le, r.readLE(w), "LE width " + w + " at " + off);
        }
      }
    }
    try (BufReader r = reader(data)) {
      r.peek(block + 1, c -> {});
      r.skip(block - 1);
      assertEquals(0x13 | (5 << 7), r.readVarint());
    }
  }

  @Test
  void widthOutsideOneToEightIsRejected() throws IOException {
    try (BufReader r = reader(randomBytes(20, 4))) {
      for (int n : new int[] {-1, 0, 9, 64}) {
        assertThrows(IllegalArgumentException.class, () -> r.readBE(n));
        assertThrows(IllegalArgumentException.class, () -> r.readLE(n));
      }
      assertEquals(20, drain(r).length, "a rejected width consumes nothing");
    }
  }

  @Test
  void failedFixedReadAtEndConsumesNothing() throws IOException {
    byte[] data = {10, 20, 30};
    try (BufReader r = reader(data)) {
      EOFException e = assertThrows(EOFException.class, () -> r.readBE(4));
      assertTrue(e.getMessage().contains("3 of 4"), e.getMessage());
      assertThrows(EOFException.class, () -> r.readLE(8));
      assertEquals(3, r.buffered());
      assertEquals(10, r.readByte());
      assertEquals((20 << 8) | 30, r.readBE(2));
      assertThrows(EOFException.class, r::readByte);
    }
  }

  @Test
  void skipThenReadAndSkipPastEnd() throws IOException {
    byte[] data = randomBytes(5000, 5);
    try (BufReader r = reader(data)) {
      r.skip(0);
      r.skip(1234);
      assertEquals(data[1234] & 0xff, r.readByte());
      r.skip(3000);
      assertEquals(data[4235] & 0xff, r.readByte());
      assertThrows(IllegalArgumentException.class, () -> r.skip(-1));
      EOFException e = assertThrows(EOFException.class, () -> r.skip(1000));
      assertTrue(e.getMessage().contains("after 764 bytes"), e.getMessage());
      assertThrows(EOFException.class, r::readByte);
    }
  }

  static byte[] varints(long... values) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (long v : values) {
      while ((v & ~0x7fL) != 0) {
        out.write((int) ((v & 0x7f) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }
    return out.toByteArray();
  }

  @Test
  void varintsRoundTrip() throws IOException {
    long[] values = {0, 1, 127, 128, 300, 16_383, 16_384, 1L << 35, Long.MAX_VALUE, -1L, 1L << 63};
    try (BufReader r = reader(varints(values))) {
      for (long v : values) {
        assertEquals(v, r.readVarint());
      }
      assertThrows(EOFException.class, r::readVarint);
    }
  }

  @Test
  void overlongVarintIsAProtocolErrorAndConsumesNothing() throws IOException {
    byte[] eleven = new byte[12];
    java.util.Arrays.fill(eleven, 0, 11, (byte) 0x80);
    try (BufReader r = reader(eleven)) {
      assertThrows(ProtocolException.class, r::readVarint);
      assertEquals(0x80, r.readByte(), "nothing was consumed");
    }
    byte[] overflow = varints(-1L);
    overflow[9] = 0x02; // the 10th byte may only carry bit 63
    try (BufReader r = reader(overflow)) {
      assertThrows(ProtocolException.class, r::readVarint);
      assertEquals(10, r.buffered());
    }
  }

  @Test
  void varintCutByEndOfStreamConsumesNothing() throws IOException {
    try (BufReader r = reader(new byte[] {(byte) 0x80, (byte) 0x81})) {
      EOFException e = assertThrows(EOFException.class, r::readVarint);
      assertTrue(e.getMessage().contains("after 2 bytes"), e.getMessage());
      assertEquals(0x80, r.readByte());
    }
  }

  @Test
  void linesEndedByLfOrCrLf() throws IOException {
    String text = "GET / HTTP/1.1\r\nHost: x\n\r\nlast line é\n";
    try (BufReader r = reader(text.getBytes(StandardCharsets.UTF_8))) {
      assertEquals("GET / HTTP/1.1", r.readLine(100));
      assertEquals("Host: x", r.readLine(7));
      assertEquals("", r.readLine(0));
      assertEquals("last line é", r.readLine(12));
      assertNull(r.readLine(100));
    }
  }

  @Test
  void lineOverTheLimitBuffersNoMoreThanTheLimit() throws IOException {
    byte[] data = ("0123456789\n" + "x".repeat(5000) + "\n").getBytes(StandardCharsets.US_ASCII);
    try (BufReader r = reader(data)) {
      assertThrows(ProtocolException.class, () -> r.readLine(9));
      assertTrue(r.buffered() <= 11, "buffered " + r.buffered() + " > limit + 2");
      assertEquals("0123456789", r.readLine(10), "nothing consumed by the failure");
      ProtocolException e = assertThrows(ProtocolException.class, () -> r.readLine(100));
      assertTrue(r.buffered() <= 102, "buffered " + r.buffered() + " > limit + 2: " + e);
      r.skip(5000);
      assertEquals("", r.readLine(0));
    }
  }

  @Test
  void lineCutByEndOfStream() throws IOException {
    try (BufReader r = reader("abc".getBytes(StandardCharsets.US_ASCII))) {
      assertThrows(EOFException.class, () -> r.readLine(10));
      assertEquals('a', r.readByte());
    }
  }

  @Test
  void readRangeDeliversEveryByteInBoundedChunks() throws IOException {
    byte[] data = randomBytes(100_000, 6);
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    long[] maxInUse = {0};
    try (BufReader r = reader(data)) {
      r.readRange(
          70_000,
          chunk -> {
            assertTrue(chunk.byteSize() > 0 && chunk.byteSize() <= tier().size());
            got.writeBytes(chunk.toArray(ValueLayout.JAVA_BYTE));
            maxInUse[0] = Math.max(maxInUse[0], alloc.inUse());
          });
      r.readRange(0, chunk -> got.write(-1));
      r.readRange(30_000, chunk -> got.writeBytes(chunk.toArray(ValueLayout.JAVA_BYTE)));
      assertArrayEquals(data, got.toByteArray());
      assertTrue(maxInUse[0] <= 1, "readRange held " + maxInUse[0] + " blocks, not one");
    }
  }

  @Test
  void streamingCallsKeepNoDrainedBlockAndNeverRefillASlicedOne() throws IOException {
    byte[] data = randomBytes(60_000, 12);
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    Random sizes = new Random(13);
    try (BufReader r = reader(data)) {
      int at = 0;
      while (at < 50_000) {
        // a slice pins the block under the reader's position while a range streams past it
        Slice held = r.readSlice(1 + sizes.nextInt(50));
        int range = 1 + sizes.nextInt(3000);
        r.readRange(range, c -> got.writeBytes(c.toArray(ValueLayout.JAVA_BYTE)));
        assertArrayEquals(
            java.util.Arrays.copyOfRange(data, at, at + (int) held.length()), held.toByteArray(),
            "a block a slice holds is never read into again");
        at += (int) held.length();
        assertArrayEquals(
            java.util.Arrays.copyOfRange(data, at, at + range), got.toByteArray(), "range bytes");
        at += range;
        got.reset();
        held.close();
        if (sizes.nextBoolean()) {
          int skip = sizes.nextInt(2000);
          r.skip(skip);
          at += skip;
        }
        if (r.buffered() == 0) {
          assertEquals(0, alloc.inUse(), "a drained block outlived the call that drained it");
        }
      }
      r.readRange(data.length - at, c -> got.writeBytes(c.toArray(ValueLayout.JAVA_BYTE)));
      assertArrayEquals(java.util.Arrays.copyOfRange(data, at, data.length), got.toByteArray());
      assertEquals(0, r.buffered());
      assertEquals(0, alloc.inUse(), "every drained block went back when the last range ended");
    }
  }

  @Test
  void readRangePastEndSaysHowMuchWasDelivered() throws IOException {
    byte[] data = randomBytes(1000, 7);
    long[] seen = {0};
    try (BufReader r = reader(data)) {
      r.skip(100);
      EOFException e =
          assertThrows(EOFException.class, () -> r.readRange(5000, c -> seen[0] += c.byteSize()));
      assertTrue(e.getMessage().contains("after 900 bytes"), e.getMessage());
      assertEquals(900, seen[0]);
      assertThrows(IllegalArgumentException.class, () -> r.readRange(-1, c -> {}));
    }
  }

  @Test
  void consumerExceptionPropagatesAndLeavesTheChunkUnconsumed() throws IOException {
    byte[] data = randomBytes(10, 8);
    try (BufReader r = reader(data)) {
      IOException boom = new IOException("boom");
      assertEquals(boom, assertThrows(IOException.class, () -> r.readRange(1, c -> {
        throw boom;
      })));
      assertEquals(data[0] & 0xff, r.readByte());
    }
  }

  @Test
  void slicesHoldTheirBytesAcrossReadsAndClose() throws IOException {
    byte[] data = randomBytes(60_000, 9);
    List<Slice> slices = new ArrayList<>();
    int[] sizes = {1, 7, 1000, 20_000, 3, 38_989};
    BufReader r = reader(data);
    for (int s : sizes) {
      slices.add(r.readSlice(s));
    }
    assertThrows(EOFException.class, () -> r.readSlice(2));
    try (Slice empty = r.readSlice(0)) {
      assertEquals(0, empty.length());
    }
    r.close();
    int at = 0;
    for (Slice s : slices) {
      assertArrayEquals(java.util.Arrays.copyOfRange(data, at, at + (int) s.length()), s.toByteArray());
      at += (int) s.length();
    }
    assertEquals(data.length, at);
    assertTrue(alloc.inUse() > 0, "slices keep their blocks after the reader closed");
    for (Slice s : slices) {
      s.close();
    }
  }

  @Test
  void readSliceUpToReturnsWhatArrivedWithoutWaitingForMore() throws IOException {
    byte[] data = randomBytes(20_000, 11);
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    List<Slice> held = new ArrayList<>();
    try (BufReader r = reader(data)) {
      assertThrows(IllegalArgumentException.class, () -> r.readSliceUpTo(0));
      for (Slice s; (s = r.readSliceUpTo(777)) != null; ) {
        assertTrue(s.length() >= 1 && s.length() <= 777, "length " + s.length());
        held.add(s);
      }
      assertNull(r.readSliceUpTo(10), "still at the end");
    }
    for (Slice s : held) { // the slices outlive the reader
      got.writeBytes(s.toByteArray());
      s.close();
    }
    assertArrayEquals(data, got.toByteArray());
  }

  @Test
  void readBlocksUpToPassesWhatArrivedAsReferences() throws IOException {
    byte[] data = randomBytes(20_000, 12);
    Chunks held = new Chunks();
    try (BufReader r = reader(data)) {
      assertThrows(IllegalArgumentException.class, () -> r.readBlocksUpTo(0, held));
      for (long n; (n = r.readBlocksUpTo(777, held)) >= 0; ) {
        assertTrue(n >= 1 && n <= 777, "length " + n);
      }
      assertEquals(-1, r.readBlocksUpTo(10, held), "still at the end");
    }
    assertArrayEquals(data, held.toByteArray(), "the references outlive the reader");
    held.release();
  }

  @Test
  void readSliceAtEndConsumesNothing() throws IOException {
    byte[] data = randomBytes(300, 10);
    try (BufReader r = reader(data)) {
      assertThrows(EOFException.class, () -> r.readSlice(301));
      assertThrows(IllegalArgumentException.class, () -> r.readSlice(-1));
      try (Slice s = r.readSlice(300)) {
        assertArrayEquals(data, s.toByteArray());
      }
    }
  }

  @Test
  void sliceWritesWithGatheringWritesAndResumes() throws IOException {
    byte[] data = randomBytes(20_000, 11);
    try (BufReader r = reader(data); Slice s = r.readSlice(data.length)) {
      CollectingChannel all = new CollectingChannel(Integer.MAX_VALUE);
      assertEquals(data.length, s.writeTo(all));
      assertArrayEquals(data, all.toByteArray());
      assertEquals(1, all.gatherCalls, "one writev for the whole slice");

      CollectingChannel slow = new CollectingChannel(777);
      long position = 0;
      while (position < data.length) {
        slow.maxPerWrite = 0; // a full socket: nothing accepted, nothing lost
        assertEquals(0, s.writeTo(slow, position));
        slow.maxPerWrite = 777;
        position += s.writeTo(slow, position);
        slow.maxPerWrite = 0;
      }
      assertArrayEquals(data, slow.toByteArray());
      assertThrows(IndexOutOfBoundsException.class, () -> s.writeTo(slow, data.length + 1));
    }
  }

  @Test
  void peekShowsTheBytesWithoutConsumingThem() throws IOException {
    byte[] data = randomBytes(3000, 12);
    try (BufReader r = reader(data)) {
      r.skip(5);
      ByteArrayOutputStream peeked = new ByteArrayOutputStream();
      r.peek(2000, c -> peeked.writeBytes(c.toArray(ValueLayout.JAVA_BYTE)));
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 5, 2005), peeked.toByteArray());
      assertTrue(r.buffered() >= 2000);
      assertEquals(data[5] & 0xff, r.readByte());
      assertThrows(EOFException.class, () -> r.peek(3000, c -> {}));
      assertEquals(2994, r.buffered(), "a failed peek keeps what it buffered");
    }
  }

  @Test
  void streamViewReadsEverything() throws IOException {
    byte[] data = randomBytes(10_000, 13);
    BufReader r = reader(data);
    try (InputStream in = r.asInputStream()) {
      assertEquals(data[0] & 0xff, in.read());
      assertEquals(r.buffered(), in.available());
      long skipped = in.skip(10);
      assertTrue(skipped >= 1 && skipped <= 10, "skipped " + skipped);
      in.skipNBytes(10 - skipped);
      byte[] rest = in.readAllBytes();
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 11, data.length), rest);
      assertEquals(0, in.skip(5));
      assertEquals(0, in.available());
      assertEquals(-1, in.read());
      assertEquals(-1, in.read(new byte[4], 0, 4));
    }
    assertThrows(IllegalStateException.class, r::readByte, "closing the stream closed the reader");
  }

  @Test
  void everyCallAfterCloseThrows() throws IOException {
    BufReader r = reader(randomBytes(100, 14));
    r.readByte();
    r.close();
    r.close(); // idempotent
    assertThrows(IllegalStateException.class, r::readByte);
    assertThrows(IllegalStateException.class, () -> r.readBE(2));
    assertThrows(IllegalStateException.class, () -> r.readLE(2));
    assertThrows(IllegalStateException.class, () -> r.skip(1));
    assertThrows(IllegalStateException.class, r::readVarint);
    assertThrows(IllegalStateException.class, () -> r.readLine(10));
    assertThrows(IllegalStateException.class, () -> r.readRange(1, c -> {}));
    assertThrows(IllegalStateException.class, () -> r.readSlice(1));
    assertThrows(IllegalStateException.class, () -> r.peek(1, c -> {}));
    assertThrows(IllegalStateException.class, r::buffered);
    assertThrows(IllegalStateException.class, r::asInputStream);
  }

  @Test
  void callingTheReaderFromItsOwnConsumerIsRejected() throws IOException {
    try (BufReader r = reader(randomBytes(100, 15))) {
      assertThrows(IllegalStateException.class, () -> r.readRange(10, c -> r.readByte()));
      assertThrows(IllegalStateException.class, () -> r.peek(10, c -> r.close()));
      assertEquals(100, drain(r).length, "a rejected call inside a callback consumes nothing");
    }
  }

  static byte[] drain(BufReader r) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (true) {
      try {
        out.write(r.readByte());
      } catch (EOFException e) {
        return out.toByteArray();
      }
    }
  }

  /** Whatever the source chunking, a source that stops making progress fails, boundedly. */
  @Test
  void stalledSourceFailsInsteadOfSpinning() {
    ChunkedChannel stalled = ChunkedChannel.stalled();
    try (BufReader r = BufReader.of(stalled, alloc, tier())) {
      IOException e = assertThrows(IOException.class, r::readByte);
      assertTrue(e.getMessage().contains("0 bytes"), e.getMessage());
      assertEquals(BufReader.MAX_ZERO_READS, stalled.reads);
    }
  }

  @Test
  void inputStreamAdapterReadsTheSameBytes() throws IOException {
    byte[] data = randomBytes(20_000, 16);
    try (BufReader r =
        BufReader.of(new java.io.ByteArrayInputStream(data), alloc, tier())) {
      assertEquals(data[0] & 0xff, r.readByte());
      try (Slice s = r.readSlice(data.length - 1)) {
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 1, data.length), s.toByteArray());
      }
    }
  }
}
