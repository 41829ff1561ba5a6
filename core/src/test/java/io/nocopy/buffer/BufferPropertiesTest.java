package io.nocopy.buffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.Tier;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Properties of the buffer layer checked against a trivial model (a byte array and a cursor): any
 * sequence of reader operations over any chunking of the source, with any block size, returns
 * exactly the source bytes, fails exactly where the model fails and consumes what the model
 * consumes; slices keep their bytes after the reader is closed; and every block comes back.
 */
class BufferPropertiesTest {
  /** One reader operation: {@code kind} picks the method, {@code arg} its size argument. */
  record Op(int kind, int arg) {}

  static final int OPS = 10;

  @Provide
  Arbitrary<byte[]> data() {
    // mostly random bytes, sometimes text with line ends so readLine has lines to find
    Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMinSize(200).ofMaxSize(12_000);
    Arbitrary<byte[]> text =
        Arbitraries.strings().withChars("ab\r\n\u0080").ofMinLength(100).ofMaxLength(3000)
            .map(s -> s.getBytes(StandardCharsets.ISO_8859_1));
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(3, random), net.jqwik.api.Tuple.of(1, text));
  }

  @Provide
  Arbitrary<List<Integer>> chunking() {
    Arbitrary<Integer> small = Arbitraries.integers().between(1, 8);
    Arbitrary<Integer> any = Arbitraries.integers().between(1, 4096);
    return Arbitraries.oneOf(small, any).list().ofMinSize(1).ofMaxSize(20);
  }

  @Provide
  Arbitrary<Tier> tiers() {
    return Arbitraries.of(Tier.PICO, Tier.NANO, Tier.MICRO, Tier.MEDIUM, Tier.BIG);
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Integer> arg =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(0, 12)),
            net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 2000)));
    return Combinators.combine(Arbitraries.integers().between(0, OPS - 1), arg)
        .as(Op::new)
        .list()
        .ofMinSize(10).ofMaxSize(80);
  }

  static ChunkedChannel source(byte[] data, List<Integer> chunking) {
    int[] i = {0};
    return new ChunkedChannel(data, () -> chunking.get(i[0]++ % chunking.size()));
  }

  @Property(tries = 250)
  void anyOperationsOverAnyChunkingMatchTheModel(
      @ForAll("data") byte[] data,
      @ForAll("chunking") List<Integer> chunking,
      @ForAll("tiers") Tier tier,
      @ForAll("ops") List<Op> ops)
      throws IOException {
    List<Slice> kept = new ArrayList<>();
    List<byte[]> keptWant = new ArrayList<>();
    try (Allocator alloc = Allocator.builder().maxBytes(16L << 20).build()) {
      BufReader r = BufReader.of(source(data, chunking), alloc, tier);
      int pos = 0; // the model
      for (Op op : ops) {
        int left = data.length - pos;
        int n = op.arg();
        switch (op.kind()) {
          case 0 -> { // readByte
            if (left >= 1) {
              assertEquals(data[pos++] & 0xff, r.readByte());
            } else {
              assertThrows(EOFException.class, r::readByte);
            }
          }
          case 1, 2 -> { // readBE / readLE
            int w = 1 + n % 8;
            boolean be = op.kind() == 1;
            if (left >= w) {
              long want = 0;
              for (int i = 0; i < w; i++) {
                want = (want << 8) | (data[pos + (be ? i : w - 1 - i)] & 0xff);
              }
              assertEquals(want, be ? r.readBE(w) : r.readLE(w));
              pos += w;
            } else {
              assertThrows(EOFException.class, () -> {
                if (be) {
                  r.readBE(w);
                } else {
                  r.readLE(w);
                }
              });
            }
          }
          case 3 -> { // skip: streaming, consumes what it skipped
            if (left >= n) {
              r.skip(n);
              pos += n;
            } else {
              assertThrows(EOFException.class, () -> r.skip(n));
              pos = data.length;
            }
          }
          case 4 -> { // readRange: streaming
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ChunkConsumer c = chunk -> got.writeBytes(chunk.toArray(ValueLayout.JAVA_BYTE));
            if (left >= n) {
              r.readRange(n, c);
              assertArrayEquals(Arrays.copyOfRange(data, pos, pos + n), got.toByteArray());
              pos += n;
            } else {
              assertThrows(EOFException.class, () -> r.readRange(n, c));
              assertArrayEquals(Arrays.copyOfRange(data, pos, data.length), got.toByteArray());
              pos = data.length;
            }
          }
          case 5 -> { // readSlice: kept (some retained, some sub-sliced) until after close
            if (left >= n) {
              Slice s = r.readSlice(n);
              byte[] want = Arrays.copyOfRange(data, pos, pos + n);
              pos += n;
              if (n % 3 == 0) {
                kept.add(s);
                keptWant.add(want);
              } else if (n % 3 == 1) {
                Slice again = s.retain();
                s.close();
                kept.add(again);
                keptWant.add(want);
              } else {
                Slice sub = s.slice(n / 4, n / 2);
                s.close();
                kept.add(sub);
                keptWant.add(Arrays.copyOfRange(want, n / 4, n / 4 + n / 2));
              }
            } else {
              assertThrows(EOFException.class, () -> r.readSlice(n));
            }
          }
          case 6 -> { // peek: consumes nothing
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ChunkConsumer c = chunk -> got.writeBytes(chunk.toArray(ValueLayout.JAVA_BYTE));
            if (left >= n) {
              r.peek(n, c);
              assertArrayEquals(Arrays.copyOfRange(data, pos, pos + n), got.toByteArray());
            } else {
              assertThrows(EOFException.class, () -> r.peek(n, c));
            }
          }
          case 7 -> pos = checkVarint(r, data, pos);
          case 8 -> pos = checkLine(r, data, pos, n % 300);
          default -> { // buffered never exceeds what the source delivered
            long b = r.buffered();
            assertEquals(true, b >= 0 && b <= left, "buffered " + b + " of " + left);
          }
        }
      }
      // the rest, in one range, is exactly the model's rest
      ByteArrayOutputStream rest = new ByteArrayOutputStream();
      r.readRange(data.length - pos, c -> rest.writeBytes(c.toArray(ValueLayout.JAVA_BYTE)));
      assertArrayEquals(Arrays.copyOfRange(data, pos, data.length), rest.toByteArray());
      assertThrows(EOFException.class, r::readByte);
      r.close();
      for (int i = 0; i < kept.size(); i++) {
        assertArrayEquals(keptWant.get(i), kept.get(i).toByteArray(), "slice after reader close");
        kept.get(i).close();
      }
      assertEquals(0, alloc.inUse(), "every block back in the pool");
    }
  }

  /** readVarint against a model decoder; returns the new model position. */
  static int checkVarint(BufReader r, byte[] data, int pos) throws IOException {
    long v = 0;
    for (int i = 0; i < 10; i++) {
      if (pos + i >= data.length) {
        assertThrows(EOFException.class, r::readVarint);
        return pos;
      }
      int b = data[pos + i] & 0xff;
      if (i == 9 && b > 1) {
        assertThrows(ProtocolException.class, r::readVarint);
        return pos;
      }
      v |= (long) (b & 0x7f) << (7 * i);
      if (b < 0x80) {
        assertEquals(v, r.readVarint());
        return pos + i + 1;
      }
    }
    throw new AssertionError("unreachable");
  }

  /** readLine against a model; returns the new model position. */
  static int checkLine(BufReader r, byte[] data, int pos, int max) throws IOException {
    int window = Math.min(data.length, pos + max + 2);
    for (int i = pos; i < window; i++) {
      if (data[i] == '\n') {
        int end = (i > pos && data[i - 1] == '\r') ? i - 1 : i;
        if (end - pos > max) {
          assertThrows(ProtocolException.class, () -> r.readLine(max));
          return pos;
        }
        assertEquals(
            new String(data, pos, end - pos, StandardCharsets.UTF_8), r.readLine(max));
        return i + 1;
      }
    }
    if (data.length - pos >= max + 2) {
      assertThrows(ProtocolException.class, () -> r.readLine(max));
    } else if (pos == data.length) {
      assertNull(r.readLine(max));
    } else {
      assertThrows(EOFException.class, () -> r.readLine(max));
    }
    return pos;
  }

  /** Writer operations, then toSlice or partial gathering writes, give the model's bytes. */
  @Property(tries = 200)
  void writerOutputMatchesTheModel(
      @ForAll("tiers") Tier tier, @ForAll("ops") List<Op> ops, @ForAll("chunking") List<Integer> writes)
      throws IOException {
    try (Allocator alloc = Allocator.builder().maxBytes(16L << 20).build()) {
      ByteArrayOutputStream model = new ByteArrayOutputStream();
      byte[] pool = BufReaderContract.randomBytes(6000, ops.size());
      List<Slice> sent = new ArrayList<>();
      CollectingChannel ch = new CollectingChannel(1);
      try (BufReader src = BufReader.of(ChunkedChannel.fixed(pool, 999), alloc, tier);
          BufWriter w = BufWriter.of(alloc, tier)) {
        int srcPos = 0;
        for (Op op : ops) {
          long v = op.arg() * 0x9E3779B97F4A7C15L;
          int n = op.arg();
          switch (op.kind() % 6) {
            case 0 -> {
              w.writeByte(n);
              model.write(n);
            }
            case 1 -> {
              int width = 1 + n % 8;
              w.writeBE(v, width);
              for (int i = width - 1; i >= 0; i--) {
                model.write((int) (v >>> (8 * i)));
              }
            }
            case 2 -> {
              int width = 1 + n % 8;
              w.writeLE(v, width);
              for (int i = 0; i < width; i++) {
                model.write((int) (v >>> (8 * i)));
              }
            }
            case 3 -> {
              w.writeVarint(v);
              model.writeBytes(BufReaderContract.varints(v));
            }
            case 4 -> {
              int k = Math.min(n, pool.length - srcPos);
              try (Slice s = src.readSlice(k)) {
                w.write(s);
              }
              model.write(pool, srcPos, k);
              srcPos += k;
            }
            default -> {
              byte[] b = Arrays.copyOf(pool, n % 700);
              w.write(b);
              model.writeBytes(b);
            }
          }
          if (op.kind() == 9) { // sometimes take what is there and send it later
            sent.add(w.toSlice());
          }
        }
        sent.add(w.toSlice());
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (Slice s : sent) {
          got.writeBytes(s.toByteArray());
        }
        assertArrayEquals(model.toByteArray(), got.toByteArray());
        // and the same bytes again through partial gathering writes of random sizes
        for (Slice s : sent) {
          w.write(s);
          s.close();
        }
        int i = 0;
        for (int round = 0; w.length() > 0 && round < 1_000_000; round++) {
          // every other round the socket is full (accepts 0 bytes), then a random amount
          ch.maxPerWrite = round % 2 == 0 ? 0 : writes.get(i++ % writes.size());
          w.writeTo(ch);
        }
        assertArrayEquals(model.toByteArray(), ch.toByteArray());
      }
      assertEquals(0, alloc.inUse(), "every block back in the pool");
    }
  }
}
