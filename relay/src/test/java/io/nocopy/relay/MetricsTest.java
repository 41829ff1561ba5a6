package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import io.nocopy.relay.config.MountSettings;
import io.nocopy.relay.config.MountTable;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics}: the samples follow what happens on the relay (a source, listeners, an admin
 * kill), every family is declared once with its type before its samples, and label values are
 * escaped. {@code promtool}'s own check is in {@link MetricsIntegrationTest}.
 */
class MetricsTest {
  @Test
  void samplesFollowTheRelay() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      String empty = metrics(at);
      assertEquals(200, Clients.status(empty), empty);
      assertTrue(empty.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), empty);
      assertEquals(0, value(empty, "nocopy_sources"));
      assertWellFormed(AdminApiTest.body(empty));
      try (Socket src = AdminApiTest.source(at, "/live.mp3")) {
        AdminApiTest.feed(src);
        try (Socket a = AdminApiTest.listener(at, "a"); Socket b = AdminApiTest.listener(at, "b")) {
          // ids are given once a listener is attached: listclients names both only after that
          RelayEndToEndTest.await(() -> server.listenerRegistry().on("/live.mp3").size() == 2, "two listeners");
          AdminApiTest.feed(src);
          RelayEndToEndTest.await(() -> server.mount("/live.mp3").bytesIn() == 2 * 65536, "the source's bytes in");
          String id = AdminApiTest.all(AdminApiTest.admin(at, "/admin/listclients?mount=/live.mp3"),
              "<ID>(\\d+)</ID>").get(0);
          AdminApiTest.admin(at, "/admin/killclient?mount=/live.mp3&id=" + id);
          RelayEndToEndTest.await(() -> server.mount("/live.mp3").listeners() == 1, "one listener left");
          String page = AdminApiTest.body(metrics(at));
          assertWellFormed(page);
          assertEquals(1, value(page, "nocopy_sources"));
          assertEquals(1, value(page, "nocopy_mount_source_connected{mount=\"/live.mp3\"}"));
          assertEquals(1, value(page, "nocopy_mount_listeners{mount=\"/live.mp3\"}"));
          assertEquals(2, value(page, "nocopy_mount_listener_peak{mount=\"/live.mp3\"}"));
          assertEquals(2 * 65536, value(page, "nocopy_mount_received_bytes_total{mount=\"/live.mp3\"}"), page);
          assertTrue(value(page, "nocopy_mount_sent_bytes_total{mount=\"/live.mp3\"}") >= 65536, page);
          assertEquals(1, value(page,
              "nocopy_mount_listener_drops_total{mount=\"/live.mp3\",reason=\"admin_kill\"}"));
          assertEquals(0, value(page,
              "nocopy_mount_listener_drops_total{mount=\"/live.mp3\",reason=\"too_slow\"}"));
          String transport = server.mounts().get(0).engine();
          assertEquals(1, value(page,
              "nocopy_mount_transport_info{mount=\"/live.mp3\",transport=\"" + transport + "\"}"));
          assertEquals(server.mounts().get(0).ioUring() ? 1 : 0,
              value(page, "nocopy_mount_io_uring{mount=\"/live.mp3\"}"));
          assertEquals(1, value(page, "nocopy_mount_listeners_by_transport{mount=\"/live.mp3\",transport=\"splice\"}")
              + value(page, "nocopy_mount_listeners_by_transport{mount=\"/live.mp3\",transport=\"userspace\"}"));
          assertEquals(2, value(page, "nocopy_listener_connections_total"));
          assertEquals(1, value(page, "nocopy_source_connections_total"));
          assertTrue(value(page, "nocopy_pool_max_bytes") >= 1 << 20, page);
          assertTrue(page.contains("\nprocess_cpu_seconds_total "), page);
          assertTrue(page.contains("\njvm_gc_collections_total{gc=\""), page);
        }
      }
    }
  }

  @Test
  void labelValuesAreEscaped() throws Exception {
    // a source cannot publish such a name, but an icecast.xml may configure one
    MountSettings odd = new MountSettings("/a\"b\\c\nd", null, null, null, null, null, null, null, null,
        null, null, null, null, null, null, null, null, null, null, null, null, Map.of());
    RelayConfig config = Clients.config().withMounts(new MountTable(MountSettings.none(), List.of(odd)));
    try (RelayServer server = RelayServer.start(config)) {
      String page = AdminApiTest.body(metrics(server.address()));
      assertWellFormed(page);
      assertTrue(page.contains("nocopy_mount_source_connected{mount=\"/a\\\"b\\\\c\\nd\"} 0\n"), page);
    }
  }

  static String metrics(InetSocketAddress at) throws Exception {
    return Clients.exchange(at, "GET /metrics HTTP/1.0\r\n\r\n");
  }

  /** The value of the sample line that starts with {@code series} and a space. */
  static long value(String page, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(page);
    assertTrue(m.find(), series + " in\n" + page);
    return Long.parseLong(m.group(1));
  }

  /** HELP and TYPE once per family, before its samples; every sample of a declared family. */
  static void assertWellFormed(String page) {
    java.util.Set<String> declared = new java.util.HashSet<>();
    java.util.Set<String> typed = new java.util.HashSet<>();
    for (String line : page.split("\n")) {
      if (line.startsWith("# HELP ")) {
        assertTrue(declared.add(line.split(" ")[2]), "HELP twice: " + line);
      } else if (line.startsWith("# TYPE ")) {
        String[] p = line.split(" ");
        assertTrue(typed.add(p[2]), "TYPE twice: " + line);
        assertTrue(p[3].equals("gauge") || p[3].equals("counter"), line);
        assertEquals(p[3].equals("counter"), p[2].endsWith("_total"), line);
      } else {
        assertTrue(line.matches("[a-z_]+(\\{.*\\})? -?[0-9.]+"), "a sample: " + line);
        String family = line.split("[{ ]")[0];
        assertTrue(typed.contains(family), "sample before its TYPE: " + line);
      }
    }
  }
}
