package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.relay.config.LogSettings;
import io.nocopy.relay.http.HttpHead;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access log in Icecast's form (compared with a line Icecast 2.4.4 wrote), what the relay
 * writes to it for sources, listeners and pages, its reopening on SIGHUP, the error log's form and
 * level, and the log flags.
 */
class LogsTest {
  @Test
  void accessLineIsIcecasts() throws Exception {
    List<String> icecast = Files.readAllLines(Path.of(LogsTest.class.getResource("/icecast/admin/access.log").toURI()));
    String captured = icecast.stream().filter(l -> l.contains("second-listener")).findFirst().orElseThrow();
    HttpHead.Request head = new HttpHead.Request("GET", "/live.mp3", "HTTP/1.1", List.of(
        new HttpHead.Header("User-Agent", "second-listener/2.0"),
        new HttpHead.Header("Referer", "http://example.org/player")));
    String ours = AccessLog.line("127.0.0.1", ZonedDateTime.of(2026, 12, 3, 5, 41, 57, 0, ZoneOffset.UTC),
        head, 200, 85683, 3);
    assertEquals(captured + "\n", ours);
    // no referer, no user agent: dashes, as Icecast writes them; the query is left out
    String bare = AccessLog.line("10.0.0.1", ZonedDateTime.of(2026, 1, 2, 3, 4, 5, 0, ZoneOffset.UTC),
        new HttpHead.Request("GET", "/admin/metadata?pass=secret&song=x", "HTTP/1.0", List.of()), 401, 328, 0);
    assertEquals("10.0.0.1 - - [02/Jan/2026:03:04:05 +0000] \"GET /admin/metadata HTTP/1.0\" 401 328 \"-\" \"-\" 0\n", bare);
    // a client cannot end its field or forge a line
    String forged = AccessLog.line("10.0.0.1", ZonedDateTime.of(2026, 1, 2, 3, 4, 5, 0, ZoneOffset.UTC),
        new HttpHead.Request("GET", "/a", "HTTP/1.0", List.of(new HttpHead.Header("User-Agent", "x\" 200 \"\\\u0001"))),
        404, 1, 0);
    assertTrue(forged.endsWith("\"x\\\" 200 \\\"\\\\\\x01\" 0\n"), forged);
  }

  @Test
  void theRelayLogsEveryRequestAndReopensOnHangup(@TempDir Path dir) throws Exception {
    RelayConfig config = Clients.config("--log-dir", dir.toString(), "--access-log", "access.log");
    Path log = dir.resolve("access.log");
    try (RelayServer server = RelayServer.start(config)) {
      InetSocketAddress at = server.address();
      assertEquals(200, Clients.status(Clients.exchange(at, "GET /status-json.xsl HTTP/1.1\r\nUser-Agent: curl/7.88.1\r\n\r\n")));
      assertEquals(401, Clients.status(Clients.exchange(at, "GET /admin/stats HTTP/1.1\r\n\r\n")));
      int listenerGot;
      try (Socket src = AdminApiTest.source(at, "/live.mp3")) {
        AdminApiTest.feed(src);
        try (Socket l = Clients.get(at, "/live.mp3", "User-Agent: player/1\r\nReferer: http://example.org/\r\n")) {
          RelayEndToEndTest.await(() -> server.mount("/live.mp3").listeners() == 1, "the listener");
          AdminApiTest.feed(src);
          src.shutdownOutput(); // the source leaves: the listener gets the rest, then the end
          InputStream in = l.getInputStream();
          listenerGot = in.readAllBytes().length;
        }
      }
      RelayEndToEndTest.await(() -> lines(log).size() == 4, "four lines");
      List<String> lines = lines(log);
      String pattern = "127\\.0\\.0\\.1 - - \\[\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}\\] ";
      // a line is written when its connection ends: the order of two quick requests' lines may vary
      String status = lines.stream().filter(s -> s.contains("/status-json.xsl")).findFirst().orElseThrow();
      assertTrue(status.matches(pattern + "\"GET /status-json.xsl HTTP/1.1\" 200 \\d+ \"-\" \"curl/7.88.1\" 0"), status);
      String stats = lines.stream().filter(s -> s.contains("/admin/stats")).findFirst().orElseThrow();
      assertTrue(stats.matches(pattern + "\"GET /admin/stats HTTP/1.1\" 401 \\d+ \"-\" \"-\" 0"), stats);
      // Icecast's 63 bytes: the 100 Continue and the 200 OK
      String put = lines.stream().filter(s -> s.contains("PUT")).findFirst().orElseThrow();
      assertTrue(put.matches(pattern + "\"PUT /live.mp3 HTTP/1.1\" 200 63 \"-\" \"Lavf/59.27.100\" \\d+"), put);
      String get = lines.stream().filter(s -> s.contains("player/1")).findFirst().orElseThrow();
      assertTrue(get.matches(pattern + "\"GET /live.mp3 HTTP/1.0\" 200 " + listenerGot
          + " \"http://example.org/\" \"player/1\" \\d+"), get);

      // logrotate: the file is moved away, SIGHUP, and the next line goes to a new file
      Path rotated = dir.resolve("access.log.1");
      Files.move(log, rotated);
      Hangup.raise();
      assertEquals(404, Clients.status(Clients.exchange(at, "GET /nothere.mp3 HTTP/1.0\r\n\r\n")));
      RelayEndToEndTest.await(() -> Files.exists(log) && lines(log).size() == 1, "a line in the new file");
      assertTrue(lines(log).get(0).contains("\"GET /nothere.mp3 HTTP/1.0\" 404 "), lines(log).get(0));
      assertEquals(4, lines(rotated).size());
    }
  }

