package io.nocopy.drpc;

import static io.nocopy.drpc.DrpcTestSupport.ECHO_STREAM;
import static io.nocopy.drpc.DrpcTestSupport.ECHO_UNARY;
import static io.nocopy.drpc.DrpcTestSupport.assertAllReleased;
import static io.nocopy.drpc.DrpcTestSupport.assertFdsBack;
import static io.nocopy.drpc.DrpcTestSupport.await;
import static io.nocopy.drpc.DrpcTestSupport.echo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Tier;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The zero-allocation receive ({@link DrpcStream#receive(MessageHandler)}) over loopback TCP:
 * order, errors, cancellation and both overflow policies, every block released; and large frames
 * read into blocks of the tier that fits ({@link DrpcOptions#maxReadTier()}).
 */
class DrpcHandlerReceiveTest {
  static final String ECHO_BY_HANDLER = "/test/EchoByHandler";
  static final String FLOOD = "/test/Flood";
  static final String FAIL_AFTER = "/test/FailAfter";

  private int fdsBefore;
  private Allocator alloc;
  private DrpcServer server;
  private SocketAddress addr;
  private final CompletableFuture<Throwable> floodOutcome = new CompletableFuture<>();
  private final List<String> serverChunks = java.util.Collections.synchronizedList(new ArrayList<>());

  static DrpcOptions bigFrames() {
    return DrpcOptions.builder().maxFrameSize(4 << 20).build();
  }

  /** The JDK's lazily opened poller descriptors, opened before any test counts descriptors. */
  @BeforeAll
  static void warmUp() throws Exception {
    DrpcLoopbackTest.warmUp();
  }

  @BeforeEach
  void setUp() throws IOException {
    fdsBefore = DrpcTestSupport.openFds();
    alloc = Allocator.builder().maxBytes(256L << 20).build();
    server = echo(new DrpcServer(alloc, bigFrames()));
    // echoes each message from inside the handler, noting the chunk sizes it arrived in
    server.register(ECHO_BY_HANDLER, (StreamHandler) s -> {
      MessageHandler echo = m -> {
        StringBuilder b = new StringBuilder();
        m.forEachChunk(c -> b.append(c.byteSize()).append(' '));
        serverChunks.add(b.toString().trim());
        s.send(m);
      };
      while (s.receive(echo)) {
        // echoed
      }
    });
    server.register(FLOOD, DrpcTestSupport.flood(floodOutcome, true));
    // sends three messages, then fails with code 77
    server.register(FAIL_AFTER, (StreamHandler) s -> {
      for (int i = 0; i < 3; i++) {
        s.send(new byte[] {(byte) i});
      }
      throw new DrpcException(77, "enough");
    });
    addr = server.bind(new InetSocketAddress("127.0.0.1", 0));
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
    assertAllReleased(alloc);
    alloc.close();
    assertFdsBack(fdsBefore);
  }

  private static byte[] pattern(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Receives one message by handler; returns a copy (null at the end). */
  private static byte[] take(DrpcStream s) throws IOException {
    AtomicReference<byte[]> out = new AtomicReference<>();
    return s.receive(m -> out.set(m.toByteArray())) ? out.get() : null;
  }

  @Test
  void handlerEchoKeepsOrderBothWays() throws Exception {
    Random r = new Random(1);
    try (DrpcClient c = DrpcClient.connect(addr, alloc, DrpcOptions.DEFAULTS);
        DrpcStream s = c.openStream(ECHO_BY_HANDLER)) {
      for (int i = 0; i < 200; i++) {
        int size = i % 50 == 0 ? 300_000 : r.nextInt(5000);
        byte[] m = pattern(size, i);
        s.send(m);
        assertArrayEquals(m, take(s), "message " + i);
      }
      s.closeSend();
      assertFalse(s.receive(m -> {
        throw new AssertionError("no message after the end");
      }));
    }
  }

  @Test
  void pipelinedMessagesArriveInOrderWhileTheProducerRuns() throws Exception {
    int n = 1000;
    try (DrpcClient c = DrpcClient.connect(addr, alloc, DrpcOptions.DEFAULTS);
        DrpcStream s = c.openStream(ECHO_STREAM)) {
      CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
        try {
          for (int i = 0; i < n; i++) {
            s.send(ByteBuffer.allocate(4 + i % 700).putInt(0, i));
          }
          s.closeSend();
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }, t -> Thread.ofVirtual().start(t));
      int[] next = {0};
      while (s.receive(m -> {
        assertEquals(4 + next[0] % 700, m.length());
        // the first four bytes may straddle two chunks (a read block can end inside them)
        assertEquals(next[0], ByteBuffer.wrap(m.toByteArray()).getInt(0));
        next[0]++;
      })) {
        // counted
      }
      sender.get(30, TimeUnit.SECONDS);
      assertEquals(n, next[0]);
    }
  }

  @Test
  void largeFramesLandInBlocksOfTheTierThatFits() throws Exception {
    // a 4 MiB maximum frame on both ends: each message is one frame, read into 512 KiB blocks
    DrpcOptions opts = bigFrames();
    long greatBefore = alloc.pool(Tier.GREAT).stats().highWater();
    try (DrpcClient c = DrpcClient.connect(addr, alloc, opts);
        DrpcStream s = c.openStream(ECHO_BY_HANDLER)) {
      for (int size : new int[] {64, 1024, 64 << 10, 1 << 20, (4 << 20) - 64}) {
        byte[] m = pattern(size, size);
        s.send(m);
        List<Long> chunks = new ArrayList<>();
        AtomicReference<byte[]> back = new AtomicReference<>();
        assertTrue(s.receive(x -> {
          x.forEachChunk(ch -> chunks.add(ch.byteSize()));
          back.set(x.toByteArray());
        }));
        assertArrayEquals(m, back.get(), size + " bytes");
        // at most the rest of the block the header came in, then 512 KiB blocks (the middle ones
        // full), then one more for the rest; never a 32 KiB block in the middle
        int maxChunks = 2 + (int) ((size + (512 << 10) - 1) / (512 << 10));
        assertTrue(chunks.size() <= maxChunks, size + " bytes in " + chunks);
        for (int i = 1; i < chunks.size() - 1; i++) {
          assertTrue(chunks.get(i) >= 32 << 10, size + " bytes in " + chunks);
        }
        if (size >= 1 << 20) {
          assertTrue(chunks.contains(512L << 10), size + " bytes in " + chunks);
        }
      }
    }
    assertTrue(alloc.pool(Tier.GREAT).stats().highWater() > greatBefore,
        "512 KiB blocks were used");
    assertEquals(5, serverChunks.size());
    assertTrue(serverChunks.get(3).contains(String.valueOf(512 << 10)), serverChunks.toString());
  }

  @Test
  void theMessageIsOnlyValidInsideTheHandler() throws Exception {
    try (DrpcClient c = DrpcClient.connect(addr, alloc, DrpcOptions.DEFAULTS);
        DrpcStream s = c.openStream(ECHO_STREAM)) {
      s.send(pattern(100, 1));
      s.send(pattern(100, 2));
      AtomicReference<ReceivedMessage> kept = new AtomicReference<>();
      AtomicReference<Slice> retained = new AtomicReference<>();
      assertTrue(s.receive(m -> {
        kept.set(m);
        retained.set(m.retain());
        assertThrows(IllegalStateException.class, () -> s.receive(x -> {}), "no nested receive");
      }));
      assertThrows(IllegalStateException.class, () -> kept.get().length());
      assertThrows(IllegalStateException.class, () -> s.send(kept.get()));
      try (Slice r = retained.get()) {
        assertArrayEquals(pattern(100, 1), r.toByteArray());
      }
      try (Slice second = s.receive()) {
        assertArrayEquals(pattern(100, 2), second.toByteArray(), "Slice receive still works");
      }
    }
  }

  @Test
  void handlerExceptionPropagatesAndTheStreamGoesOn() throws Exception {
    try (DrpcClient c = DrpcClient.connect(addr, alloc, DrpcOptions.DEFAULTS);
        DrpcStream s = c.openStream(ECHO_STREAM)) {
      s.send(pattern(10, 1));
      s.send(pattern(10, 2));
      IOException boom = new IOException("boom");
      assertSame(boom, assertThrows(IOException.class, () -> s.receive(m -> {
        throw boom;
      })));
      assertArrayEquals(pattern(10, 2), take(s));
    }
  }

  @Test
  void errorsArriveAfterTheQueuedMessages() throws Exception {
    try (DrpcClient c = DrpcClient.connect(addr, alloc, DrpcOptions.DEFAULTS);
        DrpcStream s = c.openStream(FAIL_AFTER)) {
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(new byte[] {(byte) i}, take(s));
      }
      DrpcException e = assertThrows(DrpcException.class, () -> take(s));
      assertEquals(77, e.code());
    }
  }

  @Test
  void cancelAndCloseReleaseWhatIsQueued() throws Exception {
    try (DrpcClient c = DrpcClient.connect(addr, alloc, DrpcOptions.DEFAULTS)) {
      DrpcStream a = c.openStream(FLOOD);
      a.send("50".getBytes(StandardCharsets.UTF_8));
      await(() -> a.queue().size() == 50, "50 messages queued");
      assertTrue(alloc.inUse() > 0);
      a.cancel();
      DrpcException e = assertThrows(DrpcException.class, () -> take(a));
      assertEquals(DrpcException.CANCELED, e.code());
      assertEquals(0, a.queue().heldChunks(), "cancel released the queued messages");
      a.close();

      DrpcStream b = c.openStream(FLOOD);
      b.send("20".getBytes(StandardCharsets.UTF_8));
      await(() -> b.queue().size() == 20, "20 messages queued");
      assertEquals(0, ByteBuffer.wrap(take(b)).getInt(0));
      b.close();
      assertEquals(0, b.queue().heldChunks(), "close released the queued messages");
      assertArrayEquals(new byte[] {5}, c.invoke(ECHO_UNARY, new byte[] {5}));
    }
  }

  @Test
  void slowHandlerConsumerUnderBlockLosesNothing() throws Exception {
    DrpcOptions opts =
        DrpcOptions.builder().queueCapacity(2).overflowPolicy(OverflowPolicy.BLOCK).build();
    try (DrpcClient c = DrpcClient.connect(addr, alloc, opts);
        DrpcStream flood = c.openStream(FLOOD)) {
      flood.send("300".getBytes(StandardCharsets.UTF_8));
      await(() -> flood.queue().size() == 2, "flood queue full, the reader waits");
      int[] next = {0};
      for (int i = 0; i < 300; i++) {
        assertTrue(flood.receive(m -> {
          assertEquals(1024, m.length());
          assertEquals(next[0]++, ByteBuffer.wrap(m.toByteArray()).getInt(0));
        }));
      }
      assertEquals(null, floodOutcome.get(10, TimeUnit.SECONDS));
      assertEquals(0, c.overflows());
    }
  }

  @Test
  void slowHandlerConsumerUnderCancelStreamIsCancelledOthersGoOn() throws Exception {
    DrpcOptions opts =
        DrpcOptions.builder().queueCapacity(2).overflowPolicy(OverflowPolicy.CANCEL_STREAM).build();
    try (DrpcClient c = DrpcClient.connect(addr, alloc, opts);
        DrpcStream flood = c.openStream(FLOOD)) {
      flood.send("-1".getBytes(StandardCharsets.UTF_8));
      for (int i = 0; i < 20; i++) {
        byte[] u = pattern(50, i);
        assertArrayEquals(u, c.invoke(ECHO_UNARY, u));
      }
      await(() -> c.overflows() == 1, "flood stream cancelled");
      DrpcException e = assertThrows(DrpcException.class, () -> {
        while (flood.receive(m -> assertEquals(1024, m.length()))) {
          // drains what was queued before the overflow
        }
      });
      assertEquals(DrpcException.RESOURCE_EXHAUSTED, e.code());
      Throwable serverSide = floodOutcome.get(10, TimeUnit.SECONDS);
      assertTrue(serverSide instanceof DrpcException, String.valueOf(serverSide));
    }
  }

  @Test
  void connectionFailureWhileReceivingReleasesEverything() throws Exception {
    DrpcClient c = DrpcClient.connect(addr, alloc, DrpcOptions.DEFAULTS);
    DrpcStream s = c.openStream(FLOOD);
    s.send("30".getBytes(StandardCharsets.UTF_8));
    await(() -> s.queue().size() == 30, "30 messages queued");
    server.close(); // the server side goes away: the client's reader sees the end
    int got = 0;
    try {
      while (take(s) != null) {
        got++;
      }
    } catch (DrpcException e) {
      // the connection's failure, after the queued messages
    }
    assertEquals(30, got, "queued messages drain before the failure");
    s.close();
    c.close();
  }
}
