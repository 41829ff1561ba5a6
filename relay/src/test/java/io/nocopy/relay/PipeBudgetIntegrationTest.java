package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A relay run as an ordinary user (not root, no {@code CAP_SYS_RESOURCE}) with default flags and
 * {@code --engine splice} serves 1,000 listeners on the kernel transport's engine: the user's pipe
 * page budget holds only about a hundred 512 KiB listener pipes, the rest are served in userspace,
 * and more sources still find pipes for their own fan-outs. The relay runs in a child JVM under {@code setpriv}; the
 * listeners come from ten loopback addresses, 100 each (the default per-address limit).
 */
@Tag("integration")
class PipeBudgetIntegrationTest {
  private static final int LISTENERS = 1000;

  @Test
  void aNonRootRelayServesAThousandListeners(@TempDir Path dir) throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")),
        "runs the relay as user nobody with setpriv, which needs root; skipping");
    Tools.require("setpriv");
    assumeTrue(io.nocopy.pipe.Transfer.accelerated(java.nio.channels.SocketChannel.open(),
        java.nio.channels.SocketChannel.open()), "splice is not available here; skipping");
    int port;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    Path log = dir.resolve("relay.log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process relay = new ProcessBuilder("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
        java, "-XX:-UsePerfData", "-Xmx256m", "--enable-native-access=ALL-UNNAMED",
        "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        RelayMain.class.getName(), "--listen", "127.0.0.1:" + port, "--source-password", Clients.PASSWORD,
        "--admin-password", Clients.ADMIN_PASSWORD, "--status-interval", "0", "--engine", "splice")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    List<Socket> listeners = new ArrayList<>();
    AtomicLong received = new AtomicLong();
    try {
      InetSocketAddress at = new InetSocketAddress("127.0.0.1", port);
      Clients.awaitListening(at);
      try (Clients.Source src = Clients.source(at, "/budget.mp3", false, false)) {
        byte[] data = new byte[4096];
        Thread feeder = Thread.ofPlatform().daemon().start(() -> {
          try {
            while (true) {
              src.send(data, 0, data.length);
              Thread.sleep(100); // 40 KB/s
            }
          } catch (IOException | InterruptedException e) {
            // the test ends it
          }
        });
        for (int i = 0; i < LISTENERS; i++) {
          Socket s = new Socket();
          s.bind(new InetSocketAddress("127.0.0." + (2 + i / 100), 0));
          s.connect(at, 10_000);
          s.setSoTimeout(30_000);
          s.getOutputStream().write("GET /budget.mp3 HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          listeners.add(s);
          String head = Clients.readHead(s.getInputStream());
          assertTrue(head.startsWith("HTTP/1.0 200"), "listener " + i + ": " + head + "\n" + Files.readString(log));
          Thread.ofVirtual().start(() -> drain(s, received));
        }
        String stats = Clients.exchange(at, "GET /admin/nocopy-stats.json HTTP/1.0\r\n" + Clients.adminAuth() + "\r\n");
        Matcher m = Pattern.compile("\"/budget.mp3\":\\{\"splice\":(\\d+),\"userspace\":(\\d+)}").matcher(stats);
        assertTrue(m.find(), stats);
        int kernel = Integer.parseInt(m.group(1));
        int user = Integer.parseInt(m.group(2));
        System.out.printf("non-root relay, --engine splice: %d listeners on splice, %d in userspace%n", kernel, user);
        assertEquals(LISTENERS, kernel + user, stats);
        assertTrue(kernel >= 10 && user >= LISTENERS / 2, "most listeners beyond the budget: " + stats);
        String page = Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n");
        assertTrue(page.contains("\"nocopy_listeners_by_transport\":{\"splice\":" + kernel + ",\"userspace\":"
            + user + "}"), "the status page says which transport serves how many: " + page);
        // more sources still get their fan-outs' own pipes (staging, burst): they run on the
        // kernel transport too
        List<Clients.Source> more = new ArrayList<>();
        try {
          for (int i = 0; i < 5; i++) {
            more.add(Clients.source(at, "/more" + i + ".mp3", false, false));
          }
          String status = Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n");
          for (int i = 0; i < 5; i++) {
            int from = status.indexOf("/more" + i + ".mp3\"");
            assertTrue(from > 0, status);
            int engine = status.indexOf("\"nocopy_engine\":", from);
            assertTrue(engine > 0 && status.startsWith("\"nocopy_engine\":\"splice\"", engine),
                "mount " + i + " runs on the kernel transport: " + status);
          }
        } finally {
          for (Clients.Source extra : more) {
            extra.finish();
            extra.close();
          }
        }
        long before = received.get();
        Thread.sleep(1500);
        assertTrue(received.get() - before >= LISTENERS * 20_000L,
            "every listener keeps receiving: " + (received.get() - before) + " bytes in 1.5 s");
        feeder.interrupt();
        src.close();
      }
    } finally {
      for (Socket s : listeners) {
        s.close();
      }
      relay.destroy();
      relay.waitFor();
    }
  }

  private static void drain(Socket s, AtomicLong received) {
    byte[] buf = new byte[8192];
    try (InputStream in = s.getInputStream(); OutputStream ignored = s.getOutputStream()) {
      for (int n; (n = in.read(buf)) > 0; ) {
        received.addAndGet(n);
      }
    } catch (IOException e) {
      // closed by the test
    }
  }
}