  @Test
  void aShoutcastSourceIsLoggedAsIcecastLogsIt(@TempDir Path dir) throws Exception {
    String icecast = Files.readString(Path.of(LogsTest.class.getResource(
        "/icecast/config/shoutcast-source-access.log").toURI())).strip();
    RelayConfig.Builder b = Clients.config("--log-dir", dir.toString(), "--access-log", "access.log").toBuilder();
    b.extraSockets.add(new RelayConfig.ListenSocket(new InetSocketAddress("127.0.0.1", 0), "/sc.mp3"));
    Path log = dir.resolve("access.log");
    try (RelayServer server = RelayServer.start(b.build())) {
      InetSocketAddress at = server.addresses().get(1);
      try (Socket sc = new Socket(at.getAddress(), at.getPort())) {
        sc.setSoTimeout(20_000);
        sc.getOutputStream().write((Clients.PASSWORD + "\r\n").getBytes(StandardCharsets.US_ASCII));
        InputStream in = sc.getInputStream();
        assertEquals("OK2\r\nicy-caps:11\r\n\r\n", new String(in.readNBytes(20), StandardCharsets.US_ASCII));
        sc.getOutputStream().write("icy-name:Shout Radio\r\nicy-genre:rock\r\ncontent-type:audio/mpeg\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
        RelayEndToEndTest.await(() -> server.mount("/sc.mp3") != null, "the SHOUTcast source's mount");
        AdminApiTest.feed(sc);
        sc.shutdownOutput(); // the source leaves
        assertEquals(-1, in.read(), "nothing after OK2, as Icecast");
      }
      RelayEndToEndTest.await(() -> lines(log).size() == 1, "the source's line");
      // Icecast's line but for the time and the duration
      assertEquals(timeless(icecast), timeless(lines(log).get(0)));
    }
  }

  private static String timeless(String accessLine) {
    return accessLine.replaceFirst("\\[[^\\]]+\\]", "[time]").replaceFirst(" \\d+$", " seconds");
  }

  @Test
  void errorLogIsIcecastsFormAtItsLevel(@TempDir Path dir) throws Exception {
    LogRecord r = new LogRecord(Level.WARNING, "{0}: dropping {1}");
    r.setParameters(new Object[] {"/live.mp3", "127.0.0.1:5"});
    r.setSourceClassName("io.nocopy.relay.Timeouts");
    r.setSourceMethodName("checkListeners");
    assertEquals("[2026-12-03  05:41:51] WARN Timeouts/checkListeners /live.mp3: dropping 127.0.0.1:5\n",
        ErrorLog.format(r, LocalDateTime.of(2026, 12, 3, 5, 41, 51)));
    Path file = dir.resolve("logs/error.log");
    ErrorLog log = ErrorLog.open(file, 2);
    try {
      LogRecord info = new LogRecord(Level.INFO, "an info line");
      LogRecord severe = new LogRecord(Level.SEVERE, "an error line");
      log.publish(info);
      log.publish(r);
      log.publish(severe);
      Files.move(file, dir.resolve("error.log.1"));
      log.reopen();
      log.publish(severe);
    } finally {
      log.close();
    }
    List<String> first = Files.readAllLines(dir.resolve("error.log.1"));
    assertEquals(2, first.size(), first.toString());
    assertTrue(first.get(0).matches("\\[\\d{4}-\\d{2}-\\d{2}  \\d{2}:\\d{2}:\\d{2}\\] WARN Timeouts/checkListeners .*"));
    assertTrue(first.get(1).contains("] EROR "), first.get(1));
    assertFalse(first.toString().contains("an info line"));
    assertEquals(1, Files.readAllLines(file).size());
  }

  @Test
  void flagsSetTheLogSettings() throws Exception {
    RelayConfig c = Clients.config("--log-dir", "/var/log/x", "--access-log", "a.log", "--error-log", "e.log",
        "--log-level", "debug");
    assertEquals(new LogSettings(Path.of("/var/log/x"), "a.log", "e.log", 4), c.logs());
    assertEquals(Path.of("/var/log/x/a.log"), c.logs().accessLogPath());
    assertEquals(2, Clients.config("--log-level", "2").logs().level());
    assertNull(Clients.config().logs().accessLogPath());
    assertEquals(Path.of("e.log"), Clients.config("--error-log", "e.log").logs().errorLogPath());
    assertThrows(IllegalArgumentException.class, () -> Clients.config("--log-level", "5"));
  }

  @Test
  void anAccessLogThatCannotBeOpenedStopsTheStart(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("file"), "x");
    RelayConfig config = Clients.config("--log-dir", dir.resolve("file").toString(), "--access-log", "access.log");
    java.io.IOException e = assertThrows(java.io.IOException.class, () -> RelayServer.start(config));
    assertTrue(e.getMessage().startsWith("cannot open the access log " + dir.resolve("file/access.log")), e.getMessage());
  }

  private static List<String> lines(Path p) {
    try {
      return Files.readAllLines(p);
    } catch (java.io.IOException e) {
      return List.of();
    }
  }
}
