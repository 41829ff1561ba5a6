package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.relay.config.IcecastConfig;
import io.nocopy.relay.config.IcecastXml;
import io.nocopy.relay.config.Relaying;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Relayed mounts as an icecast.xml asks for them: a slave of a master ({@code master-server}, the
 * master's {@code /admin/streamlist.txt} behind the relay login), {@code <relay>} elements (login,
 * local mount, ICY titles, on demand), reconnecting, and the {@code --relay}/{@code --master}
 * flags. The master and upstreams are nocopy relays or a {@link FakeUpstream} that records what the
 * relay asks; Icecast's own answers and requests, captured from Icecast 2.4.4, are the test
 * resources under {@code icecast/relays/}. Next to a real Icecast: {@code
 * IcecastRelayIntegrationTest}.
 */
class RelaysTest {

  /**
   * A relay started as {@code ./nocopy relay --config FILE} with the test's flags after it (they
   * override the file: loopback on any port, the test passwords).
   */
  static RelayServer startFrom(Path xml, String... flags) throws Exception {
    String[] all = new String[flags.length + 2];
    all[0] = "--config";
    all[1] = xml.toString();
    System.arraycopy(flags, 0, all, 2, flags.length);
    return RelayServer.start(Clients.config(all));
  }

  static Path xml(Path dir, String name, String body) throws IOException {
    return Files.writeString(dir.resolve(name), "<icecast>\n<listen-socket><port>8000</port></listen-socket>\n"
        + body + "\n</icecast>\n");
  }

