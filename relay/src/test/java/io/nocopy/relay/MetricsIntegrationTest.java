package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} as Prometheus's own checker reads it: an ffmpeg source, a curl listener, curl
 * fetching the page, {@code promtool check metrics} (Debian's {@code prometheus} package) judging
 * it. Run with {@code mvn -Pintegration -pl core,relay verify}; skipped when a tool is missing.
 */
@Tag("integration")
class MetricsIntegrationTest {
  @Test
  void promtoolAcceptsThePage(@TempDir Path dir) throws Exception {
    Tools.require("ffmpeg", "curl", "promtool");
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      String base = "http://127.0.0.1:" + at.getPort();
      Process ff = new ProcessBuilder("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi",
          "-i", "sine=frequency=440:duration=20", "-c:a", "libmp3lame", "-b:a", "128k", "-content_type",
          "audio/mpeg", "-f", "mp3", "icecast://source:" + Clients.PASSWORD + "@127.0.0.1:" + at.getPort()
          + "/live.mp3").redirectErrorStream(true).redirectOutput(dir.resolve("ffmpeg.log").toFile()).start();
      Process listener = null;
      try {
        RelayEndToEndTest.await(() -> server.mount("/live.mp3") != null, "ffmpeg connected");
        listener = new ProcessBuilder("curl", "-s", "-m", "30", "-o", dir.resolve("l.mp3").toString(),
            base + "/live.mp3").start();
        RelayEndToEndTest.await(() -> server.mount("/live.mp3").listeners() == 1
            && server.mount("/live.mp3").snapshot().bytesOut() > 0, "the curl listener served");
        Path page = dir.resolve("metrics.txt");
        Process get = new ProcessBuilder("curl", "-s", "-f", "-o", page.toString(), base + "/metrics").start();
        assertTrue(get.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, get.exitValue(), "curl /metrics");
        String text = Files.readString(page);
        assertTrue(text.contains("nocopy_mount_listeners{mount=\"/live.mp3\"} 1\n"), text);
        Process check = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true)
            .redirectInput(page.toFile()).start();
        String verdict = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(check.waitFor(30, TimeUnit.SECONDS));
        // promtool exits 0 with no output for a page without problems (lint warnings exit 3)
        assertEquals(0, check.exitValue(), "promtool check metrics: " + verdict + "\n" + text);
        assertEquals("", verdict.strip(), text);
      } finally {
        ff.destroy();
        if (listener != null) {
          listener.destroy();
        }
        ff.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
