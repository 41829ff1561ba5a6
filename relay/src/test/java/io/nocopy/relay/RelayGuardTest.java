package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Admission and the guards before it: admin credentials, conflicting lengths, the source timeout,
 * the connection caps, and heads read without pooled memory. Runs on both transports (the build's
 * userspace execution runs it again).
 */
class RelayGuardTest {
  private static final String ICECAST_401_TAIL = "Content-Type: text/plain; charset=utf-8\r\n"
      + "WWW-Authenticate: Basic realm=\"Icecast2 Server\"\r\n"
      + "Cache-Control: no-cache, no-store\r\n"
      + "Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\n"
      + "Pragma: no-cache\r\n\r\n"
      + "You need to authenticate\r\n";

  @Test
  void everyAdminPathNeedsCredentials() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      String wrongAdmin = "Authorization: Basic "
          + java.util.Base64.getEncoder().encodeToString("admin:nope".getBytes(StandardCharsets.UTF_8)) + "\r\n";
      for (String path : new String[] {"/admin/nocopy-stats.json", "/admin/metadata?mode=updinfo&mount=/a&song=x",
          "/admin/stats", "/admin/listmounts", "/admin/bogus", "/admin"}) {
        for (String auth : new String[] {"", wrongAdmin}) {
          String r = Clients.exchange(at, "GET " + path + " HTTP/1.0\r\n" + auth + "\r\n");
          assertTrue(r.startsWith("HTTP/1.0 401 Authentication Required\r\nServer: "), path + ": " + r);
          assertTrue(r.matches("(?s).*\r\nConnection: Close\r\nDate: [A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4}"
              + " \\d{2}:\\d{2}:\\d{2} GMT\r\n.*"), r);
          assertTrue(r.endsWith(ICECAST_401_TAIL), path + ": " + r);
          assertFalse(r.contains("Content-Length"), r);
        }
      }
      // the source's credentials do not open the admin pages, except the encoders' metadata update
      assertEquals(401, Clients.status(Clients.exchange(at, "GET /admin/nocopy-stats.json HTTP/1.0\r\n"
          + "Authorization: " + Clients.basic(Clients.PASSWORD) + "\r\n\r\n")));
      String stats = Clients.exchange(at, "GET /admin/nocopy-stats.json HTTP/1.0\r\n" + Clients.adminAuth() + "\r\n");
      assertEquals(200, Clients.status(stats), stats);
      assertEquals(404, Clients.status(Clients.exchange(at, "GET /admin/metadata?mode=updinfo&mount=/none"
          + " HTTP/1.0\r\nAuthorization: " + Clients.basic(Clients.PASSWORD) + "\r\n\r\n")));
      // the admin's credentials open it too
      assertEquals(404, Clients.status(Clients.exchange(at, "GET /admin/metadata?mode=updinfo&mount=/none"
          + " HTTP/1.0\r\n" + Clients.adminAuth() + "\r\n")));
      // an authenticated request for a command the relay does not have gets Icecast's 400
      String bogus = Clients.exchange(at, "GET /admin/bogus HTTP/1.0\r\n" + Clients.adminAuth() + "\r\n");
      assertEquals(400, Clients.status(bogus), bogus);
      assertTrue(bogus.endsWith("<b>400 - Unrecognised command</b></body></html>\r\n"), bogus);
      // outside /admin/ nothing changes
      assertEquals(200, Clients.status(Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n")));
    }
  }

