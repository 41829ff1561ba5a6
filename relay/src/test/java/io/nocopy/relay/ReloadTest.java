package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reloading the icecast.xml (SIGHUP): mounts, passwords and limits change while the connected
 * listeners and sources stay; a file that no longer reads changes nothing.
 */
class ReloadTest {
  @TempDir Path dir;

  @BeforeAll
  static void warmUp() throws Exception {
    Warmup.once();
  }

  private static String xml(int port, String otherPassword, int maxListeners, boolean hidden) {
    return """
        <icecast>
          <limits><source-timeout>600</source-timeout></limits>
          <authentication><source-password>%s</source-password><admin-password>apw</admin-password></authentication>
          <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address></listen-socket>
          <mount><mount-name>/live.mp3</mount-name><max-listeners>%d</max-listeners><hidden>%d</hidden></mount>
          <mount><mount-name>/other.mp3</mount-name><username>dj</username><password>%s</password></mount>
        </icecast>
        """.formatted(Clients.PASSWORD, port, maxListeners, hidden ? 1 : 0, otherPassword);
  }

  private static String put(InetSocketAddress at, String mount, String user, String password) throws IOException {
    ConfigFileEndToEndTest.Put p = ConfigFileEndToEndTest.put(at, mount, user, password);
    if (p.socket() != null) {
      p.socket().close();
    }
    return p.answer().substring(0, 12);
  }

