package io.nocopy.relay;

import io.nocopy.relay.config.IcecastConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RelayConfigTest {
  @Test
  void defaults() throws Exception {
    RelayConfig c = CommandLine.parse();
    assertEquals("127.0.0.1", c.listen().getHostString());
    assertEquals(8000, c.listen().getPort());
    assertTrue(c.passwordGenerated());
    assertEquals(18, c.sourcePassword().length());
    assertEquals(64 * 1024, c.burstSize());
    assertEquals(512 * 1024, c.queueSize());
    assertEquals(RelayConfig.Engine.AUTO, c.engine());
    assertEquals(RelayConfig.IoUring.AUTO, c.ioUring());
    assertNull(c.recordDir());
    assertTrue(c.relaying().relays().isEmpty());
    assertTrue(c.relaying().master().isEmpty());
    assertTrue(CommandLine.parse("--relay", "http://h:8000/a.mp3").relaying().relays().get(0)
        .relayShoutcastMetadata(), "a --relay mount asks for ICY titles");
    assertFalse(CommandLine.parse("--relay", "http://h:8000/a.mp3", "--relay-metadata", "0").relaying().relays()
        .get(0).relayShoutcastMetadata());
    assertTrue(!CommandLine.parse().sourcePassword().equals(c.sourcePassword()), "random password");
  }

  @Test
  void everyFlag() throws Exception {
    RelayConfig c = CommandLine.parse("--listen", "0.0.0.0:9000", "--source-password", "pw",
        "--max-listeners=50", "--max-listeners-per-ip", "5", "--burst-size", "32k", "--queue-size",
        "1MiB", "--engine", "userspace", "--record-dir", "/tmp/rec", "--relay",
        "http://10.0.0.1:8000/a.mp3", "--memory-cap", "64m", "--header-timeout", "3",
        "--status-interval", "0", "--coalesce-ms", "0", "--io-uring", "off");
    assertEquals(9000, c.listen().getPort());
    assertEquals("pw", c.sourcePassword());
    assertEquals(50, c.maxListeners());
    assertEquals(5, c.maxListenersPerIp());
    assertEquals(32768, c.burstSize());
    assertEquals(1 << 20, c.queueSize());
    assertEquals(RelayConfig.Engine.USERSPACE, c.engine());
    assertEquals(Path.of("/tmp/rec"), c.recordDir());
    assertEquals(new IcecastConfig.RelaySettings("10.0.0.1", 8000, "/a.mp3", "/a.mp3", null, null, true,
        false), c.relaying().relays().get(0), "ICY titles asked for by default");
    assertEquals(64L << 20, c.memoryCap());
    assertEquals(3, c.headerTimeout().toSeconds());
    assertTrue(c.statusInterval().isZero());
    assertEquals(RelayConfig.IoUring.OFF, c.ioUring());
    assertEquals(RelayConfig.IoUring.ON, CommandLine.parse("--io-uring", "on").ioUring());
    assertEquals(RelayConfig.Coalescing.fixed(Duration.ZERO), c.coalesce());
    assertEquals(RelayConfig.Coalescing.AUTO, CommandLine.parse().coalesce(), "default");
    assertEquals(250, CommandLine.parse().maxLatency().toMillis(), "default");
  }

  @Test
  void coalescingIsAutoOrMillisecondsAndAutoStaysUnderHalfTheLatencyCeiling() throws Exception {
    RelayConfig c = CommandLine.parse("--coalesce-ms", "auto", "--max-latency-ms", "1000");
    assertTrue(c.coalesce().auto());
    assertEquals(1000, c.maxLatency().toMillis());
    assertEquals(Duration.ofMillis(500), RelayConfig.Coalescing.most(c.maxLatency()));
    assertEquals(Duration.ofMillis(50), RelayConfig.Coalescing.least(c.maxLatency()));
    assertEquals(Duration.ofMillis(125), RelayConfig.Coalescing.most(Duration.ofMillis(250)));
    // a ceiling below 100 ms: the window is at most half of it, the least too
    assertEquals(Duration.ofMillis(30), RelayConfig.Coalescing.least(Duration.ofMillis(60)));
    assertEquals(Duration.ofMillis(30), RelayConfig.Coalescing.most(Duration.ofMillis(60)));
    assertEquals(Duration.ofSeconds(1), RelayConfig.Coalescing.most(Duration.ofSeconds(10)));
    RelayConfig fixed = CommandLine.parse("--coalesce-ms", "20");
    assertEquals(RelayConfig.Coalescing.fixed(Duration.ofMillis(20)), fixed.coalesce());
    assertEquals("auto", RelayConfig.Coalescing.AUTO.toString());
    assertEquals(c, c.toBuilder().build(), "a copy keeps both");
  }

  @Test
  void badValuesNameTheFlag() {
    String[][] bad = {
      {"--listen", "nohost"}, {"--listen", "h:99999"}, {"--max-listeners", "x"},
      {"--max-listeners", "0"}, {"--burst-size", "12q"}, {"--queue-size", "-1"},
      {"--engine", "warp"}, {"--relay", "ftp://x/y"}, {"--relay", "http://host/"},
      {"--memory-cap", "1k"}, {"--bogus", "1"}, {"--coalesce-ms", "5000"}, {"--io-uring", "maybe"},
      {"--coalesce-ms", "sometimes"}, {"--max-latency-ms", "1"}, {"--max-latency-ms", "x"}, {"--listen"}, {"--burst-size", "1m", "--queue-size", "64k"}
    };
    for (String[] args : bad) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> CommandLine.parse(args), String.join(" ", args));
      assertTrue(e.getMessage().startsWith("--") || e.getMessage().contains("--"), e.getMessage());
    }
  }

  @Test
  void helpIsRequested() {
    assertThrows(CommandLine.HelpRequested.class, () -> CommandLine.parse("--help"));
    assertTrue(CommandLine.HELP.contains("--record-dir") && CommandLine.HELP.contains("ffmpeg"));
  }

  @Test
  void passwordsFromFilesAndTheEnvironment(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Path f = dir.resolve("pw");
    java.nio.file.Files.writeString(f, "from-file\r\nsecond line\n");
    java.util.Map<String, String> env = java.util.Map.of("NOCOPY_SOURCE_PASSWORD", "from-env",
        "NOCOPY_ADMIN_PASSWORD", "admin-env");
    RelayConfig c = CommandLine.parse(env, "--source-password-file", f.toString());
    assertEquals("from-file", c.sourcePassword());
    assertEquals("admin-env", c.adminPassword());
    assertTrue(!c.passwordGenerated() && !c.adminPasswordGenerated());
    RelayConfig e = CommandLine.parse(env);
    assertEquals("from-env", e.sourcePassword());
    assertEquals("flag", CommandLine.parse(env, "--source-password", "flag").sourcePassword());
    RelayConfig a = CommandLine.parse(java.util.Map.of(), "--admin-user", "boss", "--admin-password-file",
        f.toString());
    assertEquals("boss", a.adminUser());
    assertEquals("from-file", a.adminPassword());
    assertTrue(a.passwordGenerated());
    RelayConfig g = CommandLine.parse(java.util.Map.of());
    assertEquals("admin", g.adminUser());
    assertTrue(g.adminPasswordGenerated() && g.adminPassword().length() == 18);
    assertTrue(!g.adminPassword().equals(g.sourcePassword()));
    for (String[] bad : new String[][] {
      {"--source-password", "x", "--source-password-file", f.toString()},
      {"--source-password-file", dir.resolve("missing").toString()},
      {"--admin-password-file", dir.toString()},
      {"--admin-user", "a:b"}}) {
      IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
          () -> CommandLine.parse(java.util.Map.of(), bad), String.join(" ", bad));
      assertTrue(x.getMessage().contains("--"), x.getMessage());
    }
    java.nio.file.Files.writeString(f, "\nx\n");
    assertThrows(IllegalArgumentException.class,
        () -> CommandLine.parse(java.util.Map.of(), "--source-password-file", f.toString()));
  }

  @Test
  void timeoutsAndCaps() throws Exception {
    RelayConfig d = CommandLine.parse();
    assertEquals(15, d.headerTimeout().toSeconds(), "Icecast's header-timeout");
    assertEquals(10, d.sourceTimeout().toSeconds(), "Icecast's source-timeout");
    assertEquals(30, d.clientTimeout().toSeconds(), "Icecast's client-timeout");
    assertEquals(RelayConfig.defaultMaxConnections(RelayConfig.openFileLimit()), d.maxConnections());
    assertEquals(64, d.maxPendingPerIp());
    assertEquals(9968, RelayConfig.defaultMaxConnections(20000));
    assertEquals(16, RelayConfig.defaultMaxConnections(64));
    RelayConfig c = CommandLine.parse("--source-timeout", "3", "--client-timeout", "4",
        "--max-connections", "500", "--max-pending-per-ip", "7");
    assertEquals(3, c.sourceTimeout().toSeconds());
    assertEquals(4, c.clientTimeout().toSeconds());
    assertEquals(500, c.maxConnections());
    assertEquals(7, c.maxPendingPerIp());
    for (String flag : new String[] {"--source-timeout", "--client-timeout", "--header-timeout",
        "--max-connections", "--max-pending-per-ip"}) {
      IllegalArgumentException x =
          assertThrows(IllegalArgumentException.class, () -> CommandLine.parse(flag, "0"), flag);
      assertTrue(x.getMessage().startsWith(flag), x.getMessage());
    }
  }
}
