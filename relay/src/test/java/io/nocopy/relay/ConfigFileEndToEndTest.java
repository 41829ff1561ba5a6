package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay started from an icecast.xml: several listen sockets, the SHOUTcast source socket,
 * per-mount source credentials and the client and source limits with Icecast's answers; and
 * {@code ./nocopy relay --config} as a process: the pid file, the one warning line, exit status 2
 * for a bad file.
 */
class ConfigFileEndToEndTest {
  @TempDir Path dir;

  @BeforeAll
  static void warmUp() throws Exception {
    Warmup.once();
  }

  /** A TCP port nobody listens on now (and, when asked, the one after it too). */
  static int freePort(boolean andNext) throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      if (!andNext || port == 65535) {
        if (!andNext) {
          return port;
        }
        continue;
      }
      try (ServerSocket next = new ServerSocket(port + 1, 1, java.net.InetAddress.getLoopbackAddress())) {
        return port;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IOException("no two free ports in a row");
  }

  private Path write(String xml) throws IOException {
    Path f = dir.resolve("icecast.xml");
    Files.writeString(f, xml);
    return f;
  }

  /** A source's {@code PUT}: the answer's head, and the socket when it was accepted. */
  record Put(String answer, Socket socket) {}

  static Put put(InetSocketAddress at, String mount, String user, String password) throws IOException {
    Socket s = new Socket(at.getAddress(), at.getPort());
    s.setSoTimeout(20_000);
    String auth = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    s.getOutputStream().write(("PUT " + mount + " HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + auth
        + "\r\nContent-Type: audio/mpeg\r\nice-name: " + user + "'s stream\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    String head = Clients.readHead(s.getInputStream());
    if (head.startsWith("HTTP/1.0 200 OK")) {
      return new Put(head, s);
    }
    String rest = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    s.close();
    return new Put(head + rest, null);
  }

  /** Icecast's plain-text error, as captured from Icecast 2.4.4: the part after the Date line. */
  static String icecastErrorTail(String body) {
    return "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-cache, no-store\r\n"
        + "Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\nPragma: no-cache\r\n\r\n" + body;
  }

  @Test
  void socketsCredentialsAndLimitsComeFromTheFile() throws Exception {
    int first = freePort(false);
    int second = freePort(true);
    Path f = write("""
        <icecast>
          <limits><clients>6</clients><sources>2</sources></limits>
          <authentication><source-password>global-pw</source-password>
            <admin-password>admin-pw</admin-password></authentication>
          <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address></listen-socket>
          <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address>
            <shoutcast-mount>/sc.mp3</shoutcast-mount></listen-socket>
          <mount><mount-name>/dj.mp3</mount-name><username>dj</username><password>dj-pw</password></mount>
        </icecast>
        """.formatted(first, second));
    RelayConfig config = CommandLine.parse(Map.of(), "--config", f.toString(), "--status-interval", "0",
        "--engine", Clients.ENGINE);
    List<Socket> open = new ArrayList<>();
    try (RelayServer server = RelayServer.start(config)) {
      assertEquals(List.of(new InetSocketAddress("127.0.0.1", first), new InetSocketAddress("127.0.0.1", second),
          new InetSocketAddress("127.0.0.1", second + 1)), server.addresses());
      InetSocketAddress a = server.addresses().get(0);
      InetSocketAddress b = server.addresses().get(1);
      InetSocketAddress shoutcast = server.addresses().get(2);

      // the mount's own credentials, not the global ones, and the global ones elsewhere
      Put refused = put(a, "/dj.mp3", "source", "global-pw");
      assertTrue(refused.answer.startsWith("HTTP/1.0 401 Authentication Required\r\n"), refused.answer);
      assertTrue(refused.answer.endsWith("You need to authenticate\r\n"), refused.answer);
      assertTrue(put(a, "/other.mp3", "dj", "dj-pw").answer.startsWith("HTTP/1.0 401 "));
      Put dj = put(b, "/dj.mp3", "dj", "dj-pw");
      assertTrue(dj.socket != null, dj.answer);
      open.add(dj.socket);

      // SHOUTcast v1: a wrong password is closed without a word, the right one gets OK2
      try (Socket sc = new Socket(shoutcast.getAddress(), shoutcast.getPort())) {
        sc.setSoTimeout(20_000);
        sc.getOutputStream().write("dj-pw\r\nicy-name:nope\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        int answer;
        try {
          answer = sc.getInputStream().read();
        } catch (java.net.SocketException reset) { // closed with the header lines unread
          answer = -1;
        }
        assertEquals(-1, answer, "closed without an answer");
      }
      Socket sc = new Socket(shoutcast.getAddress(), shoutcast.getPort());
      open.add(sc);
      sc.setSoTimeout(20_000);
      sc.getOutputStream().write("global-pw\r\n".getBytes(StandardCharsets.US_ASCII));
      byte[] ok = sc.getInputStream().readNBytes(ShoutcastSource.OK2.length);
      assertEquals("OK2\r\nicy-caps:11\r\n\r\n", new String(ok, StandardCharsets.US_ASCII));
      sc.getOutputStream().write("icy-name:Shout Radio\r\nicy-genre:rock\r\ncontent-type:audio/mpeg\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      RelayEndToEndTest.await(() -> server.mounts().size() == 2, "the SHOUTcast source's mount");
      MountSnapshot scMount = server.mounts().get(1);
      assertEquals("/sc.mp3", scMount.mount());
      assertEquals("Shout Radio", scMount.name());

      // a third source: Icecast's 403, whichever socket
      Put third = put(a, "/third.mp3", "source", "global-pw");
      assertTrue(third.answer.startsWith("HTTP/1.0 403 Forbidden\r\n"), third.answer);
      assertTrue(third.answer.endsWith(icecastErrorTail("too many sources connected")), third.answer);

      // both mounts play through either socket
      byte[] data = RelayEndToEndTest.random(64 * 1024, 51);
      try (Clients.Listener la = new Clients.Listener(a, "/dj.mp3");
          Clients.Listener lb = new Clients.Listener(b, "/sc.mp3")) {
        assertTrue(la.head.startsWith("HTTP/1.0 200 OK") && la.head.contains("icy-name:dj's stream"), la.head);
        assertTrue(lb.head.contains("icy-name:Shout Radio"), lb.head);
        RelayEndToEndTest.await(() -> server.totals().listeners() == 2, "two listeners");
        dj.socket.getOutputStream().write(data);
        sc.getOutputStream().write(data);
        RelayEndToEndTest.await(() -> la.received() >= data.length && lb.received() >= data.length, "the bytes");

        // clients: 2 sources + 2 listeners + 2 more; the seventh is refused as Icecast does
        try (Clients.Listener l5 = new Clients.Listener(a, "/dj.mp3");
            Clients.Listener l6 = new Clients.Listener(b, "/dj.mp3")) {
          assertTrue(l6.head.startsWith("HTTP/1.0 200 OK"), l6.head);
          RelayEndToEndTest.await(() -> server.totals().listeners() == 4, "four listeners");
          String over = Clients.exchange(a, "GET /status-json.xsl HTTP/1.0\r\n\r\n");
          assertTrue(over.startsWith("HTTP/1.0 403 Forbidden\r\n"), over);
          assertTrue(over.endsWith(icecastErrorTail("Icecast connection limit reached")), over);
        }
        RelayEndToEndTest.await(() -> { // a listener that left is noticed at the next write
          try {
            dj.socket.getOutputStream().write(data, 0, 4096);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
          return server.totals().listeners() == 2;
        }, "the two on /dj.mp3 left");
        assertEquals(200, Clients.status(Clients.exchange(a, "GET /status-json.xsl HTTP/1.0\r\n\r\n")));
      }
    } finally {
      for (Socket s : open) {
        s.close();
      }
    }
  }

  private Process relay(Path config, String... more) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
        "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        RelayMain.class.getName(), "--config", config.toString(), "--status-interval", "0"));
    cmd.addAll(List.of(more));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("relay.log").toFile())
        .start();
  }

  @Test
  void theCommandWritesItsPidFileWarnsOnceAndRemovesItAtTheStop() throws Exception {
    int port = freePort(false);
    Path pid = dir.resolve("relay.pid");
    Path f = write("""
        <icecast>
          <authentication><source-password>pw</source-password><admin-password>apw</admin-password></authentication>
          <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address></listen-socket>
          <fileserve>1</fileserve>
          <paths><webroot>/usr/share/icecast2/web</webroot><pidfile>%s</pidfile></paths>
          <security><chroot>0</chroot></security>
        </icecast>
        """.formatted(port, pid));
    Process relay = relay(f);
    try {
      Clients.awaitListening(new InetSocketAddress("127.0.0.1", port));
      assertEquals(relay.pid() + "\n", Files.readString(pid));
      relay.destroy();
      assertTrue(relay.waitFor(20, TimeUnit.SECONDS), "stops on SIGTERM");
      String log = Files.readString(dir.resolve("relay.log"));
      assertFalse(Files.exists(pid), "the pid file is removed at the stop: " + log);
      List<String> warnings = log.lines().filter(l -> l.contains("not supported")).toList();
      assertEquals(List.of("WARNING: " + f + ": not supported, ignored: fileserve, paths/webroot, security"),
          warnings, log);
    } finally {
      relay.destroyForcibly();
    }
  }

  @Test
  void aMalformedFileStopsTheStartWithItsLineAndStatus2() throws Exception {
    Path f = write("<icecast>\n  <limits>\n    <clients>many</clients>\n  </limits>\n</icecast>\n");
    Process relay = relay(f);
    assertTrue(relay.waitFor(30, TimeUnit.SECONDS));
    String log = Files.readString(dir.resolve("relay.log"));
    assertEquals(2, relay.exitValue(), log);
    assertEquals("nocopy relay: " + f + ":3: <clients> must be a whole number, got 'many'", log.strip());
    Files.writeString(f, "<icecast>\n  <limits>\n</icecast>\n");
    relay = relay(f);
    assertTrue(relay.waitFor(30, TimeUnit.SECONDS));
    log = Files.readString(dir.resolve("relay.log"));
    assertEquals(2, relay.exitValue(), log);
    assertTrue(log.strip().startsWith("nocopy relay: " + f + ":3: "), log);
  }

  @Test
  void aSocketThatCannotBeBoundIsNamed() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      int free = freePort(false);
      Path f = write(("<icecast><listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address>"
          + "</listen-socket><listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address>"
          + "</listen-socket></icecast>").formatted(free, taken.getLocalPort()));
      Process relay = relay(f);
      assertTrue(relay.waitFor(30, TimeUnit.SECONDS));
      String log = Files.readString(dir.resolve("relay.log"));
      assertEquals(1, relay.exitValue(), log);
      assertTrue(log.contains("cannot listen on /127.0.0.1:" + taken.getLocalPort()), log);
    }
  }
}
