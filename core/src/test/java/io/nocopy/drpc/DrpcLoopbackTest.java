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
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Client and server over loopback TCP and Unix sockets. */
class DrpcLoopbackTest {
  private int fdsBefore;
  private Allocator alloc;
  private DrpcServer server;
  private SocketAddress tcp;
  private Path tmp;
  private final CompletableFuture<Throwable> holdOutcome = new CompletableFuture<>();
  private final CompletableFuture<Throwable> floodOutcome = new CompletableFuture<>();

  /**
   * The JDK opens file descriptors lazily the first time virtual threads block on sockets (its
   * pollers); do that once so the per-test descriptor count sees only what the test opened. The
   * readers are platform threads by default, so the warm-up uses virtual readers, which block in
   * the pollers (as a virtual handler thread may when its socket is full).
   */
  @BeforeAll
  static void warmUp() throws Exception {
    Path dir = Files.createTempDirectory("drpc-warm");
    Allocator a = Allocator.create();
    DrpcOptions virtual = DrpcOptions.builder().virtualReaders(true).build();
    try {
      try (DrpcServer s = echo(new DrpcServer(a, virtual))) {
        SocketAddress t = s.bind(new InetSocketAddress("127.0.0.1", 0));
        SocketAddress u = s.bind(UnixDomainSocketAddress.of(dir.resolve("w.sock")));
        for (SocketAddress addr : List.of(t, u)) {
          try (DrpcClient c = DrpcClient.connect(addr, a, virtual)) {
            c.invoke(ECHO_UNARY, new byte[10]);
          }
        }
      }
      assertAllReleased(a);
    } finally {
      a.close();
      Files.deleteIfExists(dir.resolve("w.sock"));
      Files.deleteIfExists(dir);
    }
  }

  @BeforeEach
  void setUp() throws IOException {
    fdsBefore = DrpcTestSupport.openFds();
    alloc = Allocator.builder().maxBytes(256L << 20).build();
    server = echo(new DrpcServer(alloc, DrpcOptions.DEFAULTS));
    server.register("/test/Fail", (s, req) -> {
      req.close();
      throw new DrpcException(42, "nope");
    });
    server.register("/test/Boom", (StreamHandler) s -> {
      throw new IllegalStateException("boom");
    });
    server.register("/test/Hold", (StreamHandler) s -> {
      try {
        Slice m = s.receive();
        if (m != null) {
          m.close();
        }
        holdOutcome.complete(null);
      } catch (IOException e) {
        holdOutcome.complete(e);
        throw e;
      }
    });
    server.register("/test/Flood", DrpcTestSupport.flood(floodOutcome, false));
    server.register("/test/Meta", (StreamHandler) s -> s.send(Encoding.UTF8.encode(
        new java.util.TreeMap<>(s.metadata()).toString())));
    tcp = server.bind(new InetSocketAddress("127.0.0.1", 0));
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
    assertAllReleased(alloc);
    alloc.close();
    if (tmp != null) {
      Files.deleteIfExists(tmp.resolve("drpc.sock"));
      Files.deleteIfExists(tmp);
    }
    assertFdsBack(fdsBefore);
  }

  private DrpcClient client(DrpcOptions opts) throws IOException {
    return DrpcClient.connect(tcp, alloc, opts);
  }

