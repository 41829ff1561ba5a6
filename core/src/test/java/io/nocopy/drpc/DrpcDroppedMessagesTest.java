package io.nocopy.drpc;

import static io.nocopy.drpc.DrpcTestSupport.assertAllReleased;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link DrpcClient#droppedMessages()} against a peer that writes crafted frames: messages that
 * arrive for a stream this side already ended are released unseen and counted, one per message
 * however many frames it has; control packets are not messages.
 */
class DrpcDroppedMessagesTest {
  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @ValueSource(strings = {"cancel", "close", "sendError"})
  void messagesForAStreamEndedOnThisSideAreCounted(String end) throws Exception {
    try (Allocator alloc = Allocator.builder().maxBytes(16L << 20).build()) {
      InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
      try (ServerSocketChannel listener = ServerSocketChannel.open().bind(any);
          DrpcClient c = DrpcClient.connect(listener.getLocalAddress(), alloc, DrpcOptions.DEFAULTS);
          SocketChannel peer = listener.accept()) {
        DrpcStream ended = c.openStream("/test.Drop/Ended"); // stream 1
        switch (end) {
          case "cancel" -> ended.cancel();
          case "close" -> ended.close();
          default -> ended.sendError(7, "done here");
        }
        DrpcStream probe = c.openStream("/test.Drop/Probe"); // stream 2
        byte[] frames =
            new Wire()
                .frame(Kind.MESSAGE, true, 1, 1, bytes("one"))
                .frame(Kind.MESSAGE, true, 1, 2, new byte[0]) // an empty message is a message
                .frame(Kind.MESSAGE, false, 1, 3, bytes("three, in ")) // one message, two frames
                .frame(Kind.MESSAGE, true, 1, 3, bytes("two frames"))
                .frame(Kind.CLOSE_SEND, true, 1, 4, new byte[0]) // not a message
                .frame(Kind.MESSAGE, true, 2, 1, bytes("probe"))
                .bytes();
        ByteBuffer out = ByteBuffer.wrap(frames);
        while (out.hasRemaining()) {
          peer.write(out);
        }
        // the reader handles frames in order: once the probe is here, the rest was handled
        try (Slice m = probe.receive()) {
          assertNotNull(m);
          assertEquals("probe", new String(m.toByteArray(), StandardCharsets.UTF_8));
        }
        assertEquals(3, c.droppedMessages());
        probe.close();
      }
      assertAllReleased(alloc);
    }
  }
}
