package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Recording, cascading, and a real HTTP client (curl) as a listener. */
class RelayFeaturesTest {
  @BeforeAll
  static void warmUp() throws Exception {
    Warmup.once();
  }

  @Test
  void recordsEachMountToAFileThatIsCompleteWhenTheSourceEnds(@TempDir Path dir) throws Exception {
    byte[] data = RelayEndToEndTest.random(1 << 20, 31);
    try (RelayServer server = RelayServer.start(Clients.config("--record-dir", dir.toString()))) {
      InetSocketAddress at = server.address();
      try (Clients.Source src = Clients.source(at, "/show/live.ogg", false, false)) {
        RelayEndToEndTest.sendAll(src, data, 32);
        src.finish();
      }
      RelayEndToEndTest.assertClean(server);
    }
    List<Path> files;
    try (var s = Files.list(dir)) {
      files = s.toList();
    }
    assertEquals(1, files.size(), files.toString());
    String name = files.get(0).getFileName().toString();
    assertTrue(name.matches("show_live-\\d{8}T\\d{6}Z\\.ogg"), name);
    assertArrayEquals(data, Files.readAllBytes(files.get(0)));
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "chunked={0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
  void shutdownClosesRecordingsWithEverythingReceived(boolean chunked, @TempDir Path dir) throws Exception {
    byte[] data = RelayEndToEndTest.random(300_000, 33);
    RelayServer server = RelayServer.start(Clients.config("--record-dir", dir.toString()));
    try (Clients.Source src = Clients.source(server.address(), "/cut.mp3", chunked, false)) {
      RelayEndToEndTest.sendAll(src, data, 34);
      RelayEndToEndTest.await(() -> server.mounts().get(0).bytesIn() == data.length, "published");
      server.close(); // mid-stream, as SIGTERM does
    }
    try (var s = Files.list(dir)) {
      Path f = s.findFirst().orElseThrow();
      assertArrayEquals(data, Files.readAllBytes(f));
    }
  }

  @Test
  void sigtermStopsTheRelayCleanlyWithRecordingsComplete(@TempDir Path dir) throws Exception {
    int port;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process relay = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
        "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        RelayMain.class.getName(), "--listen", "127.0.0.1:" + port, "--source-password", Clients.PASSWORD,
        "--record-dir", dir.resolve("rec").toString(), "--status-interval", "0", "--engine", Clients.ENGINE)
        .redirectErrorStream(true).redirectOutput(dir.resolve("relay.log").toFile()).start();
    try {
      InetSocketAddress at = new InetSocketAddress("127.0.0.1", port);
      Clients.awaitListening(at);
      byte[] data = RelayEndToEndTest.random(500_000, 39);
      try (Clients.Source src = Clients.source(at, "/term.mp3", false, false)) {
        RelayEndToEndTest.sendPaced(src, data, 40, 4 << 20); // live, as sources are
        RelayEndToEndTest.await(() -> {
          try {
            return Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n")
                .contains("\"total_bytes_read\":" + data.length);
          } catch (Exception e) {
            return false;
          }
        }, "all bytes received");
        relay.destroy(); // SIGTERM
        assertTrue(relay.waitFor(20, TimeUnit.SECONDS), "the relay exits on SIGTERM");
      }
      assertEquals(143, relay.exitValue(), "killed by SIGTERM after the shutdown hook ran");
      String log = Files.readString(dir.resolve("relay.log"));
      assertTrue(log.contains("shutting down") && log.contains("stopped"), log);
      try (var files = Files.list(dir.resolve("rec"))) {
        Path f = files.findFirst().orElseThrow();
        assertArrayEquals(data, Files.readAllBytes(f), "the recording is complete; relay log:\n" + log);
      }
    } finally {
      relay.destroyForcibly();
    }
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "engine={0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"splice", "userspace", "userspace+io_uring"})
  void aRelayPullsAMountFromAnotherAndServesIt(String engine) throws Exception {
    byte[] data = RelayEndToEndTest.random(2 << 20, 35);
    try (RelayServer origin = RelayServer.start(Clients.configOn(engine, "--burst-size", "0"))) {
      String url = "http://127.0.0.1:" + origin.address().getPort() + "/casc.mp3";
      try (Clients.Source src = Clients.source(origin.address(), "/casc.mp3", false, false);
          // the edge asks for ICY metadata (the default) and strips it: at 4 MB/s a block every 4 ms
          RelayServer edge = RelayServer.start(Clients.configOn(engine, "--relay", url,
              "--queue-size", "4m"))) {
        RelayEndToEndTest.await(() -> edge.mounts().size() == 1, "edge pulls the mount");
        RelayEndToEndTest.await(() -> origin.mounts().get(0).listeners() == 1, "edge is a listener");
        assertEquals("/casc.mp3", edge.mounts().get(0).mount());
        assertEquals("test stream", edge.mounts().get(0).name());
        assertEquals(engine, Clients.engineOf(origin.mounts().get(0)),
            "a raw source gets the engine asked for");
        // a pulled body is read into pooled slices: the userspace engine serves it, whatever was
        // asked for (with io_uring sends unless they are off), and the status page says so
        boolean uring = !engine.equals("userspace") && io.nocopy.fanout.Fanout.whyNoIoUring() == null;
        assertEquals("userspace", edge.mounts().get(0).engine());
        assertEquals(uring, edge.mounts().get(0).ioUring());
        assertTrue(Clients.exchange(edge.address(), "GET /status-json.xsl HTTP/1.0\r\n\r\n")
            .contains("\"nocopy_engine\":\"userspace\",\"nocopy_io_uring\":" + uring));
        try (Clients.Listener l = new Clients.Listener(edge.address(), "/casc.mp3")) {
          assertTrue(l.head.contains("icy-name:test stream"), l.head);
          RelayEndToEndTest.await(() -> edge.mounts().get(0).listeners() == 1, "listener on the edge");
          RelayEndToEndTest.sendPaced(src, data, 36, 4 << 20);
          src.finish();
          assertArrayEquals(data, l.awaitEnd());
        }
        RelayEndToEndTest.await(() -> edge.mounts().isEmpty(), "edge mount ends with the origin's");
      }
    }
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "engine={0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"splice", "userspace", "userspace+io_uring"})
  void anUnpacedSourceIsRecordedAndCascadedWhole(String engine, @TempDir Path dir) throws Exception {
    // far more than any queue here, sent as fast as the relay reads it: the origin must not read
    // faster than its recording and the cascade take it, nor the edge faster than its listener
    byte[] data = RelayEndToEndTest.random(24 << 20, 37);
    Path originDir = Files.createDirectories(dir.resolve("origin"));
    Path edgeDir = Files.createDirectories(dir.resolve("edge"));
    try (RelayServer origin = RelayServer.start(Clients.configOn(engine, "--burst-size", "0",
        "--queue-size", "256k", "--record-dir", originDir.toString()))) {
      String url = "http://127.0.0.1:" + origin.address().getPort() + "/flat.mp3";
      try (Clients.Source src = Clients.source(origin.address(), "/flat.mp3", false, false);
          RelayServer edge = RelayServer.start(Clients.config("--relay", url, "--queue-size", "256k",
              "--burst-size", "0", "--record-dir", edgeDir.toString()))) {
        RelayEndToEndTest.await(() -> edge.mounts().size() == 1, "edge pulls the mount");
        RelayEndToEndTest.await(() -> origin.mounts().get(0).listeners() == 1, "edge is a listener");
        try (Clients.Listener l = new Clients.Listener(edge.address(), "/flat.mp3")) {
          RelayEndToEndTest.await(() -> edge.mounts().get(0).listeners() == 1, "listener on the edge");
          RelayEndToEndTest.sendAll(src, data, 38);
          src.finish();
          assertArrayEquals(data, l.awaitEnd(), "the edge's listener");
        }
        RelayEndToEndTest.await(() -> edge.mounts().isEmpty(), "edge mount ends with the origin's");
        assertEquals(0, edge.recorder().resumes(), "the edge's recording never fell behind");
      }
      RelayEndToEndTest.assertClean(origin);
      assertEquals(0, origin.recorder().resumes(), "the origin's recording never fell behind");
    }
    for (Path d : List.of(originDir, edgeDir)) {
      try (var s = Files.list(d)) {
        assertArrayEquals(data, Files.readAllBytes(s.findFirst().orElseThrow()), "recording in " + d);
      }
    }
  }

  @Test
  void curlAsAListenerReceivesTheExactStream(@TempDir Path dir) throws Exception {
    Tools.require("curl");
    byte[] data = RelayEndToEndTest.random(1 << 20, 37);
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      try (Clients.Source src = Clients.source(at, "/curl.mp3", true, false)) {
        File out = dir.resolve("out.mp3").toFile();
        Process curl = new ProcessBuilder("curl", "-sS", "-o", out.getPath(), "-D", dir.resolve("head").toString(),
            "http://127.0.0.1:" + at.getPort() + "/curl.mp3").redirectErrorStream(true).start();
        RelayEndToEndTest.await(() -> server.mounts().get(0).listeners() == 1, "curl connected");
        RelayEndToEndTest.sendPaced(src, data, 38, 4 << 20);
        src.finish();
        assertTrue(curl.waitFor(30, TimeUnit.SECONDS), "curl ends when the stream ends");
        assertEquals(0, curl.exitValue(), new String(curl.getInputStream().readAllBytes()));
        assertArrayEquals(data, Files.readAllBytes(out.toPath()));
        assertTrue(Files.readString(dir.resolve("head")).startsWith("HTTP/1.0 200 OK"));
      }
      RelayEndToEndTest.assertClean(server);
    }
  }
}