  static String auth(String user, String password) {
    return "Authorization: Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
        .getBytes(StandardCharsets.UTF_8)) + "\r\n";
  }

  /** A response without its {@code Server} and {@code Date} lines, which differ by design. */
  static String comparable(String response) {
    return Arrays.stream(response.split("\r\n", -1))
        .filter(l -> !l.startsWith("Server: ") && !l.startsWith("Date: "))
        .collect(Collectors.joining("\r\n"));
  }

  /** A loopback port nothing listens on (now). */
  static int unusedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static String resource(String name) throws IOException {
    try (InputStream in = RelaysTest.class.getResourceAsStream("/icecast/relays/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void aSlaveRelaysEveryMountItsMasterListsAndStopsTheOnesItNoLongerLists(@TempDir Path dir)
      throws Exception {
    Path masterXml = xml(dir, "master.xml", """
        <authentication><relay-user>slaves</relay-user><relay-password>relay-pw</relay-password></authentication>
        <limits><sources>3</sources></limits>
        <mount><mount-name>/hid.mp3</mount-name><hidden>1</hidden></mount>""");
    byte[] data = RelayEndToEndTest.random(1 << 20, 51);
    try (RelayServer master = startFrom(masterXml, "--burst-size", "0");
        Clients.Source a = Clients.source(master.address(), "/a.mp3", false, false);
        Clients.Source b = Clients.source(master.address(), "/b.mp3", false, false);
        Clients.Source hid = Clients.source(master.address(), "/hid.mp3", false, false)) {
      RelayEndToEndTest.await(() -> master.mounts().size() == 3, "three sources on the master");
      // the stream list: the relay login only, hidden mounts left out, Icecast's answer shapes
      String list = Clients.exchange(master.address(), "GET /admin/streamlist.txt HTTP/1.0\r\n"
          + auth("slaves", "relay-pw") + "\r\n");
      assertEquals(comparable(resource("streamlist-relay-creds.txt")).replace("/a.mp3\r\n",
          "/a.mp3\r\n/b.mp3\r\n"), comparable(list));
      for (String wrong : List.of(Clients.adminAuth(), auth("slaves", "nope"), auth("source", Clients.PASSWORD), "")) {
        assertEquals(comparable(resource("streamlist-admin-creds.txt")), comparable(Clients.exchange(
            master.address(), "GET /admin/streamlist.txt HTTP/1.0\r\n" + wrong + "\r\n")), wrong);
      }

      Path slaveXml = xml(dir, "slave.xml", "<master-server>127.0.0.1</master-server><master-server-port>"
          + master.address().getPort() + "</master-server-port><master-update-interval>1"
          + "</master-update-interval><master-username>slaves</master-username>"
          + "<master-password>relay-pw</master-password>");
      try (RelayServer slave = startFrom(slaveXml)) {
        RelayEndToEndTest.await(() -> slave.mounts().size() == 2, "the slave relays /a.mp3 and /b.mp3");
        assertEquals(List.of("/a.mp3", "/b.mp3"), slave.mounts().stream().map(MountSnapshot::mount).toList());
        assertEquals("test stream", slave.mounts().get(0).name());
        try (Clients.Listener l = new Clients.Listener(slave.address(), "/a.mp3")) {
          assertTrue(l.head.startsWith("HTTP/1.0 200 OK"), l.head);
          RelayEndToEndTest.await(() -> slave.mounts().get(0).listeners() == 1, "a listener on the slave");
          RelayEndToEndTest.sendPaced(a, data, 52, 4 << 20);
          a.finish();
          assertArrayEquals(data, l.awaitEnd(), "the slave's listener gets the master's stream");
        }
        // /a.mp3 ended on the master and /b.mp3 leaves: the slave stops relaying both
        b.close();
        RelayEndToEndTest.await(() -> slave.relays().mounts().isEmpty(), "the slave's relays stop");
        RelayEndToEndTest.await(() -> slave.mounts().isEmpty(), "the slave's mounts end");
        hid.close();
      }
    }
  }

  @Test
  void aRelayElementLogsInAsksForTitlesAndServesUnderItsLocalMount(@TempDir Path dir) throws Exception {
    int metaint = 1000;
    byte[] audio = RelayEndToEndTest.random(20 * metaint, 53);
    String title = "StreamTitle='Up Title';";
    byte[] meta = new byte[((title.length() + 15) / 16) * 16];
    System.arraycopy(title.getBytes(StandardCharsets.ISO_8859_1), 0, meta, 0, title.length());
    ByteArrayOutputStream interleaved = new ByteArrayOutputStream();
    for (int off = 0; off < audio.length; off += metaint) {
      interleaved.write(audio, off, metaint);
      if (off == 0) {
        interleaved.write(meta.length / 16);
        interleaved.write(meta, 0, meta.length);
      } else {
        interleaved.write(0);
      }
    }
    try (FakeUpstream up = new FakeUpstream(0, "HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\nicy-name: Up"
        + "\r\nicy-metaint: " + metaint + "\r\n\r\n", out -> {
          Thread.sleep(1500); // the listener attaches before the body flows
          out.write(interleaved.toByteArray());
          out.flush();
          Thread.sleep(3000); // the title is checked while the mount is live
        })) {
      Path xml = xml(dir, "relay.xml", "<relay><server>127.0.0.1</server><port>" + up.port() + "</port>"
          + "<mount>/up.mp3</mount><local-mount>/down.mp3</local-mount><username>ru</username>"
          + "<password>rp</password><relay-shoutcast-metadata>1</relay-shoutcast-metadata></relay>");
      try (RelayServer relay = startFrom(xml)) {
        RelayEndToEndTest.await(() -> relay.mounts().size() == 1, "the relay pulls /up.mp3");
        assertEquals("/down.mp3", relay.mounts().get(0).mount());
        assertEquals("Up", relay.mounts().get(0).name());
        try (Clients.Listener l = new Clients.Listener(relay.address(), "/down.mp3")) {
          RelayEndToEndTest.await(() -> l.received() == audio.length, "the whole stream");
          String status = Clients.exchange(relay.address(), "GET /status-json.xsl HTTP/1.0\r\n\r\n");
          assertTrue(status.contains("\"title\":\"Up Title\""), "the upstream's title is the mount's: " + status);
          assertArrayEquals(audio, l.awaitEnd(), "the audio without the upstream's ICY blocks");
        }
      }
      // the request is Icecast 2.4.4's for the same <relay> (captured), but the User-Agent
      String icecasts = resource("icecast-slave-requests.txt");
      int at = icecasts.indexOf("GET /up.mp3");
      String expected = icecasts.substring(at, icecasts.indexOf("\r\n\r\n", at) + 4);
      assertEquals(expected.replace("Icecast 2.4.4", Responses.SERVER), up.requests.get(0));
    }
  }

  @Test
  void anOnDemandRelayConnectsOnlyWhileSomeoneListens(@TempDir Path dir) throws Exception {
    try (FakeUpstream up = new FakeUpstream(0, "HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n",
        FakeUpstream::endless)) {
      Path xml = xml(dir, "ondemand.xml", "<relay><server>127.0.0.1</server><port>" + up.port() + "</port>"
          + "<mount>/od.mp3</mount><on-demand>1</on-demand></relay>"
          + "<authentication><relay-password>relay-pw</relay-password></authentication>");
      try (RelayServer relay = startFrom(xml)) {
        Thread.sleep(1000);
        assertEquals(0, up.accepted.get(), "no listener, no connection upstream");
        String list = Clients.exchange(relay.address(), "GET /admin/streamlist.txt HTTP/1.0\r\n"
            + auth("relay", "relay-pw") + "\r\n");
        assertTrue(list.endsWith("\r\n\r\n/od.mp3\r\n"),
            "an idle on-demand relay is in the stream list, as in Icecast, so a slave can wake it: " + list);
        assertEquals(404, Clients.status(Clients.exchange(relay.address(), "GET /other.mp3 HTTP/1.0\r\n\r\n")));
        try (Clients.Listener l = new Clients.Listener(relay.address(), "/od.mp3")) {
          assertTrue(l.head.startsWith("HTTP/1.0 200 OK"), l.head);
          RelayEndToEndTest.await(() -> l.received() > 10_000, "the listener gets the stream");
          assertEquals(1, up.open.get());
        }
        RelayEndToEndTest.await(() -> up.open.get() == 0, "the relay lets go of its upstream");
        RelayEndToEndTest.await(() -> relay.mounts().isEmpty(), "the mount ends");
        try (Clients.Listener l = new Clients.Listener(relay.address(), "/od.mp3")) {
          RelayEndToEndTest.await(() -> l.received() > 10_000, "a second listener brings it back");
          assertEquals(2, up.accepted.get());
        }
      }
    }
  }

  @Test
  void aRelayReconnectsWhenItsUpstreamComesBack(@TempDir Path dir) throws Exception {
    int port = unusedPort();
    Path xml = xml(dir, "late.xml", "<relay><server>127.0.0.1</server><port>" + port + "</port>"
        + "<mount>/late.mp3</mount></relay>");
    byte[] body = RelayEndToEndTest.random(50_000, 54);
    try (RelayServer relay = startFrom(xml)) {
      Thread.sleep(1200); // a few refused attempts
      assertTrue(relay.mounts().isEmpty());
      try (FakeUpstream up = new FakeUpstream(port, "HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n",
          out -> {
            out.write(body);
            Thread.sleep(500);
          })) {
        RelayEndToEndTest.await(() -> up.accepted.get() >= 1, "the relay reaches its upstream");
        RelayEndToEndTest.await(() -> up.accepted.get() >= 2, "and comes back after the stream ended");
        assertFalse(relay.closed());
      }
    }
  }

  @Test
  void aReloadRestartsOnlyTheRelaysThatChanged(@TempDir Path dir) throws Exception {
    String ok = "HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n";
    try (FakeUpstream one = new FakeUpstream(0, ok, FakeUpstream::endless);
        FakeUpstream two = new FakeUpstream(0, ok, FakeUpstream::endless)) {
      String x = "<relay><server>127.0.0.1</server><port>" + one.port() + "</port><mount>/x.mp3</mount></relay>";
      String y = "<relay><server>127.0.0.1</server><port>" + two.port() + "</port><mount>/y.mp3</mount></relay>";
      String z = "<relay><server>127.0.0.1</server><port>" + two.port() + "</port><mount>/y.mp3</mount>"
          + "<local-mount>/z.mp3</local-mount></relay>";
      try (RelayServer relay = startFrom(xml(dir, "before.xml", x + y))) {
        RelayEndToEndTest.await(() -> relay.mounts().size() == 2, "both relays live");
        try (Clients.Listener l = new Clients.Listener(relay.address(), "/x.mp3")) {
          RelayEndToEndTest.await(() -> l.received() > 0, "a listener of the relay that stays");
          relay.relays().reload(Relaying.from(IcecastXml.read(xml(dir, "after.xml", x + z))));
          RelayEndToEndTest.await(() -> relay.mounts().stream().map(MountSnapshot::mount).toList()
              .equals(List.of("/x.mp3", "/z.mp3")), "/y.mp3 gone, /z.mp3 relayed");
          int before = l.received();
          RelayEndToEndTest.await(() -> l.received() > before + 20_000, "the listener of /x.mp3 still gets bytes");
          assertEquals(1, one.accepted.get(), "the unchanged relay kept its upstream connection");
          assertEquals(1, two.open.get(), "/y.mp3's connection is cut, /z.mp3's is open");
          assertEquals(2, two.accepted.get());
        }
      }
    }
  }

  @Test
  void relayAndMasterFlags() throws Exception {
    RelayConfig c = CommandLine.parse("--source-password", "pw", "--relay", "http://u:p%40ss@up.example:9000/a.mp3",
        "--relay-metadata", "1", "--master", "http://slaves:mpw@master.example:8001", "--master-interval", "5",
        "--relay-user", "me", "--relay-password", "rpw");
    assertEquals(new IcecastConfig.RelaySettings("up.example", 9000, "/a.mp3", "/a.mp3", "u", "p@ss", true, false),
        c.relaying().relays().get(0));
    assertEquals(new IcecastConfig.Master("master.example", 8001, Duration.ofSeconds(5), "slaves", "mpw", false),
        c.relaying().master().orElseThrow());
    assertEquals("me", c.relaying().user());
    assertEquals("rpw", c.relaying().password());
    for (String[] bad : List.of(new String[] {"--relay", "ftp://x/a.mp3"}, new String[] {"--relay", "http://x/"},
        new String[] {"--relay", "http://x/../a"}, new String[] {"--master", "http://x:1/path"},
        new String[] {"--master-interval", "5"}, new String[] {"--master", "http://x:1", "--master-interval", "0"})) {
      assertThrows(IllegalArgumentException.class, () -> CommandLine.parse(bad), String.join(" ", bad));
    }
  }

  /** A listener asking for a mount of an on-demand relay whose upstream is gone gets a 404 in time. */
  @Test
  void anOnDemandRelayWhoseUpstreamIsDownAnswers404(@TempDir Path dir) throws Exception {
    int port = unusedPort();
    Path xml = xml(dir, "down.xml", "<relay><server>127.0.0.1</server><port>" + port + "</port>"
        + "<mount>/down.mp3</mount><on-demand>1</on-demand></relay>");
    try (RelayServer relay = startFrom(xml)) {
      long t0 = System.nanoTime();
      try (Socket s = Clients.get(relay.address(), "/down.mp3", "")) {
        String head = Clients.readHead(s.getInputStream());
        assertEquals(404, Clients.status(head), head);
      }
      assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(15).toNanos());
    }
  }
}
