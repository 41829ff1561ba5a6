package io.nocopy.relay;

import java.net.InetSocketAddress;

/** A complete source-and-listener session, run once per test JVM before fd baselines are taken. */
final class Warmup {
  private static boolean done;

  private Warmup() {}

  static synchronized void once() throws Exception {
    if (done) {
      return;
    }
    done = true;
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      try (Clients.Source src = Clients.source(at, "/warmup", true, false);
          Clients.Listener l = new Clients.Listener(at, "/warmup")) {
        byte[] b = new byte[1000];
        src.send(b, 0, b.length);
        src.finish();
        l.awaitEnd();
      }
      Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n");
    }
  }
}
