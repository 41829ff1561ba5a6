package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-mount settings of an icecast.xml, checked over HTTP as Icecast 2.4.4 answers them (the
 * answers were captured from it): {@code max-listeners} (403 {@code max listeners reached}), the
 * server's and the mount's {@code http-headers}, {@code stream-name} in the listener head and the
 * {@code stream-*}/{@code genre}/{@code bitrate}/{@code type} overrides on the status page,
 * {@code hidden}, {@code hostname}/{@code location}/{@code admin}, {@code max-listener-duration},
 * {@code dump-file}, and the mount's own {@code burst-size}.
 */
class MountSettingsEndToEndTest {
  @TempDir Path dir;

  @BeforeAll
  static void warmUp() throws Exception {
    Warmup.once();
  }

  private RelayServer start(String mounts) throws Exception {
    int port = ConfigFileEndToEndTest.freePort(false);
    Path f = dir.resolve("icecast.xml");
    Files.writeString(f, """
        <icecast>
          <hostname>radio.test</hostname><location>Studio 9</location><admin>ops@radio.test</admin>
          <authentication><source-password>%s</source-password><admin-password>apw</admin-password></authentication>
          <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address></listen-socket>
          <http-headers><header name="X-Global" value="g1"/></http-headers>
          %s
        </icecast>
        """.formatted(Clients.PASSWORD, port, mounts));
    return RelayServer.start(CommandLine.parse(Map.of(), "--config", f.toString(), "--status-interval", "0",
        "--engine", Clients.ENGINE));
  }

  /** A capture of Icecast 2.4.4's answer (test resources, icecast/config) from its Content-Type line on. */
  static String icecastTail(String capture) throws Exception {
    try (var in = MountSettingsEndToEndTest.class.getResourceAsStream("/icecast/config/" + capture)) {
      String s = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return s.substring(s.indexOf("Content-Type:"));
    }
  }

  private static Clients.Source source(InetSocketAddress at, String mount, String type) throws Exception {
    return Clients.source(at, mount, false, false, type);
  }

