package io.nocopy.buffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import io.nocopy.memory.Tier;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Large reads from the tier that fits ({@link BufReader#of(ReadableByteChannel, Allocator, Tier,
 * Tier)}) and the zero-allocation {@link BufReader#readBlocks}: which blocks a message lands in,
 * for every source chunking, and that every reference comes back. The {@link BufReaderContract}
 * also runs against readers with a maximum tier, so the large-read path keeps every contract.
 */
class BufReaderLargeReadsTest {
  static final int HEADER = 10;
  static final int TRAILER = 100;
  static final int BIG = (int) Tier.BIG.size();
  static final int GREAT = (int) Tier.GREAT.size();

  Allocator alloc;

  @BeforeEach
  void createAllocator() {
    alloc = Allocator.builder().maxBytes(64L << 20).build();
  }

  @AfterEach
  void everyBlockCameBack() {
    assertEquals(0, alloc.inUse(), "blocks still in use after the test");
    alloc.close();
  }

  /** HEADER bytes, a message of n, TRAILER bytes; byte i of the stream is (i * 31 + 7). */
  static byte[] stream(int n) {
    byte[] b = new byte[HEADER + n + TRAILER];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (i * 31 + 7);
    }
    return b;
  }

  static ReadableByteChannel source(String kind, byte[] data) {
    return switch (kind) {
      case "1-byte" -> ChunkedChannel.fixed(data, 1);
      case "2-byte" -> ChunkedChannel.fixed(data, 2);
      case "random" -> ChunkedChannel.random(data, 7, 1, 70_000);
      case "whole" -> ChunkedChannel.fixed(data, Integer.MAX_VALUE);
      default -> throw new IllegalArgumentException(kind);
    };
  }

  /**
   * The expected chunks (length, tier) of a message of n bytes read after a HEADER-byte header by a
   * reader of 32 KiB blocks and a {@code max} maximum tier. The layout depends on the source only
   * through one thing: whether the header arrived in a read that brought message bytes too (then
   * the rest of that block is the first chunk) or alone (1- and 2-byte reads: the header's block is
   * consumed and dropped). After that a block is always filled to its end or its limit before the
   * next is taken, whatever the read sizes.
   */
  static List<String> expected(int n, Tier max, boolean headerBlockStays) {
    List<String> out = new ArrayList<>();
    long rem = n;
    if (headerBlockStays) {
      int inFirst = Math.min(n, BIG - HEADER);
      out.add(inFirst + "@BIG");
      rem -= inFirst;
    }
    while (rem > 0) {
      if (rem <= BIG) { // the rest from an ordinary block
        out.add(rem + "@BIG");
        break;
      }
      long fit = Tier.forSize(Math.min(rem, max.size())).size();
      long piece = 2 * rem >= fit ? fit : fit / 4;
      long take = Math.min(piece, rem);
      out.add(take + "@" + Tier.forSize(piece));
      rem -= take;
    }
    return out;
  }

  static List<String> expected(int n, String src) {
    return expected(n, Tier.GREAT, !src.endsWith("-byte"));
  }

  static Stream<Arguments> cases() {
    List<Arguments> a = new ArrayList<>();
    for (String src : List.of("1-byte", "2-byte", "random", "whole")) {
      for (int n : new int[] {64, 1024, 64 << 10, 1 << 20, 4 << 20}) {
        if (src.equals("1-byte") && n > (1 << 20)) {
          continue; // 4 Mi single-byte reads add nothing the 2-byte source does not show
        }
        a.add(Arguments.of(src, n));
      }
    }
    return a.stream();
  }

  @ParameterizedTest(name = "{1} bytes, {0} reads")
  @MethodSource("cases")
  void readBlocksTakesTheTierThatFits(String src, int n) throws IOException {
    byte[] data = stream(n);
    List<Block> blocks = new ArrayList<>();
    List<String> chunks = new ArrayList<>();
    ByteCheck check = new ByteCheck(data, HEADER);
    try (BufReader r = BufReader.of(source(src, data), alloc, Tier.BIG, Tier.GREAT)) {
      assertEquals(java.nio.ByteBuffer.wrap(data).getLong(0), r.readBE(8));
      assertEquals(java.nio.ByteBuffer.wrap(data).getShort(8) & 0xffff, r.readBE(2));
      r.readBlocks(n, (block, offset, length) -> {
        blocks.add(block);
        chunks.add(length + "@" + block.tier());
        check.accept(block.segment().asSlice(offset, length));
      });
      assertEquals(expected(n, src), chunks);
      assertEquals(n, check.seen);
      // the trailer goes to a block of the reader's own tier, not into the message's big blocks
      long greatHeld = blocks.stream().filter(b -> b.tier() == Tier.GREAT).count();
      assertEquals(greatHeld, alloc.pool(Tier.GREAT).stats().inUse());
      for (Block b : blocks) {
        b.release();
      }
      assertEquals(0, alloc.pool(Tier.GREAT).stats().inUse(), "nothing else pins a big block");
      byte[] trailer = new byte[TRAILER];
      for (int i = 0; i < TRAILER; i++) {
        trailer[i] = (byte) r.readByte();
      }
      assertArrayEquals(java.util.Arrays.copyOfRange(data, HEADER + n, data.length), trailer);
      assertThrows(EOFException.class, r::readByte);
    }
  }

  @ParameterizedTest(name = "{1} bytes, {0} reads")
  @MethodSource("cases")
  void readSliceTakesTheTierThatFits(String src, int n) throws IOException {
    byte[] data = stream(n);
    try (BufReader r = BufReader.of(source(src, data), alloc, Tier.BIG, Tier.GREAT)) {
      r.skip(HEADER);
      try (Slice s = r.readSlice(n)) {
        List<String> chunks = new ArrayList<>();
        s.forEachChunk(c -> chunks.add(String.valueOf(c.byteSize())));
        assertEquals(
            expected(n, src).stream().map(e -> e.substring(0, e.indexOf('@'))).toList(), chunks);
        long greats = expected(n, src).stream().filter(e -> e.endsWith("@GREAT")).count();
        assertEquals(greats, alloc.pool(Tier.GREAT).stats().inUse());
        assertArrayEquals(java.util.Arrays.copyOfRange(data, HEADER, HEADER + n), s.toByteArray());
        assertEquals(data[HEADER + n] & 0xff, r.readByte());
        assertEquals(greats, alloc.pool(Tier.GREAT).stats().inUse(), "only the slice holds them");
      }
      assertEquals(0, alloc.pool(Tier.GREAT).stats().inUse());
      r.skip(TRAILER - 1);
    }
  }

  @Test
  void expectedLayoutsAreTheDocumentedOnes() {
    // the class comment's example, spelled out: 1 MiB = header block rest + 512 KiB + <512 KiB
    assertEquals(List.of((BIG - HEADER) + "@BIG", GREAT + "@GREAT",
        (GREAT - BIG + HEADER) + "@GREAT"), expected(1 << 20, "whole"));
    assertEquals(9, expected(4 << 20, "whole").size());
    // a header read alone: 1 MiB is two 512 KiB blocks, 64 KiB one 128 KiB block (half used)
    assertEquals(List.of(GREAT + "@GREAT", GREAT + "@GREAT"), expected(1 << 20, "1-byte"));
    assertEquals(List.of((64 << 10) + "@LARGE"), expected(64 << 10, "1-byte"));
    // 64 KiB after a full header block: the remainder (~32 KiB) fills no bigger block half
    assertEquals(List.of((BIG - HEADER) + "@BIG", BIG + "@BIG", HEADER + "@BIG"),
        expected(64 << 10, "whole"));
    assertEquals(List.of("64@BIG"), expected(64, "whole"));
  }

  @Test
  void aRemainderBetweenTiersTakesTheTierBelowThenTheSmallestThatHoldsIt() throws IOException {
    int first = BIG - HEADER;
    // remainder 300 KiB: the smallest tier holding it (512 KiB) is more than half used
    assertLayout(Tier.HUGE, first + (300 << 10), List.of("BIG", "GREAT"));
    // remainder 150 KiB: 512 KiB would be less than half used: 128 KiB, then 22 KiB ordinary
    assertLayout(Tier.HUGE, first + (150 << 10), List.of("BIG", "LARGE", "BIG"));
    // remainder 3 MiB - 100 KiB with a 2 MiB maximum: 2 MiB (capped), then 924 KiB is less than
    // half of 2 MiB: 512 KiB, then 412 KiB is more than half of 512 KiB: one block
    assertLayout(Tier.HUGE, first + (3 << 20) - (100 << 10),
        List.of("BIG", "HUGE", "GREAT", "GREAT"));
    // exactly half a block is enough: remainder 3 MiB = 2 MiB + a 2 MiB block holding 1 MiB
    assertLayout(Tier.HUGE, first + (3 << 20), List.of("BIG", "HUGE", "HUGE"));
    // no maximum above the block tier: every block is ordinary
    assertLayout(Tier.BIG, 100 << 10, List.of("BIG", "BIG", "BIG", "BIG"));
  }

  private void assertLayout(Tier max, int n, List<String> tiers) throws IOException {
    byte[] data = stream(n);
    List<String> got = new ArrayList<>();
    ByteCheck check = new ByteCheck(data, HEADER);
    try (BufReader r = BufReader.of(source("whole", data), alloc, Tier.BIG, max)) {
      r.skip(HEADER);
      r.readBlocks(n, (b, off, len) -> {
        got.add(b.tier().name());
        check.accept(b.segment().asSlice(off, len));
        b.release();
      });
      assertEquals(n, check.seen);
      r.skip(TRAILER);
    }
    assertEquals(tiers, got, n + " bytes with maximum " + max);
  }

  @Test
  void maximumBelowTheBlockTierIsRejected() {
    assertThrows(IllegalArgumentException.class,
        () -> BufReader.of(source("whole", new byte[1]), alloc, Tier.BIG, Tier.MEDIUM));
  }

  @Test
  void readBlocksPassesOneReferencePerChunkAndConsumes() throws IOException {
    byte[] data = new Random(5).ints(5000, 0, 256).collect(
        java.io.ByteArrayOutputStream::new, (o, v) -> o.write(v), (x, y) -> {}).toByteArray();
    List<long[]> seen = new ArrayList<>();
    List<Block> refs = new ArrayList<>();
    try (BufReader r = BufReader.of(ChunkedChannel.random(data, 3, 1, 300), alloc, Tier.MICRO)) {
      r.readBlocks(0, (b, o, l) -> {
        throw new AssertionError("no call for 0 bytes");
      });
      int at = 0;
      Random sizes = new Random(9);
      while (at < data.length - 600) {
        int n = 1 + sizes.nextInt(600);
        int start = at;
        ByteCheck check = new ByteCheck(data, start);
        r.readBlocks(n, (b, o, l) -> {
          refs.add(b);
          seen.add(new long[] {b.refCount()});
          check.accept(b.segment().asSlice(o, l));
        });
        assertEquals(n, check.seen);
        at += n;
        assertEquals(data[at] & 0xff, r.readByte(), "the next byte follows the blocks read");
        at++;
      }
      assertTrue(seen.stream().allMatch(c -> c[0] >= 1));
      // the references outlive the reader
      r.close();
      for (Block b : refs) {
        b.release();
      }
    }
  }

  @Test
  void readBlocksAtEndConsumesNothingAndCallsNothing() throws IOException {
    byte[] data = stream(0);
    try (BufReader r = BufReader.of(ChunkedChannel.fixed(data, 7), alloc, Tier.PICO, Tier.SMALL)) {
      assertThrows(EOFException.class, () -> r.readBlocks(data.length + 1, (b, o, l) -> {
        throw new AssertionError("called before the end was found");
      }));
      r.readBlocks(data.length, new ByteCheck(data, 0));
      assertThrows(IllegalArgumentException.class, () -> r.readBlocks(-1, (b, o, l) -> {}));
    }
  }

  @Test
  void consumerThatThrowsOwnsWhatItGotAndTheBytesAreConsumed() throws IOException {
    byte[] data = stream(3000);
    List<Block> got = new ArrayList<>();
    RuntimeException boom = new RuntimeException("boom");
    try (BufReader r = BufReader.of(ChunkedChannel.fixed(data, 100), alloc, Tier.MICRO)) {
      RuntimeException e = assertThrows(RuntimeException.class, () -> r.readBlocks(2000,
          (b, o, l) -> {
            got.add(b);
            if (got.size() == 2) {
              throw boom;
            }
          }));
      assertSame(boom, e);
      assertEquals(2, got.size());
      assertEquals(data[2000] & 0xff, r.readByte());
      // calling the reader from its consumer is refused, and the reference still passes
      assertThrows(IllegalStateException.class,
          () -> r.readBlocks(10, (b, o, l) -> {
            got.add(b);
            try {
              r.readByte();
            } catch (IOException x) {
              throw new AssertionError(x);
            }
          }));
    }
    for (Block b : got) {
      b.release();
    }
  }

  @Test
  void sliceOfChunksTakesOverTheReferences() throws IOException {
    byte[] data = stream(5000);
    Chunks chunks = new Chunks();
    try (BufReader r = BufReader.of(ChunkedChannel.fixed(data, 333), alloc, Tier.NANO)) {
      r.readBlocks(data.length, chunks);
    }
    int n = chunks.count();
    assertTrue(n > 2);
    assertEquals(data.length, chunks.length());
    Slice s = Slice.of(chunks, n);
    assertTrue(chunks.isEmpty(), "the chunks moved into the slice");
    assertEquals(0, chunks.length());
    assertTrue(alloc.inUse() > 0);
    try (Slice part = s.slice(1, 4998)) {
      s.close();
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 1, 4999), part.toByteArray());
    }
    assertEquals(0, alloc.inUse());
    assertThrows(IllegalStateException.class, s::length, "the handle's own misuse checks");
    Block b = alloc.allocate(64);
    chunks.accept(b, 4, 8);
    assertThrows(IndexOutOfBoundsException.class, () -> Slice.of(chunks, 2));
    try (Slice one = Slice.of(chunks, 1)) {
      assertEquals(8, one.length());
      assertTrue(chunks.isEmpty());
    }
    assertEquals(0, alloc.inUse());
    try (Slice none = Slice.of(chunks, 0)) {
      assertEquals(0, none.length());
    }
  }

  /** Checks chunks against data from a start index, in order. */
  static final class ByteCheck implements BlockConsumer {
    final byte[] data;
    final int start;
    int seen;

    ByteCheck(byte[] data, int start) {
      this.data = data;
      this.start = start;
    }

    void accept(MemorySegment chunk) {
      for (long i = 0; i < chunk.byteSize(); i++) {
        if (chunk.get(ValueLayout.JAVA_BYTE, i) != data[start + seen]) {
          throw new AssertionError("byte " + (start + seen) + " differs");
        }
        seen++;
      }
    }

    @Override
    public void accept(Block block, int offset, int length) {
      accept(block.segment().asSlice(offset, length));
      block.release();
    }
  }

  // --- the whole contract again, through readers with a maximum tier above their block tier ----

  @Nested
  class TieredOneBytePerRead extends BufReaderContract {
    @Override
    ReadableByteChannel source(byte[] data) {
      return ChunkedChannel.fixed(data, 1);
    }

    @Override
    Tier tier() {
      return Tier.PICO;
    }

    @Override
    BufReader reader(byte[] data) {
      return BufReader.of(source(data), alloc, tier(), Tier.SMALL);
    }
  }

  @Nested
  class TieredTwoBytesPerRead extends BufReaderContract {
    @Override
    ReadableByteChannel source(byte[] data) {
      return ChunkedChannel.fixed(data, 2);
    }

    @Override
    Tier tier() {
      return Tier.NANO;
    }

    @Override
    BufReader reader(byte[] data) {
      return BufReader.of(source(data), alloc, tier(), Tier.MEDIUM);
    }
  }

  @Nested
  class TieredRandomSizesPerRead extends BufReaderContract {
    private long seed = 77;

    @Override
    ReadableByteChannel source(byte[] data) {
      return ChunkedChannel.random(data, seed++, 1, 4096);
    }

    @Override
    Tier tier() {
      return Tier.PICO;
    }

    @Override
    BufReader reader(byte[] data) {
      return BufReader.of(source(data), alloc, tier(), Tier.BIG);
    }
  }

  @Nested
  class TieredWholeBufferPerRead extends BufReaderContract {
    @Override
    ReadableByteChannel source(byte[] data) {
      return ChunkedChannel.fixed(data, Integer.MAX_VALUE);
    }

    @Override
    Tier tier() {
      return Tier.MICRO;
    }

    @Override
    BufReader reader(byte[] data) {
      return BufReader.of(source(data), alloc, tier(), Tier.GREAT);
    }
  }
}
