package io.nocopy.drpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VarintTest {
  /** Expected encoding computed with BigInteger, independently of the code under test. */
  private static byte[] reference(long v) {
    BigInteger x = new BigInteger(Long.toUnsignedString(v));
    BigInteger mask = BigInteger.valueOf(0x7F);
    List<Byte> out = new ArrayList<>();
    do {
      int group = x.and(mask).intValue();
      x = x.shiftRight(7);
      out.add((byte) (x.signum() == 0 ? group : group | 0x80));
    } while (x.signum() != 0);
    byte[] b = new byte[out.size()];
    for (int i = 0; i < b.length; i++) {
      b[i] = out.get(i);
    }
    return b;
  }

  private static List<Long> boundaries() {
    List<Long> vals = new ArrayList<>(List.of(0L, 1L, 2L, Long.MAX_VALUE, Long.MIN_VALUE, -1L));
    for (int k = 1; k <= 9; k++) {
      long p = 1L << (7 * k);
      vals.addAll(List.of(p - 1, p, p + 1));
    }
    vals.add(Long.MIN_VALUE + 1); // 2^63 + 1
    for (int i = 0; i < 64; i++) {
      vals.add(i == 63 ? -1L : (1L << (i + 1)) - 1); // i+1 low bits set
    }
    return vals;
  }

  private static void roundTrip(long v) throws Exception {
    byte[] expected = reference(v);
    assertEquals(expected.length, Varint.size(v), "size of " + Long.toUnsignedString(v));
    ByteBuffer b = ByteBuffer.allocate(16);
    assertEquals(expected.length, Varint.write(b, v));
    assertArrayEquals(expected, Arrays.copyOf(b.array(), b.position()));
    byte[] arr = new byte[12];
    assertEquals(expected.length, Varint.write(arr, 0, v));
    assertArrayEquals(expected, Arrays.copyOf(arr, expected.length));
    b.flip();
    assertEquals(v, Varint.read(b));
    assertEquals(0, b.remaining());
    int[] pos = {0};
    assertEquals(v, Varint.read(() -> expected[pos[0]++] & 0xFF));
    assertEquals(expected.length, pos[0]);
  }

  @Test
  void boundariesRoundTrip() throws Exception {
    for (long v : boundaries()) {
      roundTrip(v);
    }
  }

  @Test
  void sizesAtEverySevenBitBoundary() {
    for (int k = 1; k <= 9; k++) {
      long p = 1L << (7 * k);
      assertEquals(k, Varint.size(p - 1));
      assertEquals(k + 1, Varint.size(p));
    }
    assertEquals(10, Varint.size(-1L));
    assertEquals(1, Varint.size(0));
  }

  @Test
  void randomRoundTrip() throws Exception {
    Random rnd = new Random(0x5EED);
    for (int i = 0; i < 10_000; i++) {
      long v = rnd.nextLong() >>> rnd.nextInt(64);
      roundTrip(v);
    }
  }

  @Test
  void goldenBytes() throws Exception {
    assertArrayEquals(new byte[] {0x7F}, reference(127));
    ByteBuffer b = ByteBuffer.allocate(16);
    Varint.write(b, 300);
    assertArrayEquals(new byte[] {(byte) 0xAC, 0x02}, Arrays.copyOf(b.array(), b.position()));
    b.clear();
    Varint.write(b, -1L);
    byte[] max = new byte[10];
    Arrays.fill(max, (byte) 0xFF);
    max[9] = 0x01;
    assertArrayEquals(max, Arrays.copyOf(b.array(), b.position()));
  }

  @Test
  void nonMinimalEncodingIsAccepted() throws Exception {
    assertEquals(0, Varint.read(ByteBuffer.wrap(new byte[] {(byte) 0x80, 0x00})));
    assertEquals(1, Varint.read(ByteBuffer.wrap(new byte[] {(byte) 0x81, (byte) 0x80, 0x00})));
  }

  @Test
  void elevenBytesIsMalformed() {
    byte[] b = new byte[11];
    Arrays.fill(b, (byte) 0x80);
    b[10] = 0;
    var e = assertThrows(DrpcProtocolException.class, () -> Varint.read(ByteBuffer.wrap(b)));
    assertTrue(e.getMessage().contains("varint"), e.getMessage());
  }

  @Test
  void tenthByteOverflowIsMalformed() {
    byte[] b = new byte[10];
    Arrays.fill(b, (byte) 0xFF);
    b[9] = 0x02; // bit 64
    assertThrows(DrpcProtocolException.class, () -> Varint.read(ByteBuffer.wrap(b)));
    int[] pos = {0};
    assertThrows(DrpcProtocolException.class, () -> Varint.read(() -> b[pos[0]++] & 0xFF));
  }

  @Test
  void truncatedIsEof() {
    assertThrows(EOFException.class, () -> Varint.read(ByteBuffer.wrap(new byte[] {(byte) 0x80})));
    assertThrows(EOFException.class, () -> Varint.read(ByteBuffer.allocate(0)));
  }
}
