package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 10,000 connections that never finish a request head (half send nothing, half the start of one)
 * while a live source and its listeners stream: the listeners keep receiving, the status page
 * answers within a second, the pending heads take no pooled block, and everything is given back
 * when they go. The idle connections come from a child JVM ({@link Flood}), so that neither
 * process needs more than about 10,000 descriptors. Runs on both transports (the build's userspace
 * execution runs it again).
 */
@Tag("integration")
class IdleFloodIntegrationTest {
  private static final int IDLE = 10_000;

  @Test
  void tenThousandIdleConnectionsDoNotStarveALiveStream() throws Exception {
    long limit = RelayConfig.openFileLimit();
    assumeTrue(limit >= IDLE + 1000, "the open-file limit " + limit + " is below " + (IDLE + 1000)
        + " (raise it with ulimit -n); skipping");
    try (RelayServer server = RelayServer.start(Clients.config("--max-connections", "12000",
        "--max-pending-per-ip", "20000", "--header-timeout", "120"))) {
      InetSocketAddress at = server.address();
      try (Clients.Source src = Clients.source(at, "/live.mp3", false, false)) {
        List<Clients.Listener> ls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          ls.add(new Clients.Listener(at, "/live.mp3"));
        }
        Thread feeder = Thread.ofPlatform().daemon().start(() -> {
          byte[] data = RelayEndToEndTest.random(4096, 3);
          try {
            while (true) {
              src.send(data, 0, data.length);
              Thread.sleep(50); // 80 KB/s
            }
          } catch (IOException | InterruptedException e) {
            // the test ends it
          }
        });
        Thread.sleep(500);
        long fdsBefore = Clients.openFds();
        long blocksBefore = server.allocator().inUse();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process flood = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
            Flood.class.getName(), "127.0.0.1", Integer.toString(at.getPort()), Integer.toString(IDLE))
            .redirectErrorStream(true).start();
        try {
          BufferedReader out = new BufferedReader(new InputStreamReader(flood.getInputStream(), StandardCharsets.UTF_8));
          String line = out.readLine();
          assertEquals("connected " + IDLE, line, "the flood's report");
          RelayEndToEndTest.await(() -> server.openConnections() >= IDLE + 4, "the relay holds every connection");
          RelayEndToEndTest.await(() -> server.headBytes() == IDLE / 2 * 512L + IDLE / 2 * 16L,
              "half the heads in 512 bytes, half waiting in 16");
          long blocksFlooded = server.allocator().inUse();
          assertTrue(blocksFlooded <= blocksBefore + 16,
              "pending heads take no pooled block: " + blocksBefore + " -> " + blocksFlooded);
          long worstMs = 0;
          for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            String status = Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(200, Clients.status(status));
            assertTrue(status.contains("\"listeners\":3"), status);
            assertTrue(ms < 1000, "status answered in " + ms + " ms");
            worstMs = Math.max(worstMs, ms);
          }
          System.out.printf("idle flood (%s): %d connections held, head bytes %d, pooled blocks %d -> %d,"
              + " descriptors %d -> %d, status-json at most %d ms%n", Clients.ENGINE,
              server.openConnections(), server.headBytes(), blocksBefore, blocksFlooded, fdsBefore,
              Clients.openFds(), worstMs);
          int[] before = new int[ls.size()];
          for (int i = 0; i < ls.size(); i++) {
            before[i] = ls.get(i).received();
          }
          Thread.sleep(2000);
          for (int i = 0; i < ls.size(); i++) {
            int got = ls.get(i).received() - before[i];
            assertTrue(got >= 80_000, "listener " + i + " got " + got + " bytes in 2 s under the flood");
          }
          // a new listener and a new source are still admitted
          try (Clients.Listener late = new Clients.Listener(at, "/live.mp3");
              Clients.Source other = Clients.source(at, "/other.mp3", true, false)) {
            assertTrue(late.head.startsWith("HTTP/1.0 200"), late.head);
            other.finish();
          }
        } finally {
          flood.destroy();
          flood.waitFor();
        }
        RelayEndToEndTest.await(() -> server.openConnections() == 4, "the flood's connections closed");
        RelayEndToEndTest.await(() -> server.headBytes() == 0, "head memory given back");
        RelayEndToEndTest.await(() -> {
          try {
            return Clients.openFds() <= fdsBefore + 2;
          } catch (IOException e) {
            return false;
          }
        }, "descriptors back to " + fdsBefore);
        feeder.interrupt();
        feeder.join();
        src.finish();
        for (Clients.Listener l : ls) {
          l.awaitEnd();
          l.close();
        }
      }
      RelayEndToEndTest.assertClean(server);
    }
  }

  /** The child: opens N connections, half of them send the start of a head; reports; waits. */
  public static final class Flood {
    private Flood() {}

    /**
     * Opens the connections and holds them until killed.
     *
     * @param args host, port, count
     * @throws Exception if a connection fails
     */
    public static void main(String[] args) throws Exception {
      InetSocketAddress at = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
      int n = Integer.parseInt(args[2]);
      List<SocketChannel> held = new ArrayList<>(n);
      byte[] partial = "GET /live.mp3 HTTP/1.1\r\nUser-Agent: slow".getBytes(StandardCharsets.US_ASCII);
      for (int i = 0; i < n; i++) {
        SocketChannel c = SocketChannel.open(at);
        if (i % 2 == 0) {
          c.write(ByteBuffer.wrap(partial));
        }
        held.add(c);
      }
      System.out.println("connected " + n);
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
