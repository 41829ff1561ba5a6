package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every kind of bad input gets its status code (or its connection closed), and the relay keeps
 * serving everyone else: after each test a source and a listener still work end to end.
 */
class RelayBadInputTest {
  private static RelayServer server;
  private static InetSocketAddress at;
  private long fdsBefore;

  @BeforeAll
  static void start() throws Exception {
    Warmup.once();
    server = RelayServer.start(Clients.config("--header-timeout", "1", "--max-listeners-per-ip", "3",
        "--max-listeners", "5"));
    at = server.address();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @BeforeEach
  void baseline() throws Exception {
    fdsBefore = Clients.openFds();
  }

  @AfterEach
  void stillServingAndNothingLeaked() throws Exception {
    // the test's own connections end first (a source's end reaches its listeners asynchronously)
    RelayEndToEndTest.await(() -> server.openConnections() == 0, "the test's connections closed");
    byte[] data = RelayEndToEndTest.random(10_000, 99);
    try (Clients.Source src = Clients.source(at, "/after.mp3", false, false);
        Clients.Listener l = new Clients.Listener(at, "/after.mp3")) {
      RelayEndToEndTest.await(() -> server.mounts().stream()
          .anyMatch(m -> m.mount().equals("/after.mp3") && m.listeners() == 1), "listener joined");
      src.send(data, 0, data.length);
      src.finish();
      assertArrayEquals(data, l.awaitEnd(), "the relay still serves");
    }
    RelayEndToEndTest.await(() -> server.openConnections() == 0, "connections closed");
    RelayEndToEndTest.await(() -> server.allocator().inUse() == 0, "blocks released");
    RelayEndToEndTest.await(() -> {
      try {
        return Clients.openFds() <= fdsBefore;
      } catch (IOException e) {
        return false;
      }
    }, "fds back to baseline");
  }

  private static String source(String method, String mount, String auth) throws IOException {
    return Clients.exchange(at, method + " " + mount + " HTTP/1.0\r\n"
        + (auth == null ? "" : "Authorization: " + auth + "\r\n") + "Content-Type: audio/mpeg\r\n\r\n");
  }

  @Test
  void wrongOrMissingPasswordIs401() throws Exception {
    String r = source("PUT", "/x.mp3", Clients.basic("nope"));
    assertEquals(401, Clients.status(r), r);
    assertTrue(r.contains("WWW-Authenticate: Basic"), r);
    assertEquals(401, Clients.status(source("SOURCE", "/x.mp3", null)));
    assertEquals(401, Clients.status(source("PUT", "/x.mp3", "Basic !!!notbase64")));
    assertEquals(401, Clients.status(source("PUT", "/x.mp3", "Bearer abc")));
    assertTrue(server.mounts().isEmpty());
  }

  @Test
  void secondSourceOnAMountIs403() throws Exception {
    try (Clients.Source first = Clients.source(at, "/busy.mp3", false, false)) {
      IOException e = assertThrows(IOException.class, () -> Clients.source(at, "/busy.mp3", false, false));
      assertTrue(e.getMessage().contains("403"), e.getMessage());
      first.finish();
    }
  }

  @Test
  void unknownMountIs404() throws Exception {
    String answer = Clients.exchange(at, "GET /nothing.mp3 HTTP/1.0\r\n\r\n");
    // Icecast 2.4.4's answer to the same request, byte for byte but the Server and Date values
    assertEquals("""
        HTTP/1.0 404 File Not Found\r
        Server: <server>\r
        Connection: Close\r
        Date: <date>\r
        Content-Type: text/html; charset=utf-8\r
        Cache-Control: no-cache, no-store\r
        Expires: Mon, 26 Jul 1997 05:00:00 GMT\r
        Pragma: no-cache\r
        \r
        <html><head><title>Error 404</title></head><body><b>404 - The file you requested could not be found</b></body></html>\r
        """, answer.replaceFirst("Server: [^\r]*", "Server: <server>")
            .replaceFirst("Date: \\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT", "Date: <date>"));
  }

  @Test
  void otherMethodsAre405() throws Exception {
    for (String m : new String[] {"DELETE", "POST", "OPTIONS", "HEAD"}) {
      String r = Clients.exchange(at, m + " /x.mp3 HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(405, Clients.status(r), m + ": " + r);
    }
  }

  @Test
  void pathTraversalAndOddMountNamesAre400() throws Exception {
    for (String path : new String[] {"/../etc/passwd", "/a/../../b", "/%2e%2e/x", "/a//b", "/.hidden",
        "/a\\b"}) {
      assertEquals(400, Clients.status(source("PUT", path, Clients.basic(Clients.PASSWORD))), path);
    }
    assertEquals(400, Clients.status(Clients.exchange(at, "GET /../x HTTP/1.0\r\n\r\n")));
    assertTrue(server.mounts().isEmpty());
  }

  @Test
  void malformedRequestLinesAre400() throws Exception {
    assertEquals(400, Clients.status(Clients.exchange(at, "GARBAGE\r\n\r\n")));
    assertEquals(400, Clients.status(Clients.exchange(at, "GET /x HTTP/9.9\r\n\r\n")));
    assertEquals(400, Clients.status(Clients.exchange(at, "get /x HTTP/1.0\r\n\r\n")));
    assertEquals(400, Clients.status(Clients.exchange(at, "GET /x HTTP/1.0\r\nNoColon\r\n\r\n")));
    assertEquals(400, Clients.status(Clients.exchange(at, "GET /" + "a".repeat(9000) + " HTTP/1.0\r\n\r\n")));
  }

  @Test
  void oversizedHeadersAre431() throws Exception {
    StringBuilder req = new StringBuilder("GET /x HTTP/1.0\r\n");
    for (int i = 0; i < 200; i++) {
      req.append("X-Filler-").append(i).append(": ").append("v".repeat(60)).append("\r\n");
    }
    req.append("\r\n");
    assertEquals(431, Clients.status(Clients.exchange(at, req.toString())));
    assertEquals(431, Clients.status(Clients.exchange(at,
        "GET /x HTTP/1.0\r\nX-Big: " + "v".repeat(9000) + "\r\n\r\n")));
  }

  @Test
  void slowlorisIsClosedAfterTheHeaderTimeout() throws Exception {
    try (Socket s = new Socket(at.getAddress(), at.getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET /x HTTP/1.0\r\nX-A: 1\r\n".getBytes(StandardCharsets.US_ASCII));
      long t0 = System.nanoTime();
      InputStream in = s.getInputStream();
      assertEquals(-1, in.read(), "closed without an answer");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms >= 500 && ms < 8000, "closed after " + ms + " ms (timeout 1 s)");
    }
  }

  @Test
  void malformedChunkSizeEndsTheSourceAndItsListenersCleanly() throws Exception {
    byte[] good = RelayEndToEndTest.random(5000, 3);
    Clients.Source src = Clients.source(at, "/chunky.mp3", true, false);
    try (Clients.Listener l = new Clients.Listener(at, "/chunky.mp3")) {
      RelayEndToEndTest.await(() -> server.mounts().stream().anyMatch(m -> m.listeners() == 1), "joined");
      src.send(good, 0, good.length);
      src.out.write("zz-not-hex\r\nabc\r\n".getBytes(StandardCharsets.US_ASCII));
      src.out.flush();
      assertArrayEquals(good, l.awaitEnd(), "the good bytes, then a clean end of the response");
    } finally {
      src.close();
    }
    RelayEndToEndTest.await(() -> server.mounts().stream().noneMatch(m -> m.mount().equals("/chunky.mp3")),
        "mount freed");
  }

  @Test
  void listenerLimitsPerIpAndInTotalAre503() throws Exception {
    try (Clients.Source src = Clients.source(at, "/limits.mp3", false, false)) {
      List<Clients.Listener> ls = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          ls.add(new Clients.Listener(at, "/limits.mp3"));
          assertTrue(ls.get(i).head.startsWith("HTTP/1.0 200"));
        }
        String r = Clients.exchange(at, "GET /limits.mp3 HTTP/1.0\r\n\r\n");
        assertEquals(503, Clients.status(r), "per-IP limit of 3: " + r);
      } finally {
        for (Clients.Listener l : ls) {
          l.close();
        }
      }
      src.finish();
    }
  }

