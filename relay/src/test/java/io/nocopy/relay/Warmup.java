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
    // engine auto and splice whatever the run's default: a chunked source is served in userspace,
    // a raw one by auto's choice and on the kernel transport where available, so both transports'
    // lazily opened descriptors exist
    exchange("auto");
    try {
      exchange("splice");
    } catch (java.io.IOException e) {
      // splice is not available here: the relay refuses --engine splice
    }
  }

  private static void exchange(String engine) throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config("--engine", engine))) {
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
