package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The admin API against Icecast 2.4.4's own answers, captured with {@code
 * icecast/admin/capture.sh} (an ffmpeg source, curl listeners): the documents' element names and
 * order, the command answers and error pages byte for byte but the {@code Server} and {@code Date}
 * values, and what the commands do: {@code killclient} disconnects that listener only, {@code
 * killsource} ends the mount and its listeners get the stream's end. Runs on both transports.
 */
class AdminApiTest {
  private static final Pattern TAG = Pattern.compile("<([a-zA-Z_0-9-]+)>");

  @Test
  void answersAndErrorsAreIcecasts() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      assertIcecast("listmounts-empty.txt", admin(at, "/admin/listmounts"));
      try (Socket src = source(at, "/live.mp3"); Socket gone = source(at, "/hidden.mp3")) {
        feed(src);
        feed(gone);
        assertIcecast("listclients-no-mount.txt", admin(at, "/admin/listclients"));
        assertIcecast("listclients-unknown-mount.txt", admin(at, "/admin/listclients?mount=/nothere.mp3"));
        assertIcecast("killclient-unknown-id.txt", admin(at, "/admin/killclient?mount=/live.mp3&id=999999"));
        assertIcecast("killclient-bad-id.txt", admin(at, "/admin/killclient?mount=/live.mp3&id=abc"));
        assertIcecast("killclient-no-id.txt", admin(at, "/admin/killclient?mount=/live.mp3"));
        // captured by relay/compat/side-by-side.sh
        assertIcecast("metadata.txt", admin(at, "/admin/metadata?mount=/live.mp3&mode=updinfo&song=Side%20Song"));
        assertIcecast("killsource-unknown.txt", admin(at, "/admin/killsource?mount=/nothere.mp3"));
        assertIcecast("killsource-no-mount.txt", admin(at, "/admin/killsource"));
        assertIcecast("killsource.txt", admin(at, "/admin/killsource?mount=/hidden.mp3"));
        assertClosed(gone);
        RelayEndToEndTest.await(() -> server.mount("/hidden.mp3") == null, "the killed mount to end");
        assertIcecast("stats-wrong-password.txt", Clients.exchange(at, "GET /admin/stats HTTP/1.0\r\n"
            + "Authorization: Basic YWRtaW46d3Jvbmc=\r\n\r\n"));
      }
    }
  }

  @Test
  void documentsHaveIcecastsElements() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      try (Socket src = source(at, "/live.mp3"); Socket other = source(at, "/hidden.mp3")) {
        feed(src);
        feed(other);
        String stats = admin(at, "/admin/stats");
        assertEquals(tags(body(capture("stats.txt"))), tags(body(stats)), stats);
        String one = admin(at, "/admin/stats?mount=/live.mp3");
        assertEquals(tags(body(capture("stats-mount.txt"))), tags(body(one)), one);
        assertTrue(one.contains("<source mount=\"/live.mp3\"><genre>Test</genre>"), one);
        assertTrue(one.contains("<source_ip>127.0.0.1</source_ip>"), one);
        assertTrue(one.contains("<user_agent>Lavf/59.27.100</user_agent>"), one);
        assertTrue(one.contains("<max_listeners>unlimited</max_listeners>"), one);
        assertTrue(one.contains("<sources>2</sources>"), one);
        assertEquals(400, Clients.status(admin(at, "/admin/stats?mount=/nothere.mp3")));
        String mounts = admin(at, "/admin/listmounts");
        assertEquals(counts(normalise(capture("listmounts.txt"))), counts(normalise(mounts)));
        assertTrue(mounts.contains("<source mount=\"/live.mp3\"><fallback></fallback><listeners>0</listeners>"), mounts);
      }
    }
  }

  @Test
  void killclientDisconnectsThatListenerOnly() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      try (Socket src = source(at, "/live.mp3")) {
        feed(src);
        // ids follow the order listeners were answered (the second asks once the first has its
        // head); listclients names a listener once its sink is attached
        try (Socket a = listener(at, "capture-listener/1.0"); Socket b = listener(at, "second-listener/2.0")) {
          RelayEndToEndTest.await(() -> server.listenerRegistry().on("/live.mp3").size() == 2,
              "two listeners with ids");
          String list = admin(at, "/admin/listclients?mount=/live.mp3");
          assertEquals(200, Clients.status(list), list);
          List<String> ids = all(list, "<ID>(\\d+)</ID>");
          assertEquals(2, ids.size(), list);
          String expected = body(capture("listclients.txt")).replaceAll("<Connected>\\d+</Connected>", "<Connected>0</Connected>")
              .replace("<ID>9</ID>", "<ID>" + ids.get(0) + "</ID>").replace("<ID>10</ID>", "<ID>" + ids.get(1) + "</ID>");
          assertEquals(expected, body(list).replaceAll("<Connected>\\d+</Connected>", "<Connected>0</Connected>"));
          String kill = admin(at, "/admin/killclient?mount=/live.mp3&id=" + ids.get(1));
          assertEquals(normalise(capture("killclient.txt")).replace("Client 10 ", "Client " + ids.get(1) + " ")
              .replace("Content-Length: 104", "Content-Length: " + (104 - 2 + ids.get(1).length())), normalise(kill));
          b.setSoTimeout(10_000);
          InputStream in = b.getInputStream();
          while (in.read(new byte[8192]) >= 0) {
            // the killed listener's stream ends
          }
          RelayEndToEndTest.await(() -> server.mount("/live.mp3").listeners() == 1, "one listener left");
          String after = admin(at, "/admin/listclients?mount=/live.mp3");
          assertEquals(List.of(ids.get(0)), all(after, "<ID>(\\d+)</ID>"), after);
          feed(src);
          a.setSoTimeout(200);
          assertTrue(a.getInputStream().read(new byte[1024]) > 0, "the other listener still gets the stream");
          assertEquals(1, server.mount("/live.mp3").drops(Mount.Drop.ADMIN_KILL));
          // the id is gone: a second kill finds nothing
          assertTrue(admin(at, "/admin/killclient?mount=/live.mp3&id=" + ids.get(1)).contains("<return>0</return>"));
        }
      }
    }
  }

  @Test
  void killsourceEndsASourceThatGoesOnSending() throws Exception {
    // a paced reader (the default coalescing) always finds new bytes of a source that goes on
    // sending after its input was shut down: killsource must end the stream all the same
    try (RelayServer server = RelayServer.start(Clients.config("--coalesce-ms", "50"));
        Socket src = source(server.address(), "/live.mp3")) {
      InetSocketAddress at = server.address();
      feed(src);
      try (Socket l = listener(at, "stays/1")) {
        Thread sender = Thread.ofPlatform().daemon().start(() -> {
          byte[] b = new byte[400];
          try {
            while (true) { // a frame every 10 ms: a paced read always finds bytes waiting
              src.getOutputStream().write(b);
              Thread.sleep(10);
            }
          } catch (IOException | InterruptedException ended) {
            // the relay closed the source: what the test waits for
          }
        });
        Thread.sleep(500);
        assertTrue(admin(at, "/admin/killsource?mount=/live.mp3").contains("Source Removed"));
        sender.join(10_000);
        assertFalse(sender.isAlive(), "the source's writes fail once the relay ended it");
        l.setSoTimeout(10_000);
        byte[] rest = new byte[8192];
        while (l.getInputStream().read(rest) >= 0) { // the listener's stream ends with its source
          continue;
        }
        RelayEndToEndTest.await(() -> server.mount("/live.mp3") == null, "the mount is gone");
      }
    }
  }

  @Test
  void atoiReadsLeadingDigits() {
    assertEquals(12, AdminPages.atoi("12abc"));
    assertEquals(0, AdminPages.atoi("abc"));
    assertEquals(-3, AdminPages.atoi(" -3"));
    assertEquals(0, AdminPages.atoi(""));
  }

  // --- helpers ------------------------------------------------------------------------------

  /** The server ended the connection: the end of the stream, or a reset (it left bytes unread). */
  static void assertClosed(Socket s) throws IOException {
    s.setSoTimeout(10_000);
    try {
      assertEquals(-1, s.getInputStream().read(), "the connection is closed");
    } catch (java.net.SocketException reset) {
      // closed with the client's bytes unread: the kernel answers with a reset
    }
  }

  /** A raw PUT source as ffmpeg sends it, accepted. */
  static Socket source(InetSocketAddress at, String mount) throws IOException {
    Socket s = new Socket(at.getAddress(), at.getPort());
    s.setSoTimeout(20_000);
    s.getOutputStream().write(("PUT " + mount + " HTTP/1.1\r\nUser-Agent: Lavf/59.27.100\r\nAccept: */*\r\n"
        + "Host: 127.0.0.1\r\nAuthorization: " + Clients.basic(Clients.PASSWORD) + "\r\n"
        + "Content-Type: audio/mpeg\r\nIce-Public: 0\r\nIce-Name: capture name\r\nIce-Genre: Test\r\n"
        + "Expect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    InputStream in = s.getInputStream();
    assertTrue(Clients.readHead(in).startsWith("HTTP/1.1 100 Continue"));
    assertTrue(Clients.readHead(in).startsWith("HTTP/1.0 200 OK"));
    return s;
  }

  /** Sends 64 KiB of MPEG-free bytes (the mount serves them opaque). */
  static void feed(Socket src) throws IOException {
    src.getOutputStream().write(new byte[65536]);
    src.getOutputStream().flush();
  }

  static Socket listener(InetSocketAddress at, String userAgent) throws IOException {
    Socket s = Clients.get(at, "/live.mp3", "User-Agent: " + userAgent + "\r\n");
    assertTrue(Clients.readHead(s.getInputStream()).startsWith("HTTP/1.0 200 OK"));
    return s;
  }

  static String admin(InetSocketAddress at, String target) throws IOException {
    return Clients.exchange(at, "GET " + target + " HTTP/1.0\r\n" + Clients.adminAuth() + "\r\n");
  }

  static String capture(String name) throws IOException {
    try (InputStream in = AdminApiTest.class.getResourceAsStream("/icecast/admin/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource /icecast/admin/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The answer without the values that differ by nature: the server's name and the date. */
  static String normalise(String answer) {
    return answer.replaceFirst("\r\nServer: [^\r]*\r\n", "\r\nServer: -\r\n")
        .replaceFirst("\r\nDate: [^\r]*\r\n", "\r\nDate: -\r\n");
  }

  static void assertIcecast(String captured, String ours) throws IOException {
    assertEquals(normalise(capture(captured)), normalise(ours), captured);
  }

  /** The answer with its counts and lengths zeroed: the shape alone. */
  static String counts(String answer) {
    return answer.replaceAll("<(Connected|listeners)>\\d+<", "<$1>0<").replaceAll("Content-Length: \\d+", "");
  }

  static String body(String answer) {
    int i = answer.indexOf("\r\n\r\n");
    return i < 0 ? answer : answer.substring(i + 4);
  }

  /** The element names in document order. */
  static List<String> tags(String xml) {
    return all(xml, TAG.pattern());
  }

  static List<String> all(String text, String regex) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile(regex).matcher(text);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}
