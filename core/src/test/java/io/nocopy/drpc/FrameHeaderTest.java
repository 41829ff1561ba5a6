package io.nocopy.drpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameHeaderTest {
  private static byte[] frame(Kind kind, boolean done, boolean control, long sid, long mid, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(FrameHeader.MAX_SIZE + data.length);
    FrameHeader.write(b, kind.code(), done, control, sid, mid, data.length);
    b.put(data);
    return Arrays.copyOf(b.array(), b.position());
  }

  private static byte[] hex(String s) {
    return HexFormat.of().parseHex(s.replace(" ", ""));
  }

  /** Golden vectors written by hand from the documented layout. */
  @Test
  void goldenVectors() {
    byte[] rpc = "/nocopy.Echo/Unary".getBytes(StandardCharsets.US_ASCII); // 18 bytes
    // Invoke (1<<1) | done = 0x03, stream 1, message 1, length 0x12
    byte[] expected = new byte[4 + rpc.length];
    System.arraycopy(hex("03 01 01 12"), 0, expected, 0, 4);
    System.arraycopy(rpc, 0, expected, 4, rpc.length);
    assertArrayEquals(expected, frame(Kind.INVOKE, true, false, 1, 1, rpc));
    // Message, not done: 0x04; stream 300 = AC 02; message 2; length 3
    assertArrayEquals(
        hex("04 AC02 02 03 616263"),
        frame(Kind.MESSAGE, false, false, 300, 2, "abc".getBytes(StandardCharsets.US_ASCII)));
    // Error done 0x07 with code 5 and text "no"
    assertArrayEquals(
        hex("07 01 03 0A 0000000000000005 6E6F"),
        frame(Kind.ERROR, true, false, 1, 3, DrpcException.encode(5, "no")));
    // Cancel carries the control bit: (4<<1)|1|0x80 = 0x89
    assertArrayEquals(hex("89 07 05 00"), frame(Kind.CANCEL, true, true, 7, 5, new byte[0]));
    assertArrayEquals(hex("0B 01 04 00"), frame(Kind.CLOSE, true, false, 1, 4, new byte[0]));
    assertArrayEquals(hex("0D 01 04 00"), frame(Kind.CLOSE_SEND, true, false, 1, 4, new byte[0]));
    assertArrayEquals(hex("0F 02 01 00"), frame(Kind.INVOKE_METADATA, true, false, 2, 1, new byte[0]));
    // the largest ids
    assertArrayEquals(
        hex("05 FFFFFFFFFFFFFFFFFF01 FFFFFFFFFFFFFFFFFF01 00"),
        frame(Kind.MESSAGE, true, false, -1L, -1L, new byte[0]));
  }

  @Test
  void parsesGoldenControlBytes() throws Exception {
    FrameHeader h = new FrameHeader().read(ByteBuffer.wrap(hex("89 07 05 00")));
    assertEquals(Kind.CANCEL, h.kind());
    assertEquals(true, h.done());
    assertEquals(true, h.control());
    assertEquals(7, h.streamId());
    assertEquals(5, h.messageId());
    assertEquals(0, h.length());
    h.read(ByteBuffer.wrap(hex("7E 01 01 00"))); // kind 63, unknown
    assertNull(h.kind());
    assertEquals(63, h.kindCode());
    assertEquals(false, h.done());
    h.read(ByteBuffer.wrap(hex("00 01 01 00"))); // kind 0, reserved
    assertNull(h.kind());
  }

  @Test
  void randomRoundTrip() throws Exception {
    Random rnd = new Random(42);
    ByteBuffer b = ByteBuffer.allocate(FrameHeader.MAX_SIZE);
    FrameHeader in = new FrameHeader();
    FrameHeader out = new FrameHeader();
    for (int i = 0; i < 5_000; i++) {
      in.set(
          rnd.nextInt(64),
          rnd.nextBoolean(),
          rnd.nextBoolean(),
          rnd.nextLong() >>> rnd.nextInt(64),
          rnd.nextLong() >>> rnd.nextInt(64),
          rnd.nextLong() >>> rnd.nextInt(64));
      b.clear();
      int n = in.write(b);
      assertEquals(FrameHeader.size(in.streamId(), in.messageId(), in.length()), n);
      b.flip();
      out.read(b);
      assertEquals(0, b.remaining());
      assertEquals(in.toString(), out.toString());
      assertEquals(in.kindCode(), out.kindCode());
      assertEquals(in.control(), out.control());
    }
  }

  @Test
  void truncatedHeaderIsEof() {
    FrameHeader h = new FrameHeader();
    assertThrows(EOFException.class, () -> h.read(ByteBuffer.wrap(hex("05 01"))));
    assertThrows(EOFException.class, () -> h.read(ByteBuffer.wrap(new byte[0])));
  }

  @Test
  void errorBodies() {
    byte[] body = DrpcException.encode(0x0102030405060708L, "boom");
    assertArrayEquals(hex("0102030405060708 626F6F6D"), body);
    DrpcException e = DrpcException.decode(body);
    assertEquals(0x0102030405060708L, e.code());
    assertEquals("boom", e.getMessage());
    DrpcException shortOne = DrpcException.decode(hex("6869"));
    assertEquals(0, shortOne.code());
    assertEquals("hi (drpc note: invalid error data)", shortOne.getMessage());
  }
}