  @Test
  void mountsPasswordsAndLimitsChangeWhileListenersStay() throws Exception {
    int port = ConfigFileEndToEndTest.freePort(false);
    Path f = dir.resolve("icecast.xml");
    Files.writeString(f, xml(port, "one", 5, false));
    String[] args = {"--config", f.toString(), "--status-interval", "0", "--engine", Clients.ENGINE};
    try (RelayServer server = RelayServer.start(CommandLine.parse(Map.of(), args));
        Clients.Source src = Clients.source(new InetSocketAddress("127.0.0.1", port), "/live.mp3", false, false,
            "application/octet-stream")) {
      InetSocketAddress at = server.address();
      byte[] chunk = RelayEndToEndTest.random(8192, 71);
      List<Clients.Listener> listeners = new ArrayList<>();
      try {
        listeners.add(new Clients.Listener(at, "/live.mp3"));
        listeners.add(new Clients.Listener(at, "/live.mp3"));
        RelayEndToEndTest.await(() -> server.totals().listeners() == 2, "two listeners");
        assertEquals("HTTP/1.0 200", put(at, "/other.mp3", "dj", "one"));
        assertTrue(Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n").contains("/live.mp3"));

        Files.writeString(f, xml(port, "two", 1, true));
        new Reload(server, Map.of(), args).run();

        // the connected listeners and the source carry on
        long before = listeners.get(0).received();
        for (int i = 0; i < 20; i++) {
          src.send(chunk, 0, chunk.length);
        }
        RelayEndToEndTest.await(() -> listeners.get(0).received() > before && listeners.get(1).received() > before,
            "bytes after the reload");
        assertEquals(2, server.totals().listeners());
        // the new password, the new limit (below the listeners already there), hidden now
        assertEquals("HTTP/1.0 401", put(at, "/other.mp3", "dj", "one"));
        RelayEndToEndTest.await(() -> server.mounts().size() == 1, "the refused source gone");
        assertEquals("HTTP/1.0 200", put(at, "/other.mp3", "dj", "two"));
        String third = Clients.exchange(at, "GET /live.mp3 HTTP/1.0\r\n\r\n");
        assertTrue(third.startsWith("HTTP/1.0 403 Forbidden") && third.endsWith("max listeners reached"), third);
        assertFalse(Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n").contains("/live.mp3"));

        // a file that no longer reads changes nothing
        RelayConfig running = server.config();
        Files.writeString(f, "<icecast>\n<limits>\n</icecast>\n");
        new Reload(server, Map.of(), args).run();
        assertSame(running, server.config());
        Files.writeString(f, xml(port, "two", 1, true).replace("<mount-name>/other.mp3</mount-name>",
            "<mount-name>/other.mp3</mount-name><fallback-mount>/live.mp3</fallback-mount>")
            .replace("<hidden>1</hidden>", "<hidden>1</hidden><fallback-mount>/other.mp3</fallback-mount>"));
        new Reload(server, Map.of(), args).run();
        assertSame(running, server.config(), "a fallback loop is refused on reload too");
        for (int i = 0; i < 5; i++) {
          src.send(chunk, 0, chunk.length);
        }
        long now = listeners.get(1).received();
        src.send(chunk, 0, chunk.length);
        RelayEndToEndTest.await(() -> listeners.get(1).received() > now, "still streaming");
      } finally {
        for (Clients.Listener l : listeners) {
          l.close();
        }
      }
    }
  }

  @Test
  void aRealSighupReloadsTheRunningCommand() throws Exception {
    int port = ConfigFileEndToEndTest.freePort(false);
    Path f = dir.resolve("icecast.xml");
    Files.writeString(f, xml(port, "one", 5, false));
    Process relay = relayProcess(f);
    try {
      InetSocketAddress at = new InetSocketAddress("127.0.0.1", port);
      Clients.awaitListening(at);
      try (Clients.Source src = Clients.source(at, "/live.mp3", false, false, "application/octet-stream");
          Clients.Listener l = new Clients.Listener(at, "/live.mp3")) {
        byte[] chunk = RelayEndToEndTest.random(8192, 72);
        src.send(chunk, 0, chunk.length);
        RelayEndToEndTest.await(() -> l.received() > 0, "the listener plays");
        Files.writeString(f, xml(port, "two", 1, false));
        kill(relay, "-HUP");
        RelayEndToEndTest.await(() -> {
          try {
            return put(at, "/other.mp3", "dj", "two").equals("HTTP/1.0 200");
          } catch (IOException e) {
            return false;
          }
        }, "the reloaded password");
        Files.writeString(f, "<icecast>\n  <listen-socket>\n    <port>x</port>\n");
        kill(relay, "-HUP");
        RelayEndToEndTest.await(() -> {
          try {
            return Files.readString(dir.resolve("relay.log")).contains("reload refused");
          } catch (IOException e) {
            return false;
          }
        }, "the refused reload logged");
        long before = l.received();
        src.send(chunk, 0, chunk.length);
        RelayEndToEndTest.await(() -> l.received() > before, "the listener still plays");
        assertTrue(l.reader.isAlive(), "never disconnected");
        String log = Files.readString(dir.resolve("relay.log"));
        assertTrue(log.contains("reload refused, the running configuration stays: " + f + ":"), log);
        assertEquals("HTTP/1.0 401", put(at, "/other.mp3", "dj", "one"), "the reloaded settings stay");
      }
    } finally {
      stop(relay);
    }
  }

  @Test
  void theLogLevelIsTakenOnReloadAndTheLogsPlacesStay() {
    io.nocopy.relay.config.LogSettings logs = new io.nocopy.relay.config.LogSettings(dir, "access.log",
        "error.log", 2);
    RelayConfig.Builder b = RelayConfig.builder();
    b.sourcePassword = "pw";
    b.logs = logs;
    RelayConfig running = b.build();
    RelayConfig.Builder nb = running.toBuilder();
    nb.logs = logs.withLevel(4);
    RelayConfig levelOnly = nb.build();
    assertEquals(List.of(), running.restartOnly(levelOnly), "the level alone takes no restart");
    assertEquals(4, levelOnly.reloadedOver(running).logs().level());
    nb.logs = new io.nocopy.relay.config.LogSettings(dir, "other-access.log", "error.log", 1);
    RelayConfig moved = nb.build();
    assertEquals(List.of("the logs' places (log directory, access log, error log)"), running.restartOnly(moved));
    RelayConfig applied = moved.reloadedOver(running);
    assertEquals("access.log", applied.logs().accessLog(), "the running access log stays");
    assertEquals(1, applied.logs().level(), "the new level is taken with it");
  }

  @Test
  void aRealSighupAppliesTheNewLogLevel() throws Exception {
    int port = ConfigFileEndToEndTest.freePort(false);
    Path f = dir.resolve("icecast.xml");
    Path logs = Files.createDirectory(dir.resolve("logs"));
    String xml = """
        <icecast>
          <limits><source-timeout>600</source-timeout></limits>
          <authentication><source-password>%s</source-password><admin-password>apw</admin-password></authentication>
          <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address></listen-socket>
          <paths><logdir>%s</logdir></paths>
          <logging><errorlog>error.log</errorlog><loglevel>%%d</loglevel></logging>
        </icecast>
        """.formatted(Clients.PASSWORD, port, logs);
    Files.writeString(f, xml.formatted(2));
    Path errorLog = logs.resolve("error.log");
    Process relay = relayProcess(f);
    try {
      InetSocketAddress at = new InetSocketAddress("127.0.0.1", port);
      Clients.awaitListening(at);
      try (Clients.Source first = Clients.source(at, "/first.mp3", false, false, "application/octet-stream")) {
        // level 2 (warn): the source's info line is not written
        Files.writeString(f, xml.formatted(3));
        kill(relay, "-HUP");
        RelayEndToEndTest.await(() -> read(errorLog).contains("reload: log level 3 (was 2)"), "the new level logged");
        try (Clients.Source second = Clients.source(at, "/second.mp3", false, false, "application/octet-stream")) {
          RelayEndToEndTest.await(() -> read(errorLog).contains("/second.mp3: source "),
              "an info line at the reloaded level 3");
        }
        String log = read(errorLog);
        assertFalse(log.contains("/first.mp3: source "), "level 2 at the start hid the first source's info line:\n"
            + log);
        assertFalse(log.contains("takes a restart"), "the level alone takes no restart:\n" + log);
      }
    } finally {
      stop(relay);
    }
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** {@code ./nocopy relay --config f} in a process of its own, its output in relay.log. */
  private Process relayProcess(Path f) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--add-opens",
        "java.base/sun.nio.ch=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        RelayMain.class.getName(), "--config", f.toString(), "--status-interval", "0")
        .redirectErrorStream(true).redirectOutput(dir.resolve("relay.log").toFile()).start();
  }

  private static void stop(Process relay) throws InterruptedException {
    relay.destroy();
    relay.waitFor(20, TimeUnit.SECONDS);
    relay.destroyForcibly();
  }

  private static void kill(Process p, String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", signal, Long.toString(p.pid())).inheritIO().start();
    assertEquals(0, kill.waitFor());
  }
}