  private static byte[] pattern(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 64, 1024, 65536, 65537, 200_000, 1 << 20})
  void unaryEchoOverTcp(int size) throws Exception {
    try (DrpcClient c = client(DrpcOptions.DEFAULTS)) {
      byte[] req = pattern(size, size);
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(req, c.invoke(ECHO_UNARY, req));
      }
    }
  }

  @Test
  void unaryAndStreamOverUnixSocket() throws Exception {
    tmp = Files.createTempDirectory("drpc");
    SocketAddress unix = server.bind(UnixDomainSocketAddress.of(tmp.resolve("drpc.sock")));
    try (DrpcClient c = DrpcClient.connect(unix, alloc, DrpcOptions.DEFAULTS)) {
      byte[] req = pattern(100_000, 1);
      assertArrayEquals(req, c.invoke(ECHO_UNARY, req));
      try (DrpcStream s = c.openStream(ECHO_STREAM)) {
        for (int i = 0; i < 10; i++) {
          s.send(("m" + i).getBytes(StandardCharsets.UTF_8));
          try (Slice back = s.receive()) {
            assertEquals("m" + i, new String(back.toByteArray(), StandardCharsets.UTF_8));
          }
        }
        s.closeSend();
        assertNull(s.receive());
      }
    }
  }

  @Test
  void typedInvokeAndSliceRequests() throws Exception {
    try (DrpcClient c = client(DrpcOptions.DEFAULTS)) {
      assertEquals("héllo", c.invoke(ECHO_UNARY, "héllo", Encoding.UTF8, Encoding.UTF8));
      // a received slice sent on as a request: no copy on our side
      try (Slice first = c.invoke(ECHO_UNARY, ByteBuffer.wrap(pattern(5000, 3)));
          Slice second = c.invoke(ECHO_UNARY, first)) {
        assertArrayEquals(first.toByteArray(), second.toByteArray());
      }
    }
  }

  @Test
  void streamingEchoInOrder() throws Exception {
    try (DrpcClient c = client(DrpcOptions.DEFAULTS);
        DrpcStream s = c.openStream(ECHO_STREAM)) {
      for (int i = 0; i < 200; i++) {
        byte[] m = pattern(1 + i * 37, i);
        s.send(m);
        try (Slice back = s.receive()) {
          assertArrayEquals(m, back.toByteArray());
        }
      }
      s.closeSend();
      assertNull(s.receive());
      assertNull(s.receive(), "end of stream is sticky");
      assertThrows(DrpcException.class, () -> s.send(new byte[1]));
    }
  }

  @Test
  void hundredConcurrentStreamsOnOneConnection() throws Exception {
    try (DrpcClient c = client(DrpcOptions.DEFAULTS)) {
      List<CompletableFuture<Void>> all = new ArrayList<>();
      for (int t = 0; t < 100; t++) {
        int id = t;
        CompletableFuture<Void> f = new CompletableFuture<>();
        all.add(f);
        Thread.ofVirtual().start(() -> {
          try (DrpcStream s = c.openStream(ECHO_STREAM)) {
            for (int i = 0; i < 20; i++) {
              byte[] m = pattern(16 + (id * 131 + i * 17) % 3000, id * 1000L + i);
              s.send(m);
              try (Slice back = s.receive()) {
                assertArrayEquals(m, back.toByteArray(), "stream " + id + " message " + i);
              }
            }
            s.closeSend();
            assertNull(s.receive());
            // and a unary call from the same thread, interleaved with the other streams
            byte[] u = pattern(100, id);
            assertArrayEquals(u, c.invoke(ECHO_UNARY, u));
            f.complete(null);
          } catch (Throwable e) {
            f.completeExceptionally(e);
          }
        });
      }
      CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
      assertTrue(c.isOpen());
    }
    assertEquals(0, server.protocolErrors());
  }

  @Test
  void errorsCarryTheirCode() throws Exception {
    try (DrpcClient c = client(DrpcOptions.DEFAULTS)) {
      DrpcException e =
          assertThrows(DrpcException.class, () -> c.invoke("/test/Fail", new byte[] {1}));
      assertEquals(42, e.code());
      assertEquals("nope", e.getMessage());

      DrpcException unknown =
          assertThrows(DrpcException.class, () -> c.invoke("/no/Such", new byte[0]));
      assertEquals(DrpcException.UNIMPLEMENTED, unknown.code());
      assertTrue(unknown.getMessage().contains("/no/Such"), unknown.getMessage());

      try (DrpcStream s = c.openStream("/test/Boom")) {
        DrpcException boom = assertThrows(DrpcException.class, s::receive);
        assertEquals(0, boom.code());
        assertEquals("boom", boom.getMessage());
      }
      // the connection survives stream errors
      assertArrayEquals(new byte[] {7}, c.invoke(ECHO_UNARY, new byte[] {7}));
    }
  }

  @Test
  void cancellationReachesTheServer() throws Exception {
    try (DrpcClient c = client(DrpcOptions.DEFAULTS)) {
      DrpcStream s = c.openStream("/test/Hold");
      await(() -> server.calls() >= 1, "server saw the invoke");
      s.cancel();
      Throwable seen = holdOutcome.get(10, TimeUnit.SECONDS);
      assertTrue(seen instanceof DrpcException, String.valueOf(seen));
      assertEquals(DrpcException.CANCELED, ((DrpcException) seen).code());
      DrpcException local = assertThrows(DrpcException.class, s::receive);
      assertEquals(DrpcException.CANCELED, local.code());
      s.close();
      assertArrayEquals(new byte[] {1, 2}, c.invoke(ECHO_UNARY, new byte[] {1, 2}));
    }
  }

  @Test
  void slowConsumerUnderBlockStallsTheConnectionButLosesNothing() throws Exception {
    DrpcOptions opts =
        DrpcOptions.builder().queueCapacity(2).overflowPolicy(OverflowPolicy.BLOCK).build();
    try (DrpcClient c = client(opts);
        DrpcStream flood = c.openStream("/test/Flood")) {
      flood.send("300".getBytes(StandardCharsets.UTF_8));
      // wait until the reader is parked on the full queue of the flood stream
      await(() -> flood.queue().size() == 2, "flood queue full");
      CompletableFuture<byte[]> unary = CompletableFuture.supplyAsync(() -> {
        try {
          return c.invoke(ECHO_UNARY, new byte[] {9});
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }, r -> Thread.ofVirtual().start(r));
      Thread.sleep(200);
      assertFalse(unary.isDone(), "BLOCK: the connection's reader waits for the slow stream");
      for (int i = 0; i < 300; i++) {
        try (Slice m = flood.receive()) {
          assertEquals(i, ByteBuffer.wrap(m.toByteArray()).getInt(0));
        }
      }
      assertArrayEquals(new byte[] {9}, unary.get(10, TimeUnit.SECONDS));
      assertNull(floodOutcome.get(10, TimeUnit.SECONDS));
      assertEquals(0, c.overflows());
    }
  }

  @Test
  void closingTheSlowStreamUnblocksTheReaderUnderBlock() throws Exception {
    DrpcOptions opts =
        DrpcOptions.builder().queueCapacity(2).overflowPolicy(OverflowPolicy.BLOCK).build();
    try (DrpcClient c = client(opts)) {
      DrpcStream flood = c.openStream("/test/Flood");
      flood.send("-1".getBytes(StandardCharsets.UTF_8)); // floods until its sends fail
      await(() -> flood.queue().size() == 2, "flood queue full, reader parked");
      flood.close(); // releases the queued messages, wakes the reader, tells the server
      byte[] u = pattern(300, 9);
      assertArrayEquals(u, c.invoke(ECHO_UNARY, u), "the connection goes on");
      Throwable serverSide = floodOutcome.get(10, TimeUnit.SECONDS);
      assertTrue(serverSide instanceof DrpcException, String.valueOf(serverSide));
    }
  }

  @Test
  void slowConsumerUnderCancelStreamIsCancelledOthersGoOn() throws Exception {
    DrpcOptions opts =
        DrpcOptions.builder().queueCapacity(2).overflowPolicy(OverflowPolicy.CANCEL_STREAM).build();
    try (DrpcClient c = client(opts);
        DrpcStream flood = c.openStream("/test/Flood")) {
      flood.send("-1".getBytes(StandardCharsets.UTF_8));
      // the other streams go on while nobody consumes the flood
      for (int i = 0; i < 20; i++) {
        byte[] u = pattern(50, i);
        assertArrayEquals(u, c.invoke(ECHO_UNARY, u));
      }
      await(() -> c.overflows() == 1, "flood stream cancelled");
      DrpcException e = assertThrows(DrpcException.class, () -> {
        while (true) {
          Slice m = flood.receive();
          assertNotNull(m);
          m.close();
        }
      });
      assertEquals(DrpcException.RESOURCE_EXHAUSTED, e.code());
      // the server's handler learns it too: its sends fail with our error
      Throwable serverSide = floodOutcome.get(10, TimeUnit.SECONDS);
      assertTrue(serverSide instanceof DrpcException, String.valueOf(serverSide));
      assertEquals(DrpcException.RESOURCE_EXHAUSTED, ((DrpcException) serverSide).code());
    }
  }

  @Test
  void malformedPeerIsDisconnectedOthersAreServed() throws Exception {
    try (DrpcClient good = client(DrpcOptions.DEFAULTS);
        java.nio.channels.SocketChannel bad = java.nio.channels.SocketChannel.open(tcp)) {
      // a Message for a stream that was never invoked, then garbage
      bad.write(ByteBuffer.wrap(new Wire().frame(Kind.MESSAGE, true, 3, 1, new byte[4]).bytes()));
      ByteBuffer sink = ByteBuffer.allocate(256);
      int n = 0;
      while (n >= 0) { // the server closes the connection: end of stream, nothing sent
        sink.clear();
        n = bad.read(sink);
        assertTrue(n <= 0, "server wrote " + n + " bytes to a malformed peer");
      }
      await(() -> server.protocolErrors() == 1, "protocol error counted");
      assertArrayEquals(new byte[] {5}, good.invoke(ECHO_UNARY, new byte[] {5}));
    }
  }

  @Test
  void metadataReachesTheHandler() throws Exception {
    try (DrpcClient c = client(DrpcOptions.DEFAULTS);
        DrpcStream s = c.openStream("/test/Meta", java.util.Map.of("trace", "t-1", "user", "ü"))) {
      try (Slice m = s.receive()) {
        assertEquals("{trace=t-1, user=ü}", Encoding.UTF8.decode(m));
      }
      assertNull(s.receive());
    }
  }

  @Test
  void closedClientFailsCalls() throws Exception {
    DrpcClient c = client(DrpcOptions.DEFAULTS);
    DrpcStream s = c.openStream(ECHO_STREAM);
    c.close();
    assertFalse(c.isOpen());
    assertThrows(IOException.class, () -> c.invoke(ECHO_UNARY, new byte[1]));
    assertThrows(IOException.class, s::receive);
    s.close();
  }

  @Test
  void serverCloseFailsOpenStreams() throws Exception {
    try (DrpcClient c = client(DrpcOptions.DEFAULTS);
        DrpcStream s = c.openStream(ECHO_STREAM)) {
      s.send(new byte[] {1});
      try (Slice m = s.receive()) {
        assertEquals(1, m.length());
      }
      server.close();
      IOException e = assertThrows(IOException.class, s::receive);
      assertNotNull(e.getMessage());
      await(() -> !c.isOpen(), "client saw the connection close");
    }
  }
}