  @Test
  void maxListenersHeadersOverridesHiddenAndTheStation() throws Exception {
    Tools.require("curl");
    try (RelayServer server = start("""
        <mount><mount-name>/a.mp3</mount-name><max-listeners>1</max-listeners>
          <stream-name>Override Name</stream-name><stream-description>Override Desc</stream-description>
          <stream-url>http://override.example/</stream-url><genre>OvGenre</genre><bitrate>96</bitrate>
          <type>audio/x-override</type><public>1</public>
          <http-headers><header name="X-Mount" value="m1"/></http-headers></mount>
        <mount><mount-name>/hid.mp3</mount-name><hidden>1</hidden></mount>
        """);
        Clients.Source a = source(server.address(), "/a.mp3", "audio/mpeg");
        Clients.Source hid = source(server.address(), "/hid.mp3", "audio/mpeg")) {
      InetSocketAddress at = server.address();
      try (Clients.Listener first = new Clients.Listener(at, "/a.mp3")) {
        // Icecast: its standard headers, the server's and the mount's http-headers, then the source's
        // icy-* lines with the configured stream-name for icy-name and the rest as the source sent
        String h = first.head;
        assertTrue(h.startsWith("HTTP/1.0 200 OK\r\n"), h);
        String ice = icecastTail("listener-head-mount-settings.txt");
        String standard = ice.substring(0, ice.indexOf("icy-"));
        assertTrue(h.contains(standard), "Icecast's lines, then the server's and the mount's headers: " + h);
        assertTrue(h.contains("icy-genre:tests\r\nicy-name:Override Name\r\n"), h);
        assertTrue(h.contains("Content-Type: audio/mpeg\r\n"), "the listener's type is the source's: " + h);
        RelayEndToEndTest.await(() -> server.mounts().get(0).listeners() == 1, "the first listener");

        String second = Clients.exchange(at, "GET /a.mp3 HTTP/1.0\r\n\r\n");
        assertTrue(second.startsWith("HTTP/1.0 403 Forbidden\r\n"), second);
        assertTrue(second.endsWith(icecastTail("403-max-listeners.txt")), second);
        try (Clients.Listener other = new Clients.Listener(at, "/hid.mp3")) {
          assertTrue(other.head.startsWith("HTTP/1.0 200 OK\r\n"), "a hidden mount plays: " + other.head);
        }
      }

      Process curl = new ProcessBuilder("curl", "-s", "-i", "-m", "10",
          "http://127.0.0.1:" + at.getPort() + "/status-json.xsl").redirectErrorStream(true).start();
      String answer = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, curl.waitFor());
      assertTrue(answer.contains("\r\nX-Global: g1\r\n"), answer);
      @SuppressWarnings("unchecked")
      Map<String, Object> ice = (Map<String, Object>) ((Map<String, Object>) Json.parse(
          answer.substring(answer.indexOf("\r\n\r\n") + 4))).get("icestats");
      assertEquals("ops@radio.test", ice.get("admin"));
      assertEquals("Studio 9", ice.get("location"));
      assertEquals("radio.test", ice.get("host"));
      @SuppressWarnings("unchecked")
      Map<String, Object> s = (Map<String, Object>) ice.get("source"); // one: the hidden mount is left out
      assertEquals("http://radio.test:" + at.getPort() + "/a.mp3", s.get("listenurl"));
      assertEquals("Override Name", s.get("server_name"));
      assertEquals("Override Desc", s.get("server_description"));
      assertEquals("http://override.example/", s.get("server_url"));
      assertEquals("OvGenre", s.get("genre"));
      assertEquals(new BigDecimal(96), s.get("bitrate"));
      assertEquals("audio/x-override", s.get("server_type"));
      assertEquals(2, server.mounts().size(), "hidden from the status page, not from the server");
      assertEquals(List.of("/a.mp3"), server.listedMounts().stream().map(MountSnapshot::mount).toList());
    }
  }

  @Test
  void aListenerIsCutAtMaxListenerDurationAndOthersStay() throws Exception {
    try (RelayServer server = start("""
        <mount><mount-name>/dur.mp3</mount-name><max-listener-duration>2</max-listener-duration></mount>
        """);
        Clients.Source src = source(server.address(), "/dur.mp3", "application/octet-stream");
        Clients.Source other = source(server.address(), "/free.mp3", "application/octet-stream")) {
      byte[] chunk = RelayEndToEndTest.random(4096, 61);
      try (Clients.Listener timed = new Clients.Listener(server.address(), "/dur.mp3");
          Clients.Listener free = new Clients.Listener(server.address(), "/free.mp3")) {
        long start = System.nanoTime();
        while (timed.reader.isAlive() && System.nanoTime() - start < 30_000_000_000L) {
          src.send(chunk, 0, chunk.length);
          other.send(chunk, 0, chunk.length);
          Thread.sleep(50);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertFalse(timed.reader.isAlive(), "the listener of /dur.mp3 is disconnected");
        assertTrue(seconds >= 1.5, "not before its 2 seconds: " + seconds);
        assertTrue(free.reader.isAlive(), "a mount without the setting keeps its listener");
        assertTrue(timed.received() > 0);
      }
    }
  }

  @Test
  void dumpFileAppendsEverySessionAndTheMountsBurstSizeApplies() throws Exception {
    Path dumps = Files.createDirectories(dir.resolve("dumps"));
    try (RelayServer server = start("""
        <mount><mount-name>/dump.bin</mount-name><dump-file>%s/show-%%Y.bin</dump-file>
          <burst-size>1000</burst-size></mount>
        """.formatted(dumps))) {
      byte[] one = RelayEndToEndTest.random(100_000, 62);
      byte[] two = RelayEndToEndTest.random(50_000, 63);
      try (Clients.Source src = source(server.address(), "/dump.bin", "application/octet-stream")) {
        src.send(one, 0, one.length);
        RelayEndToEndTest.await(() -> !server.mounts().isEmpty() && server.mounts().get(0).bytesIn() == one.length,
            "received");
        // a late listener gets the mount's 1000-byte burst (the global one is 65535), then nothing
        try (Socket l = Clients.get(server.address(), "/dump.bin", "")) {
          Clients.readHead(l.getInputStream());
          l.setSoTimeout(1000);
          ByteArrayOutputStream got = new ByteArrayOutputStream();
          byte[] buf = new byte[8192];
          try {
            for (int n; (n = l.getInputStream().read(buf)) > 0; ) {
              got.write(buf, 0, n);
            }
          } catch (java.net.SocketTimeoutException quiet) {
            // the source is quiet: everything the burst holds has arrived
          }
          assertArrayEquals(java.util.Arrays.copyOfRange(one, one.length - 1000, one.length), got.toByteArray());
        }
        src.finish();
      }
      RelayEndToEndTest.await(() -> server.mounts().isEmpty(), "the first session ends");
      try (Clients.Source src = source(server.address(), "/dump.bin", "application/octet-stream")) {
        src.send(two, 0, two.length);
        src.finish();
      }
      RelayEndToEndTest.await(() -> server.mounts().isEmpty(), "the second session ends");
      Path file = dumps.resolve("show-" + java.time.Year.now() + ".bin");
      byte[] both = new byte[one.length + two.length];
      System.arraycopy(one, 0, both, 0, one.length);
      System.arraycopy(two, 0, both, one.length, two.length);
      RelayEndToEndTest.await(() -> file.toFile().length() == both.length, "the dump written out");
      assertArrayEquals(both, Files.readAllBytes(file), "both sessions, appended");
    }
    List<String> names = new ArrayList<>();
    try (var s = Files.list(dumps)) {
      s.forEach(p -> names.add(p.getFileName().toString()));
    }
    assertEquals(1, names.size(), names.toString());
  }

  @Test
  void dumpNamesTakeTimeFields() {
    java.time.ZonedDateTime t = java.time.ZonedDateTime.of(2026, 3, 4, 5, 6, 7, 0, java.time.ZoneOffset.UTC);
    assertEquals("/d/x-20260304-050607-%-%q.mp3", Recorder.dumpName("/d/x-%Y%m%d-%H%M%S-%%-%q.mp3", t));
  }
}
