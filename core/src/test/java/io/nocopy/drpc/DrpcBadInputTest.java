package io.nocopy.drpc;

import static io.nocopy.drpc.DrpcTestSupport.assertAllReleased;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Malformed input closes the connection with a clear protocol error and releases every block. */
class DrpcBadInputTest {
  private final Allocator alloc = Allocator.builder().maxBytes(64L << 20).build();

  @AfterEach
  void tearDown() throws InterruptedException {
    assertAllReleased(alloc);
    alloc.close();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Runs the input delivered in one piece, in random chunks and one byte at a time. */
  private void assertRejected(byte[] input, DrpcOptions opts, String expected) throws Exception {
    for (int maxChunk : new int[] {1 << 20, 7, 1}) {
      ServerHarness h = new ServerHarness(input, maxChunk, maxChunk, alloc, opts);
      IOException failure = h.run();
      assertInstanceOf(ProtocolException.class, failure, "chunk " + maxChunk + ": " + failure);
      assertTrue(
          failure.getMessage().contains(expected),
          "expected '" + expected + "' in: " + failure.getMessage());
      assertAllReleased(alloc);
    }
  }

  private void assertRejected(byte[] input, String expected) throws Exception {
    assertRejected(input, DrpcOptions.DEFAULTS, expected);
  }

  /** Input that must be served to its clean end (the peer closing between frames). */
  private ServerHarness assertAccepted(byte[] input) throws Exception {
    ServerHarness h = new ServerHarness(input, 3, 5, alloc, DrpcOptions.DEFAULTS);
    IOException failure = h.run();
    assertFalse(failure instanceof ProtocolException, String.valueOf(failure));
    assertTrue(failure.getMessage().contains("closed by peer"), failure.getMessage());
    return h;
  }

  @Test
  void malformedVarint() throws Exception {
    byte[] in = new byte[13];
    Arrays.fill(in, (byte) 0x80);
    in[0] = 0x03;
    in[12] = 0x01;
    assertRejected(in, "varint");
  }

  @Test
  void zeroStreamId() throws Exception {
    assertRejected(new Wire().invoke(0, 1, "/a").bytes(), "zero id");
  }

  @Test
  void zeroMessageId() throws Exception {
    assertRejected(new Wire().invoke(1, 0, "/a").bytes(), "zero id");
  }

  @Test
  void decreasingMessageIds() throws Exception {
    byte[] in =
        new Wire()
            .invoke(1, 1, "/a")
            .frame(Kind.MESSAGE, true, 1, 3, bytes("x"))
            .frame(Kind.MESSAGE, true, 1, 2, bytes("y"))
            .bytes();
    assertRejected(in, "monotonicity");
  }

  @Test
  void reusedMessageId() throws Exception {
    byte[] in =
        new Wire()
            .invoke(1, 1, "/a")
            .frame(Kind.MESSAGE, true, 1, 2, bytes("x"))
            .frame(Kind.MESSAGE, true, 1, 2, bytes("y"))
            .bytes();
    assertRejected(in, "monotonicity");
  }

  @Test
  void oversizeFrameIsRejectedBeforeItsDataArrives() throws Exception {
    // the header claims 5 MiB; only the header is sent: no 5 MiB is ever allocated
    Wire w = new Wire().invoke(1, 1, "/a");
    java.nio.ByteBuffer hdr = java.nio.ByteBuffer.allocate(FrameHeader.MAX_SIZE);
    FrameHeader.write(hdr, Kind.MESSAGE.code(), true, false, 1, 2, 5L << 20);
    w.raw(Arrays.copyOf(hdr.array(), hdr.position()));
    assertRejected(w.bytes(), "data overflow");
  }

  @Test
  void oversizePacketFromManyFrames() throws Exception {
    DrpcOptions small = DrpcOptions.builder().maxPacketSize(1000).build();
    byte[] in =
        new Wire()
            .invoke(1, 1, "/a")
            .frame(Kind.MESSAGE, false, 1, 2, new byte[600])
            .frame(Kind.MESSAGE, true, 1, 2, new byte[600])
            .bytes();
    assertRejected(in, small, "data overflow");
  }

  @Test
  void kindChangeInsidePacket() throws Exception {
    byte[] in =
        new Wire()
            .invoke(1, 1, "/a")
            .frame(Kind.MESSAGE, false, 1, 2, bytes("part"))
            .frame(Kind.CLOSE, true, 1, 2, new byte[0])
            .bytes();
    assertRejected(in, "kind change");
  }

  @Test
  void unknownKind() throws Exception {
    assertRejected(new Wire().frame(9, true, false, 1, 1, new byte[3]).bytes(), "unknown packet kind 9");
    assertRejected(new Wire().frame(0, true, false, 1, 1, new byte[0]).bytes(), "unknown packet kind 0");
  }

  @Test
  void unknownKindWithControlBitIsIgnored() throws Exception {
    byte[] in =
        new Wire()
            .frame(9, true, true, 1, 1, bytes("future"))
            .invoke(1, 1, "/a")
            .frame(Kind.MESSAGE, true, 1, 2, bytes("hi"))
            .frame(Kind.CLOSE_SEND, true, 1, 3, new byte[0])
            .bytes();
    ServerHarness h = assertAccepted(in);
    assertEquals(java.util.List.of("/a"), h.rpcs);
  }

  @Test
  void frameForUnknownStream() throws Exception {
    assertRejected(
        new Wire().frame(Kind.MESSAGE, true, 5, 1, bytes("x")).bytes(), "must be Invoke");
  }

  @Test
  void messageBeforeInvokeAfterMetadata() throws Exception {
    byte[] in =
        new Wire()
            .frame(Kind.INVOKE_METADATA, true, 1, 1, new byte[0])
            .frame(Kind.MESSAGE, true, 1, 2, bytes("x"))
            .bytes();
    assertRejected(in, "before Invoke");
  }

  @Test
  void invokeOnExistingStream() throws Exception {
    assertRejected(new Wire().invoke(1, 1, "/a").invoke(1, 2, "/b").bytes(), "invoke on existing");
  }

  @Test
  void peerDisconnectsMidFrame() throws Exception {
    Wire w = new Wire().invoke(1, 1, "/a");
    java.nio.ByteBuffer hdr = java.nio.ByteBuffer.allocate(FrameHeader.MAX_SIZE);
    FrameHeader.write(hdr, Kind.MESSAGE.code(), true, false, 1, 2, 100);
    w.raw(Arrays.copyOf(hdr.array(), hdr.position())).raw(new byte[10]);
    assertRejected(w.bytes(), "middle of a frame");
  }

  @Test
  void peerDisconnectsMidHeader() throws Exception {
    assertRejected(new Wire().invoke(1, 1, "/a").raw((byte) 0x05, (byte) 0x81).bytes(), "frame header");
  }

  @Test
  void framesOfEndedStreamsAreDropped() throws Exception {
    byte[] in =
        new Wire()
            .invoke(2, 1, "/b")
            .frame(Kind.MESSAGE, true, 1, 9, bytes("late")) // stream 1 is below 2: ended
            .frame(Kind.MESSAGE, false, 1, 10, bytes("two ")) // one message in two frames
            .frame(Kind.MESSAGE, true, 1, 10, bytes("frames"))
            .frame(Kind.CLOSE, true, 1, 11, new byte[0]) // not a message
            .frame(Kind.CLOSE_SEND, true, 2, 2, new byte[0])
            .bytes();
    ServerHarness h = assertAccepted(in);
    assertEquals(2, h.conn.droppedMessages(), "messages of an ended stream, counted once each");
  }

  @Test
  void higherMessageIdDropsPartialPacket() throws Exception {
    byte[] in =
        new Wire()
            .invoke(1, 1, "/a")
            .frame(Kind.MESSAGE, false, 1, 2, bytes("abandoned"))
            .frame(Kind.MESSAGE, true, 1, 3, bytes("kept"))
            .frame(Kind.CLOSE_SEND, true, 1, 4, new byte[0])
            .bytes();
    ServerHarness h = assertAccepted(in);
    assertEquals(java.util.List.of("kept"), h.received);
  }

  @Test
  void clientRejectsFramesForStreamsItNeverOpened() throws Exception {
    MemoryChannel ch =
        new MemoryChannel(new Wire().frame(Kind.MESSAGE, true, 7, 1, bytes("x")).bytes(), 1, 64);
    DrpcClient c = DrpcClient.over(ch, alloc, DrpcOptions.DEFAULTS);
    DrpcTestSupport.await(() -> !c.isOpen(), "client closed the connection");
    assertInstanceOf(ProtocolException.class, c.failure());
    assertTrue(c.failure().getMessage().contains("unknown stream 7"), c.failure().getMessage());
    c.close();
  }
}