  @Test
  void theTotalListenerLimitIs503() throws Exception {
    try (RelayServer small = RelayServer.start(Clients.config("--max-listeners", "2",
            "--max-listeners-per-ip", "100"));
        Clients.Source src = Clients.source(small.address(), "/total.mp3", false, false);
        Clients.Listener a = new Clients.Listener(small.address(), "/total.mp3");
        Clients.Listener b = new Clients.Listener(small.address(), "/total.mp3")) {
      assertTrue(a.head.startsWith("HTTP/1.0 200") && b.head.startsWith("HTTP/1.0 200"));
      String r = Clients.exchange(small.address(), "GET /total.mp3 HTTP/1.0\r\n\r\n");
      assertEquals(503, Clients.status(r), "total limit of 2: " + r);
      src.finish();
    }
  }

  @Test
  void abruptDisconnectsMidRequestAreHarmless() throws Exception {
    for (String partial : new String[] {"", "GET", "GET /x HTTP/1.0\r\n", "PUT /x.mp3 HTTP/1.0\r\nAuthor"}) {
      try (Socket s = new Socket(at.getAddress(), at.getPort())) {
        s.getOutputStream().write(partial.getBytes(StandardCharsets.US_ASCII));
        s.setSoLinger(true, 0);
      }
    }
  }
}
