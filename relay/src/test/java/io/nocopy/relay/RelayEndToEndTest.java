package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Sources and listeners over loopback: every listener gets exactly the source's bytes. */
class RelayEndToEndTest {
  private long fdsBefore;

  /**
   * One short exchange first, so that descriptors the JDK opens once per process (the virtual
   * thread pollers' epoll and wake-up fds, for example) exist before any baseline is taken.
   */
  @org.junit.jupiter.api.BeforeAll
  static void warmUp() throws Exception {
    Warmup.once();
  }

  @BeforeEach
  void countFds() throws Exception {
    fdsBefore = Clients.openFds();
  }

  @AfterEach
  void fdsBackToBaseline() throws Exception {
    await(() -> {
      try {
        return Clients.openFds() <= fdsBefore;
      } catch (Exception e) {
        return false;
      }
    }, "file descriptors back to " + fdsBefore);
  }

  static void await(BooleanSupplier cond, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(10);
    }
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static void sendAll(Clients.Source src, byte[] data, long seed) throws Exception {
    sendPaced(src, data, seed, 0);
  }

  /**
   * Sends in random pieces; with {@code bytesPerSecond > 0}, at about that rate, as a live source
   * does (an unpaced source outruns any listener and gets them dropped, as Icecast would).
   */
  static void sendPaced(Clients.Source src, byte[] data, long seed, long bytesPerSecond)
      throws Exception {
    Random r = new Random(seed);
    long start = System.nanoTime();
    for (int off = 0; off < data.length; ) {
      int n = Math.min(data.length - off, 1 + r.nextInt(20_000));
      src.send(data, off, n);
      off += n;
      if (bytesPerSecond > 0) {
        long due = start + off * 1_000_000_000L / bytesPerSecond;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
      }
    }
  }

  static void assertClean(RelayServer server) throws InterruptedException {
    await(() -> server.mounts().isEmpty(), "mounts gone");
    await(() -> server.openConnections() == 0, "connections closed");
    await(() -> server.allocator().inUse() == 0, "every pooled block released");
  }

  @ParameterizedTest(name = "engine={0} chunked={1} legacy={2}")
  @CsvSource({"splice,false,false", "splice,true,false", "splice,false,true",
      "userspace,false,false", "userspace,true,false", "userspace,false,true",
      "userspace+io_uring,false,false", "userspace+io_uring,true,false"})
  void everyListenerGetsExactlyTheSourceBytes(String engine, boolean chunked, boolean legacy)
      throws Exception {
    byte[] data = random(3 << 20, 42);
    try (RelayServer server = RelayServer.start(Clients.configOn(engine, "--queue-size", "1m"))) {
      InetSocketAddress at = server.address();
      List<Clients.Listener> ls = new ArrayList<>();
      try (Clients.Source src = Clients.source(at, "/live.mp3", chunked, legacy)) {
        for (int i = 0; i < 3; i++) {
          Clients.Listener l = new Clients.Listener(at, "/live.mp3");
          assertTrue(l.head.startsWith("HTTP/1.0 200 OK"), l.head);
          assertTrue(l.head.contains("Content-Type: audio/mpeg"), l.head);
          assertTrue(l.head.contains("icy-name:test stream"), l.head);
          ls.add(l);
        }
        await(() -> server.mounts().get(0).listeners() == 3, "3 listeners");
        // chunked sources are always served by the userspace engine (with io_uring unless it is
        // off or does not work here)
        String chunkedEngine = io.nocopy.fanout.Fanout.whyNoIoUring() == null
            ? "userspace+io_uring" : "userspace";
        assertEquals(chunked && engine.equals("splice") ? chunkedEngine : engine,
            Clients.engineOf(server.mounts().get(0)));
        sendPaced(src, data, 7, 4 << 20);
        src.finish();
        for (Clients.Listener l : ls) {
          assertArrayEquals(data, l.awaitEnd(), "listener bytes");
          l.close();
        }
      }
      assertClean(server);
    }
  }

