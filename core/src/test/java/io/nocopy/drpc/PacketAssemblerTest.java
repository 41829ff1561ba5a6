package io.nocopy.drpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** drpcwire's reader table, against the assembler with string parts whose releases are counted. */
class PacketAssemblerTest {
  private final List<String> released = new ArrayList<>();
  private final FrameHeader h = new FrameHeader();

  private PacketAssembler<String> asm(long max) {
    return new PacketAssembler<>(1, max, released::add);
  }

  private static String join(List<String> parts) {
    return String.join("", parts);
  }

  /** Feeds one frame; returns the finished packet's data ("" for no data) or null if unfinished. */
  private String feed(PacketAssembler<String> a, Kind kind, long mid, String data, boolean done)
      throws DrpcProtocolException {
    a.frame(h.set(kind.code(), done, false, 1, mid, data.length()));
    if (!data.isEmpty()) {
      a.append(data);
    }
    if (!done) {
      return null;
    }
    String out = a.finish(PacketAssemblerTest::join);
    return out == null ? "" : out;
  }

  @Test
  void framesJoinIntoOnePacket() throws Exception {
    var a = asm(4 << 20);
    assertNull(feed(a, Kind.MESSAGE, 1, "hello", false));
    assertNull(feed(a, Kind.MESSAGE, 1, " ", false));
    assertEquals("hello world", feed(a, Kind.MESSAGE, 1, "world", true));
    assertEquals(Kind.MESSAGE, a.kind());
    assertTrue(released.isEmpty());
  }

  @Test
  void higherIdDropsPartialPacket() throws Exception {
    var a = asm(4 << 20);
    assertNull(feed(a, Kind.MESSAGE, 1, "hello", false));
    assertNull(feed(a, Kind.MESSAGE, 1, " ", false));
    assertEquals("", feed(a, Kind.CLOSE, 2, "", true));
    assertEquals(Kind.CLOSE, a.kind());
    assertEquals(List.of("hello", " "), released);
    assertEquals(1, a.discarded());
  }

  @Test
  void lowerIdAfterHigherIsRejected() throws Exception {
    var a = asm(4 << 20);
    assertNull(feed(a, Kind.MESSAGE, 1, "1", false));
    assertEquals("", feed(a, Kind.CLOSE, 2, "", true));
    var e = assertThrows(DrpcProtocolException.class, () -> feed(a, Kind.MESSAGE, 1, "1", true));
    assertTrue(e.getMessage().contains("monotonicity"), e.getMessage());
  }

  @Test
  void idReuseIsRejected() throws Exception {
    var a = asm(4 << 20);
    assertEquals("1", feed(a, Kind.MESSAGE, 1, "1", true));
    assertThrows(DrpcProtocolException.class, () -> feed(a, Kind.MESSAGE, 1, "2", true));
  }

  @Test
  void zeroMessageIdIsRejected() {
    var a = asm(4 << 20);
    assertThrows(DrpcProtocolException.class, () -> feed(a, Kind.MESSAGE, 0, "", true));
  }

  @Test
  void idsMayJump() throws Exception {
    var a = asm(4 << 20);
    assertEquals("a", feed(a, Kind.MESSAGE, 1, "a", true));
    assertEquals("b", feed(a, Kind.MESSAGE, 5, "b", true));
    assertThrows(DrpcProtocolException.class, () -> feed(a, Kind.MESSAGE, 4, "c", true));
  }

  @Test
  void kindChangeIsRejected() throws Exception {
    var a = asm(4 << 20);
    assertNull(feed(a, Kind.MESSAGE, 1, "", false));
    var e = assertThrows(DrpcProtocolException.class, () -> feed(a, Kind.CLOSE, 1, "", false));
    assertTrue(e.getMessage().contains("kind change"), e.getMessage());
  }

  @Test
  void kindMayChangeBetweenPackets() throws Exception {
    var a = asm(4 << 20);
    assertEquals("x", feed(a, Kind.MESSAGE, 1, "x", true));
    assertEquals("", feed(a, Kind.CLOSE, 2, "", true));
  }

  @Test
  void singleFrameOverflowIsRejectedBeforeData() {
    var a = asm(1000);
    var e =
        assertThrows(
            DrpcProtocolException.class,
            () -> a.frame(h.set(Kind.MESSAGE.code(), true, false, 1, 1, 1001)));
    assertTrue(e.getMessage().contains("overflow"), e.getMessage());
  }

  @Test
  void packetOfExactlyMaxIsAccepted() throws Exception {
    var a = asm(10);
    assertEquals("0123456789", feed(a, Kind.MESSAGE, 1, "0123456789", true));
  }

  @Test
  void multiFrameOverflowIsRejected() throws Exception {
    var a = asm(1000);
    feed(a, Kind.MESSAGE, 1, "x".repeat(500), false);
    feed(a, Kind.MESSAGE, 1, "x".repeat(400), false);
    feed(a, Kind.MESSAGE, 1, "x".repeat(100), false);
    assertThrows(DrpcProtocolException.class, () -> feed(a, Kind.MESSAGE, 1, "x", true));
    a.clear();
    assertEquals(3, released.size());
  }

  @Test
  void hugeLengthDoesNotOverflowArithmetic() {
    var a = asm(4 << 20);
    assertThrows(
        DrpcProtocolException.class,
        () -> a.frame(h.set(Kind.MESSAGE.code(), true, false, 1, 1, -1L)));
  }

  @Test
  void frameOfAnotherStreamIsRejected() {
    var a = asm(100);
    assertThrows(
        DrpcProtocolException.class,
        () -> a.frame(h.set(Kind.MESSAGE.code(), true, false, 2, 1, 0)));
  }
}
