package io.nocopy.relay;

import java.net.InetSocketAddress;

/** A complete source-and-listener exchange, run once per test JVM before fd baselines are taken. */
final class Warmup {
  private static boolean done;

  private Warmup() {}

  static synchronized void once() throws Exception {
    if (done) {
      return;
    }
    done = true;
    // engine auto whatever the run's default: a chunked source is served in userspace, a raw one
    // on the kernel transport where available, so both transports' lazily opened descriptors exist
    try (RelayServer server = RelayServer.start(Clients.config("--engine", "auto"))) {
      InetSocketAddress at = server.address();
      for (boolean chunked : new boolean[] {true, false}) {
        try (Clients.Source src = Clients.source(at, "/warmup", chunked, false);
            Clients.Listener l = new Clients.Listener(at, "/warmup")) {
          RelayEndToEndTest.await(() -> server.mounts().get(0).listeners() == 1, "warm-up listener");
          byte[] b = new byte[1000];
          src.send(b, 0, b.length);
          src.finish();
          l.awaitEnd();
        }
        RelayEndToEndTest.await(() -> server.mounts().isEmpty(), "warm-up mount gone");
      }
      Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n");
    }
  }
}
