package io.nocopy.drpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * drpcwire's reader table, against the rules with the packet data kept by the test, as the
 * transport keeps it: appended per frame, dropped when a frame abandons the packet.
 */
class PacketRulesTest {
  private final List<String> dropped = new ArrayList<>();
  private final StringBuilder packet = new StringBuilder();
  private final FrameHeader h = new FrameHeader();

  private static PacketRules rules(long max) {
    return new PacketRules(1, max);
  }

  /** Feeds one frame; returns the finished packet's data ("" for no data) or null if unfinished. */
  private String feed(PacketRules r, Kind kind, long mid, String data, boolean done)
      throws DrpcProtocolException {
    if (r.frame(h.set(kind.code(), done, false, 1, mid, data.length()))) {
      dropped.add(packet.toString());
      packet.setLength(0);
    }
    packet.append(data);
    if (!done) {
      return null;
    }
    r.complete();
    String out = packet.toString();
    packet.setLength(0);
    return out;
  }

  @Test
  void framesJoinIntoOnePacket() throws Exception {
    var a = rules(4 << 20);
    assertNull(feed(a, Kind.MESSAGE, 1, "hello", false));
    assertNull(feed(a, Kind.MESSAGE, 1, " ", false));
    assertEquals("hello world", feed(a, Kind.MESSAGE, 1, "world", true));
    assertEquals(Kind.MESSAGE, a.kind());
    assertFalse(a.inPacket());
    assertTrue(dropped.isEmpty());
  }

  @Test
  void higherIdDropsPartialPacket() throws Exception {
    var a = rules(4 << 20);
    assertNull(feed(a, Kind.MESSAGE, 1, "hello", false));
    assertNull(feed(a, Kind.MESSAGE, 1, " ", false));
    assertEquals("", feed(a, Kind.CLOSE, 2, "", true));
    assertEquals(Kind.CLOSE, a.kind());
    assertEquals(List.of("hello "), dropped);
  }

  @Test
  void lowerIdAfterHigherIsRejected() throws Exception {
    var a = rules(4 << 20);
    assertNull(feed(a, Kind.MESSAGE, 1, "1", false));
    assertEquals("", feed(a, Kind.CLOSE, 2, "", true));
    var e = assertThrows(DrpcProtocolException.class, () -> feed(a, Kind.MESSAGE, 1, "1", true));
    assertTrue(e.getMessage().contains("monotonicity"), e.getMessage());
  }

  @Test
  void idReuseIsRejected() throws Exception {
    var a = rules(4 << 20);
    assertEquals("1", feed(a, Kind.MESSAGE, 1, "1", true));
    assertThrows(DrpcProtocolException.class, () -> feed(a, Kind.MESSAGE, 1, "2", true));
  }

  @Test
  void zeroMessageIdIsRejected() {
    var a = rules(4 << 20);
    assertThrows(DrpcProtocolException.class, () -> feed(a, Kind.MESSAGE, 0, "", true));
  }

  @Test
  void idsMayJump() throws Exception {
    var a = rules(4 << 20);
    assertEquals("a", feed(a, Kind.MESSAGE, 1, "a", true));
    assertEquals("b", feed(a, Kind.MESSAGE, 5, "b", true));
    assertThrows(DrpcProtocolException.class, () -> feed(a, Kind.MESSAGE, 4, "c", true));
  }

  @Test
  void kindChangeIsRejected() throws Exception {
    var a = rules(4 << 20);
    assertNull(feed(a, Kind.MESSAGE, 1, "", false));
    var e = assertThrows(DrpcProtocolException.class, () -> feed(a, Kind.CLOSE, 1, "", false));
    assertTrue(e.getMessage().contains("kind change"), e.getMessage());
  }

  @Test
  void kindMayChangeBetweenPackets() throws Exception {
    var a = rules(4 << 20);
    assertEquals("x", feed(a, Kind.MESSAGE, 1, "x", true));
    assertEquals("", feed(a, Kind.CLOSE, 2, "", true));
  }

  @Test
  void singleFrameOverflowIsRejectedBeforeData() {
    var a = rules(1000);
    var e =
        assertThrows(
            DrpcProtocolException.class,
            () -> a.frame(h.set(Kind.MESSAGE.code(), true, false, 1, 1, 1001)));
    assertTrue(e.getMessage().contains("overflow"), e.getMessage());
  }

  @Test
  void packetOfExactlyMaxIsAccepted() throws Exception {
    var a = rules(10);
    assertEquals("0123456789", feed(a, Kind.MESSAGE, 1, "0123456789", true));
  }

  @Test
  void multiFrameOverflowIsRejected() throws Exception {
    var a = rules(1000);
    feed(a, Kind.MESSAGE, 1, "x".repeat(500), false);
    feed(a, Kind.MESSAGE, 1, "x".repeat(400), false);
    feed(a, Kind.MESSAGE, 1, "x".repeat(100), false);
    assertEquals(1000, a.size());
    assertThrows(DrpcProtocolException.class, () -> feed(a, Kind.MESSAGE, 1, "x", true));
  }

  @Test
  void hugeLengthDoesNotOverflowArithmetic() {
    var a = rules(4 << 20);
    assertThrows(
        DrpcProtocolException.class,
        () -> a.frame(h.set(Kind.MESSAGE.code(), true, false, 1, 1, -1L)));
  }

  @Test
  void frameOfAnotherStreamIsRejected() {
    var a = rules(100);
    assertThrows(
        DrpcProtocolException.class,
        () -> a.frame(h.set(Kind.MESSAGE.code(), true, false, 2, 1, 0)));
  }
}
