package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./nocopy relay --config icecast.xml} as an operator runs it, with the real clients: an
 * ffmpeg source, curl listeners, curl as the admin script. The admin API (listclients with the
 * listeners' user agents and ids, stats with the mount's settings, killclient, killsource) and the
 * logs under {@code <logdir>}: the access log in Icecast's form and the error log in its form,
 * both reopened by SIGHUP after a rotation. Run with {@code mvn -Pintegration -pl core,relay
 * verify}; skipped when a tool is missing.
 */
@Tag("integration")
class AdminLogsIntegrationTest {
  @TempDir Path dir;

  private static final String LINE = "127\\.0\\.0\\.1 - - \\[\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}\\] ";

  @Test
  void adminApiAndLogsFromAnIcecastXml() throws Exception {
    Tools.require("ffmpeg", "curl");
    int port;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    Path logs = dir.resolve("logs");
    Path xml = dir.resolve("icecast.xml");
    Files.writeString(xml, """
        <icecast>
          <location>it</location><admin>ops@example.org</admin><hostname>127.0.0.1</hostname>
          <authentication><source-password>src-pw</source-password>
            <admin-user>admin</admin-user><admin-password>admin-pw</admin-password></authentication>
          <listen-socket><port>PORT</port><bind-address>127.0.0.1</bind-address></listen-socket>
          <mount type="normal"><mount-name>/live.mp3</mount-name><max-listeners>5</max-listeners></mount>
          <paths><logdir>LOGDIR</logdir></paths>
          <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
        </icecast>
        """.replace("PORT", Integer.toString(port)).replace("LOGDIR", logs.toString()));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process relay = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--add-opens",
        "java.base/sun.nio.ch=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        RelayMain.class.getName(), "--config", xml.toString(), "--status-interval", "0", "--engine", Clients.ENGINE)
        .redirectErrorStream(true).redirectOutput(dir.resolve("relay.out").toFile()).start();
    List<Process> clients = new ArrayList<>();
    String base = "http://127.0.0.1:" + port;
    try {
      InetSocketAddress at = new InetSocketAddress("127.0.0.1", port);
      Clients.awaitListening(at);
      Process ff = start(clients, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
          "sine=frequency=440:duration=120", "-c:a", "libmp3lame", "-b:a", "128k", "-content_type", "audio/mpeg",
          "-f", "mp3", "icecast://source:src-pw@127.0.0.1:" + port + "/live.mp3");
      RelayEndToEndTest.await(() -> curl("-o", "/dev/null", "-w", "%{http_code}", "-m", "1", base + "/live.mp3")
          .equals("200"), "ffmpeg's mount");
      Process first = start(clients, "curl", "-s", "-o", "/dev/null", "-A", "first/1", base + "/live.mp3");
      Process second = start(clients, "curl", "-s", "-o", "/dev/null", "-A", "second/2", "-e",
          "http://example.org/player", base + "/live.mp3");
      // the two listeners, and no longer the readiness probe's curl (it may be listed until the
      // relay notices it left)
      RelayEndToEndTest.await(() -> AdminApiTest.all(admin(base, "listclients?mount=/live.mp3"),
          "<UserAgent>([^<]*)</UserAgent>").stream().sorted().toList().equals(List.of("first/1", "second/2")),
          "the two listeners listed");
      String list = admin(base, "listclients?mount=/live.mp3");
      assertTrue(list.contains("<Listeners>2</Listeners>"), list);
      String secondId = AdminApiTest.all(list, "<UserAgent>second/2</UserAgent><Connected>\\d+</Connected><ID>(\\d+)</ID>")
          .get(0);
      String stats = admin(base, "stats");
      assertTrue(stats.contains("<location>it</location>") && stats.contains("<admin>ops@example.org</admin>"), stats);
      assertTrue(stats.contains("<max_listeners>5</max_listeners>"), stats);
      assertTrue(stats.matches("(?s).*<user_agent>Lavf/[^<]+</user_agent>.*"), stats);
      assertTrue(admin(base, "killclient?mount=/live.mp3&id=" + secondId).contains("<message>Client " + secondId
          + " removed</message><return>1</return>"));
      assertTrue(second.waitFor(20, TimeUnit.SECONDS), "the killed listener's curl ends");
      assertTrue(first.isAlive(), "the other listener stays");

      // logrotate: both logs moved away, then SIGHUP; the relay writes new files
      Path access = logs.resolve("access.log");
      Path error = logs.resolve("error.log");
      RelayEndToEndTest.await(() -> read(access).contains("second/2"), "the killed listener's line");
      Files.move(access, logs.resolve("access.log.1"));
      Files.move(error, logs.resolve("error.log.1"));
      assertEquals(0, new ProcessBuilder("kill", "-HUP", Long.toString(relay.pid())).start().waitFor());
      RelayEndToEndTest.await(() -> Files.exists(error) && Files.exists(access), "the logs reopened");

      assertTrue(admin(base, "killsource?mount=/live.mp3").contains("<message>Source Removed</message>"));
      assertTrue(ff.waitFor(20, TimeUnit.SECONDS), "ffmpeg ends when its source is killed");
      assertTrue(first.waitFor(20, TimeUnit.SECONDS), "the listener's stream ends with its source");
      RelayEndToEndTest.await(() -> read(access).contains("first/1") && read(access).contains("\"PUT /live.mp3"),
          "the source's and the listener's lines");

      String before = read(logs.resolve("access.log.1"));
      assertTrue(before.matches("(?s).*" + LINE + "\"GET /live\\.mp3 HTTP/1\\.1\" 200 \\d{5,} "
          + "\"http://example\\.org/player\" \"second/2\" \\d+\n.*"), before);
      assertTrue(before.matches("(?s).*" + LINE + "\"GET /admin/listclients HTTP/1\\.1\" 200 \\d+ \"-\" \"curl/[^\"]+\" 0\n.*"),
          before);
      assertTrue(before.matches("(?s).*" + LINE + "\"GET /admin/killclient HTTP/1\\.1\" 200 \\d+ \"-\" \"curl/[^\"]+\" 0\n.*"),
          before);
      String after = read(access);
      assertTrue(after.matches("(?s).*" + LINE + "\"PUT /live\\.mp3 HTTP/1\\.1\" 200 63 \"-\" \"Lavf/[^\"]+\" \\d+\n.*"), after);
      assertTrue(after.matches("(?s).*" + LINE + "\"GET /live\\.mp3 HTTP/1\\.1\" 200 \\d{5,} \"-\" \"first/1\" \\d+\n.*"), after);
      String errorsBefore = read(logs.resolve("error.log.1"));
      assertTrue(errorsBefore.matches("(?s).*\\[\\d{4}-\\d{2}-\\d{2}  \\d{2}:\\d{2}:\\d{2}\\] INFO AdminPages/killClient "
          + "/live\\.mp3: listener " + secondId + " removed by an admin request\n.*"), errorsBefore);
      String errorsAfter = read(error);
      assertTrue(errorsAfter.matches("(?s).*\\] INFO RelayServer/killSource /live\\.mp3: source removed by an admin request\n.*"),
          errorsAfter);
      assertTrue(!read(dir.resolve("relay.out")).contains("removed by an admin request"),
          "with an error log nothing goes to the console");
    } finally {
      for (Process p : clients) {
        p.destroyForcibly();
      }
      relay.destroy();
      relay.waitFor(20, TimeUnit.SECONDS);
      relay.destroyForcibly();
    }
  }

  private static Process start(List<Process> all, String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    all.add(p);
    return p;
  }

  private static String admin(String base, String command) {
    return curl("-u", "admin:admin-pw", base + "/admin/" + command);
  }

  private static String curl(String... args) {
    try {
      List<String> cmd = new ArrayList<>(List.of("curl", "-s"));
      cmd.addAll(List.of(args));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(30, TimeUnit.SECONDS);
      return out;
    } catch (IOException | InterruptedException e) {
      return "";
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return "";
    }
  }
}