  @Test
  void conflictingContentLengthsAreRefused() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      for (String lengths : new String[] {"Content-Length: 10\r\nContent-Length: 20\r\n",
          "Content-Length: 10, 20\r\n", "Content-Length: 1x\r\n"}) {
        String r = Clients.exchange(at, "PUT /c.mp3 HTTP/1.1\r\nHost: x\r\nAuthorization: "
            + Clients.basic(Clients.PASSWORD) + "\r\n" + lengths + "\r\n0123456789");
        assertEquals(400, Clients.status(r), lengths + r);
        assertEquals(400, Clients.status(Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n"
            + lengths + "\r\n")), lengths);
      }
      // the same length twice is one length: the body is published whole
      try (Clients.Listener early = null) {
        String body = "0123456789";
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
          s.getOutputStream().write(("PUT /same.mp3 HTTP/1.1\r\nHost: x\r\nAuthorization: "
              + Clients.basic(Clients.PASSWORD) + "\r\nContent-Length: 10\r\nContent-Length: 10\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          String head = Clients.readHead(s.getInputStream());
          assertEquals(200, Clients.status(head), head);
          s.getOutputStream().write(body.getBytes(StandardCharsets.US_ASCII));
          s.setSoTimeout(10_000);
          assertEquals(-1, s.getInputStream().read(), "the source ends after its Content-Length");
        }
      }
    }
  }

  @Test
  void silentSourceIsDroppedAndItsMountFreed() throws Exception {
    for (boolean chunked : new boolean[] {false, true}) {
      try (RelayServer server = RelayServer.start(Clients.config("--source-timeout", "1"))) {
        InetSocketAddress at = server.address();
        byte[] data = new byte[20_000];
        new java.util.Random(7).nextBytes(data);
        Clients.Source src = Clients.source(at, "/stall.mp3", chunked, false);
        Clients.Listener l = new Clients.Listener(at, "/stall.mp3");
        src.send(data, 0, data.length);
        long t0 = System.nanoTime();
        byte[] got = l.awaitEnd(); // the stalled source is cut off: the listener's stream ends
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 800 && ms < 6_000, "dropped after " + ms + " ms");
        assertEquals(data.length, got.length, "the listener got everything the source sent");
        waitUntil(() -> server.mount("/stall.mp3") == null, 5_000, "mount freed");
        // the encoder's reconnection is accepted (Icecast: 200, not 403 mountpoint in use)
        try (Clients.Source again = Clients.source(at, "/stall.mp3", chunked, false)) {
          Clients.Listener l2 = new Clients.Listener(at, "/stall.mp3");
          assertTrue(l2.head.startsWith("HTTP/1.0 200"), l2.head);
          again.send(data, 0, 1000);
          again.finish();
          assertTrue(l2.awaitEnd().length >= 1000);
        }
        src.close();
        waitUntil(() -> server.allocator().inUse() == 0, 5_000, "pooled blocks returned");
      }
    }
  }

  @Test
  void sourceThatKeepsSendingIsNotDropped() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config("--source-timeout", "1"));
        Clients.Source src = Clients.source(server.address(), "/alive.mp3", false, false)) {
      byte[] data = new byte[500];
      for (int i = 0; i < 12; i++) { // 3 s of a slow trickle: never 1 s silent
        src.send(data, 0, data.length);
        Thread.sleep(250);
      }
      assertTrue(server.mount("/alive.mp3") != null, "a trickling source keeps its mount");
    }
  }

  @Test
  void aListenerThatStopsReadingIsDroppedAfterTheClientTimeout() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config("--client-timeout", "1",
        "--source-timeout", "30", "--queue-size", "4m", "--burst-size", "0"))) {
      InetSocketAddress at = server.address();
      try (Clients.Source src = Clients.source(at, "/slow.mp3", false, false)) {
        Clients.Listener reader = new Clients.Listener(at, "/slow.mp3");
        Socket stalled = new Socket();
        stalled.setReceiveBufferSize(4096);
        stalled.connect(at);
        stalled.getOutputStream().write("GET /slow.mp3 HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        waitUntil(() -> server.mounts().get(0).listeners() == 2, 5_000, "two listeners");
        byte[] data = new byte[16384];
        // until the stalled listener's socket buffers are full and bytes wait for it (less than
        // its queue: it is not too slow yet, only stopped)
        Mount mount = server.mount("/slow.mp3");
        long sent = 0;
        MountFanout.Attached stuck = null;
        int seenWaiting = 0;
        while (sent < (16 << 20) && seenWaiting < 2) {
          src.send(data, 0, data.length);
          sent += data.length;
          Thread.sleep(5);
          if (sent % (256 << 10) == 0) {
            Thread.sleep(200); // what the socket can still take, it takes by now
            stuck = mount.listenerSinks().stream().filter(s -> s.backlog() > 0).findFirst().orElse(null);
            seenWaiting = stuck == null ? 0 : seenWaiting + 1;
          }
        }
        assertTrue(stuck != null, "bytes wait for the stalled listener after " + sent + " bytes");
        long t0 = System.nanoTime();
        while (server.mounts().get(0).listeners() == 2 && System.nanoTime() - t0 < 10_000_000_000L) {
          src.send(data, 0, 4096); // 40 KB/s: the source stays live, the stalled queue stays short
          Thread.sleep(100);
        }
        // (it may go before this loop starts: its clock runs from its last byte taken, earlier)
        assertEquals(1, server.mounts().get(0).listeners(), "the stalled listener was dropped");
        assertFalse(stuck.droppedAsSlow(), "by the client timeout, not for falling a queue behind");
        assertTrue(mount.listenerSinks().get(0).bytesWritten() > 0, "the reading one stays");
        int got = reader.received();
        src.send(data, 0, data.length);
        waitUntil(() -> reader.received() > got, 5_000, "the reading listener stays");
        src.finish();
        reader.awaitEnd();
        reader.close();
        stalled.close();
      }
    }
  }

  @Test
  void perAddressCapOnPendingHeads() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config("--max-pending-per-ip", "3"))) {
      InetSocketAddress at = server.address();
      List<Socket> idle = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          idle.add(new Socket(at.getAddress(), at.getPort()));
        }
        waitUntil(() -> server.openConnections() == 3, 5_000, "three pending");
        try (Socket fourth = new Socket(at.getAddress(), at.getPort())) {
          assertClosedAtOnce(fourth);
        }
        assertEquals(1, server.refusals()[1]);
        // a pending connection that completes its head frees its place
        Socket s = idle.remove(0);
        s.getOutputStream().write("GET /status-json.xsl HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals(200, Clients.status(new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1)));
        s.close();
        assertEquals(200, Clients.status(Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n")));
      } finally {
        for (Socket s : idle) {
          s.close();
        }
      }
    }
  }

  @Test
  void globalConnectionCap() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config("--max-connections", "4"))) {
      InetSocketAddress at = server.address();
      List<Socket> idle = new ArrayList<>();
      try {
        for (int i = 0; i < 4; i++) {
          idle.add(new Socket(at.getAddress(), at.getPort()));
        }
        waitUntil(() -> server.openConnections() == 4, 5_000, "four open");
        try (Socket fifth = new Socket(at.getAddress(), at.getPort())) {
          assertClosedAtOnce(fifth);
        }
        assertTrue(server.refusals()[0] >= 1);
      } finally {
        for (Socket s : idle) {
          s.close();
        }
      }
      waitUntil(() -> server.openConnections() == 0, 5_000, "all closed");
      assertEquals(200, Clients.status(Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n")));
    }
  }

  @Test
  void pendingHeadsTakeNoPooledMemory() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config("--max-pending-per-ip", "1000"))) {
      InetSocketAddress at = server.address();
      List<Socket> idle = new ArrayList<>();
      try {
        for (int i = 0; i < 200; i++) {
          Socket s = new Socket(at.getAddress(), at.getPort());
          if (i % 2 == 0) { // half send part of a head, half nothing
            s.getOutputStream().write("GET /x HTTP/1.0\r\nUser-Agent: slow".getBytes(StandardCharsets.US_ASCII));
          }
          idle.add(s);
        }
        waitUntil(() -> server.openConnections() == 200 && server.headBytes() == 100 * 512L + 100 * 16, 5_000,
            "100 heads of 512 bytes, 100 of 16 waiting for their first byte");
        assertEquals(0, server.allocator().inUse(), "no pooled block for a pending head");
      } finally {
        for (Socket s : idle) {
          s.close();
        }
      }
      waitUntil(() -> server.headBytes() == 0, 5_000, "head memory given back");
    }
  }

  static void assertClosedAtOnce(Socket s) throws IOException {
    s.setSoTimeout(5_000);
    InputStream in = s.getInputStream();
    try {
      assertEquals(-1, in.read(), "closed without an answer");
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the connection was kept open");
    } catch (IOException e) {
      // a reset is a close too
    }
  }

  static void waitUntil(java.util.function.BooleanSupplier c, long ms, String what) throws InterruptedException {
    long end = System.currentTimeMillis() + ms;
    while (!c.getAsBoolean()) {
      if (System.currentTimeMillis() > end) {
        throw new AssertionError("timed out waiting: " + what);
      }
      Thread.sleep(20);
    }
  }
}