  @org.junit.jupiter.api.Test
  void engineAutoPicksIoUringSendsWhereTheyWorkElseSplice() throws Exception {
    boolean uring = io.nocopy.fanout.Fanout.whyNoIoUring() == null;
    boolean splice;
    try (java.nio.channels.SocketChannel a = java.nio.channels.SocketChannel.open();
        java.nio.channels.SocketChannel b = java.nio.channels.SocketChannel.open()) {
      splice = io.nocopy.pipe.Transfer.accelerated(a, b);
    }
    String fallback = splice ? "splice" : "userspace";
    assertEquals(uring ? "userspace+io_uring" : fallback, rawSourceEngine("--engine", "auto"));
    assertEquals(fallback, rawSourceEngine("--engine", "auto", "--io-uring", "off"));
  }

  /** The engine a raw source's mount gets from a relay with these flags, as configOn names it. */
  private static String rawSourceEngine(String... flags) throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config(flags))) {
      try (Clients.Source src = Clients.source(server.address(), "/auto.mp3", false, false)) {
        await(() -> server.mounts().size() == 1, "the mount");
        return Clients.engineOf(server.mounts().get(0));
      } finally {
        assertClean(server);
      }
    }
  }

  @org.junit.jupiter.api.Test
  void ioUringSendsGiveEveryListenerTheSourceBytesAndTheStatusSaysSo() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(io.nocopy.fanout.Fanout.whyNoIoUring() == null,
        () -> "io_uring unavailable: " + io.nocopy.fanout.Fanout.whyNoIoUring());
    byte[] data = random(3 << 20, 43);
    try (RelayServer server = RelayServer.start(Clients.config("--queue-size", "1m", "--engine",
        "userspace", "--io-uring", "on", "--coalesce-ms", "0"))) {
      InetSocketAddress at = server.address();
      List<Clients.Listener> ls = new ArrayList<>();
      try (Clients.Source src = Clients.source(at, "/live.mp3", false, false)) {
        for (int i = 0; i < 4; i++) {
          ls.add(new Clients.Listener(at, "/live.mp3"));
        }
        await(() -> server.mounts().get(0).listeners() == 4, "4 listeners");
        assertEquals("userspace", server.mounts().get(0).engine());
        assertTrue(server.mounts().get(0).ioUring());
        assertTrue(Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n")
            .contains("\"nocopy_engine\":\"userspace\",\"nocopy_io_uring\":true"));
        sendPaced(src, data, 8, 4 << 20);
        src.finish();
        for (Clients.Listener l : ls) {
          assertArrayEquals(data, l.awaitEnd(), "listener bytes");
          l.close();
        }
      }
      assertClean(server);
    }
  }

  @ParameterizedTest(name = "engine={0}")
  @CsvSource({"splice", "userspace", "userspace+io_uring"})
  void newListenerGetsTheBurstThenTheLiveStreamWithoutGapOrDuplicate(String engine) throws Exception {
    byte[] before = random(200_000, 1);
    byte[] after = random(300_000, 2);
    try (RelayServer server = RelayServer.start(Clients.configOn(engine, "--burst-size", "64k"))) {
      InetSocketAddress at = server.address();
      try (Clients.Source src = Clients.source(at, "/b.mp3", false, false)) {
        sendAll(src, before, 3);
        await(() -> !server.mounts().isEmpty() && server.mounts().get(0).bytesIn() == before.length,
            "source bytes published");
        try (Clients.Listener l = new Clients.Listener(at, "/b.mp3")) {
          await(() -> server.mounts().get(0).listeners() == 1, "listener joined");
          sendAll(src, after, 4);
          src.finish();
          byte[] got = l.awaitEnd();
          byte[] expect = new byte[65536 + after.length];
          System.arraycopy(before, before.length - 65536, expect, 0, 65536);
          System.arraycopy(after, 0, expect, 65536, after.length);
          assertEquals(expect.length, got.length);
          assertArrayEquals(expect, got);
        }
      }
      assertClean(server);
    }
  }

  @ParameterizedTest(name = "engine={0}")
  @CsvSource({"splice", "userspace", "userspace+io_uring"})
  void aSlowListenerIsDroppedWhileTenFastOnesGetEverything(String engine) throws Exception {
    byte[] data = random(10 << 20, 5);
    try (RelayServer server = RelayServer.start(Clients.configOn(engine, "--queue-size", "1m"))) {
      InetSocketAddress at = server.address();
      try (Clients.Source src = Clients.source(at, "/s.mp3", false, false)) {
        List<Clients.Listener> fast = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
          fast.add(new Clients.Listener(at, "/s.mp3"));
        }
        // The slow one reads its head and then nothing, with a tiny receive buffer.
        Socket slow = new Socket();
        slow.setReceiveBufferSize(4096);
        slow.connect(at);
        slow.getOutputStream().write("GET /s.mp3 HTTP/1.0\r\n\r\n".getBytes());
        await(() -> server.mounts().get(0).listeners() == 11, "11 listeners");
        sendPaced(src, data, 6, 4 << 20);
        await(() -> server.mounts().get(0).listeners() == 10, "slow listener dropped");
        src.finish();
        for (Clients.Listener l : fast) {
          assertArrayEquals(data, l.awaitEnd());
          l.close();
        }
        slow.close();
      }
      assertClean(server);
    }
  }

  @Test
  void fiveHundredListenersComeAndGoWhileASourceStreams() throws Exception {
    try (RelayServer server =
            RelayServer.start(Clients.config("--max-listeners-per-ip", "1000", "--max-listeners", "1000",
                "--queue-size", "8m"));
        ExecutorService pool = Executors.newFixedThreadPool(16)) {
      InetSocketAddress at = server.address();
      try (Clients.Source src = Clients.source(at, "/churn.mp3", false, false)) {
        Thread feeder = Thread.ofPlatform().start(() -> {
          byte[] chunk = random(8192, 9);
          try {
            while (!Thread.currentThread().isInterrupted()) {
              src.send(chunk, 0, chunk.length);
              Thread.sleep(2);
            }
          } catch (Exception e) {
            // source closed at the end of the test
          }
        });
        List<Future<Integer>> got = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
          got.add(pool.submit(() -> {
            try (Clients.Listener l = new Clients.Listener(at, "/churn.mp3")) {
              assertTrue(l.head.startsWith("HTTP/1.0 200"), "head: '" + l.head + "'");
              await(() -> l.received() >= 8192, "some bytes");
              return l.received();
            }
          }));
        }
        for (Future<Integer> f : got) {
          assertTrue(f.get(60, TimeUnit.SECONDS) >= 8192);
        }
        await(() -> server.mounts().get(0).listeners() == 0, "all listeners gone");
        // and the relay still serves a newcomer
        try (Clients.Listener l = new Clients.Listener(at, "/churn.mp3")) {
          await(() -> l.received() > 0, "newcomer served");
        }
        feeder.interrupt();
        feeder.join();
      }
      assertClean(server);
    }
  }

  @ParameterizedTest(name = "engine={0}")
  @CsvSource({"splice", "userspace", "userspace+io_uring"})
  void aSourceThatDisconnectsAbruptlyEndsItsListenersCleanly(String engine) throws Exception {
    byte[] data = random(100_000, 11);
    try (RelayServer server = RelayServer.start(Clients.configOn(engine, "--burst-size", "0"))) {
      InetSocketAddress at = server.address();
      Clients.Source src = Clients.source(at, "/gone.mp3", false, false);
      try (Clients.Listener l = new Clients.Listener(at, "/gone.mp3")) {
        await(() -> server.mounts().get(0).listeners() == 1, "listener joined");
        sendAll(src, data, 12);
        await(() -> server.mounts().get(0).bytesIn() == data.length, "published");
        src.socket.setSoLinger(true, 0); // RST instead of FIN
        src.close();
        assertArrayEquals(data, l.awaitEnd(), "everything before the reset, then a clean end");
        assertEquals(null, l.failure);
      }
      // the mount is free again (the relay frees it once it has seen the reset)
      await(() -> server.mounts().isEmpty(), "mount freed");
      try (Clients.Source again = Clients.source(at, "/gone.mp3", false, false)) {
        again.finish();
      }
      assertClean(server);
    }
  }

  @Test
  void statusJsonHasIcecastsShape() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      String none = Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n");
      assertEquals(200, Clients.status(none));
      assertTrue(none.contains("{\"icestats\":{") && !none.contains("\"source\""), none);
      String stats = Clients.exchange(at, "GET /admin/nocopy-stats.json HTTP/1.0\r\n"
          + Clients.adminAuth() + "\r\n");
      assertEquals(200, Clients.status(stats));
      assertTrue(stats.matches("(?s).*\\{\"cpu_ns\":\\d+,\"allocated_bytes\":\\d+,\"gc_count\":\\d+.*"
          + "\"mounts\":0,\"listeners\":0,\"bytes_in\":0,\"bytes_out\":0.*"), stats);
      try (Clients.Source a = Clients.source(at, "/a.mp3", false, false)) {
        String one = Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n");
        assertTrue(one.contains("\"source\":{\"genre\":\"tests\""), one);
        assertTrue(one.contains("\"listenurl\":\"http://127.0.0.1:" + at.getPort() + "/a.mp3\""), one);
        assertTrue(one.contains("\"server_name\":\"test stream\""), one);
        assertTrue(one.contains("\"server_type\":\"audio/mpeg\""), one);
        // libshout's metadata update, as ezstream sends it
        String upd = Clients.exchange(at, "GET /admin/metadata?mode=updinfo&mount=/a.mp3&song=Hello+World"
            + " HTTP/1.0\r\nAuthorization: " + Clients.basic(Clients.PASSWORD) + "\r\n\r\n");
        assertEquals(200, Clients.status(upd), upd);
        assertTrue(upd.contains("<return>1</return>"), upd);
        assertEquals(401, Clients.status(Clients.exchange(at,
            "GET /admin/metadata?mode=updinfo&mount=/a.mp3&song=x HTTP/1.0\r\n\r\n")));
        assertEquals(404, Clients.status(Clients.exchange(at, "GET /admin/metadata?mode=updinfo&mount=/none"
            + " HTTP/1.0\r\nAuthorization: " + Clients.basic(Clients.PASSWORD) + "\r\n\r\n")));
        assertTrue(Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n")
            .contains("\"title\":\"Hello World\""));
        try (Clients.Source b = Clients.source(at, "/b.mp3", false, false)) {
          String two = Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n");
          assertTrue(two.contains("\"source\":[{"), two);
          b.finish();
        }
        a.finish();
      }
      assertClean(server);
    }
  }

  @Test
  void listenersOfOneMountDoNotSeeAnother() throws Exception {
    byte[] x = random(50_000, 20);
    byte[] y = random(70_000, 21);
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      try (Clients.Source sx = Clients.source(at, "/x.ogg", false, false);
          Clients.Source sy = Clients.source(at, "/dir/y.ogg", true, false);
          Clients.Listener lx = new Clients.Listener(at, "/x.ogg");
          Clients.Listener ly = new Clients.Listener(at, "/dir/y.ogg")) {
        await(() -> server.mounts().size() == 2
            && server.mounts().stream().allMatch(m -> m.listeners() == 1), "both joined");
        sendAll(sx, x, 1);
        sendAll(sy, y, 2);
        sx.finish();
        sy.finish();
        assertTrue(Arrays.equals(x, lx.awaitEnd()));
        assertTrue(Arrays.equals(y, ly.awaitEnd()));
      }
      assertClean(server);
    }
  }
}
