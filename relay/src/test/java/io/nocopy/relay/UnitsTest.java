package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ProtocolException;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The relay's small pieces: mount names, auth, chunk sizes, JSON, response heads. */
class UnitsTest {
  @Test
  void mountNames() {
    assertEquals("/live.mp3", MountName.validate("/live.mp3"));
    assertEquals("/a/b-c_d.ogg", MountName.validate("/a/b-c_d.ogg"));
    for (String bad : new String[] {null, "", "/", "live", "/../x", "/a/./b", "/a//b", "/a/", "/%41",
        "/a b", "/" + "x".repeat(200), "/.x", "/a/..", "/é"}) {
      assertThrows(IllegalArgumentException.class, () -> MountName.validate(bad), String.valueOf(bad));
    }
    assertEquals("a_b", MountName.fileStem("/a/b.mp3"));
    assertEquals("mp3", MountName.extension("/a/b.mp3", "audio/ogg"));
    assertEquals("ogg", MountName.extension("/stream", "audio/ogg; codecs=vorbis"));
    assertEquals("bin", MountName.extension("/stream", null));
  }

  @Test
  void basicAuth() {
    BasicAuth a = new BasicAuth("source", "s3cret");
    assertTrue(a.accepts(Clients.basic("s3cret")));
    assertTrue(a.accepts("basic " + Clients.basic("s3cret").substring(6)));
    assertFalse(a.accepts(Clients.basic("s3cret2")));
    assertFalse(a.accepts(Clients.basic("")));
    assertFalse(a.accepts(null));
    assertFalse(a.accepts("Basic %%%"));
    assertFalse(a.accepts("Basic " + java.util.Base64.getEncoder().encodeToString("admin:s3cret".getBytes())));
  }

  @Test
  void chunkSizes() throws Exception {
    assertEquals(0, SourceBody.parseChunkSize("0"));
    assertEquals(255, SourceBody.parseChunkSize("ff"));
    assertEquals(0x1A2B, SourceBody.parseChunkSize("1A2B;name=value"));
    for (String bad : new String[] {"", "g", "-1", "12 34", "1234567890abcdef0", ";x"}) {
      assertThrows(ProtocolException.class, () -> SourceBody.parseChunkSize(bad), bad);
    }
  }

  @Test
  void statusLineShowsRatesCpuAllocationAndGc() {
    ProcessStats.Reading a = new ProcessStats.Reading(1_000_000_000L, 10_000_000L, 3, 20, 1 << 20);
    ProcessStats.Reading b = new ProcessStats.Reading(1_500_000_000L, 12_000_000L, 4, 25, 1 << 20);
    String line = StatusLine.render(2, 30, 250_000, 2_500_000, a, b, 1.0);
    assertEquals("mounts 2 | listeners 30 | in 2.0 Mbit/s | out 20.0 Mbit/s | cpu 50% | alloc 2.00 MB/s"
        + " | gc 4", line);
    ProcessStats.Reading now = ProcessStats.read();
    assertTrue(now.cpuNanos() > 0 && now.gcCount() >= 0 && now.rssBytes() > 0, now.toString());
  }

  @Test
  void listenerHeadsCannotBeInjectedIntoBySources() {
    MountSnapshot m = new MountSnapshot("/a", "audio/mpeg\r\nSet-Cookie: x",
        SourceInfo.fromSource(StatusJsonTest.headers(java.util.Map.of("ice-name", "n\r\nX: y",
            "ice-url", "u\r\nY: z", "ice-bitrate", "1\r\nZ: w"))), StreamCodecs.NONE, 0, 0,
        Instant.now(), 0, 0, "userspace", false, null, 0);
    String head = new String(Responses.listenerOk(m), java.nio.charset.StandardCharsets.UTF_8);
    assertFalse(head.contains("\r\nSet-Cookie"), head);
    assertFalse(head.contains("\r\nX: y"), head);
    assertFalse(head.contains("\r\nY: z"), head);
    assertFalse(head.contains("\r\nZ: w"), head);
    assertTrue(head.startsWith("HTTP/1.0 200 OK\r\n") && head.endsWith("icy-url:u  Y: z\r\n\r\n"), head);
  }

  @Test
  void icyHeadersAsIcecastWritesThem() {
    MountSnapshot m = new MountSnapshot("/a", "audio/mpeg", SourceInfo.NONE, StreamCodecs.NONE, 0, 0,
        Instant.now(), 0, 0, "userspace", false, null, 0);
    String mp3 = new String(Responses.listenerOk(m, 16000, null, java.util.Map.of()),
        java.nio.charset.StandardCharsets.UTF_8);
    // a source that sent no ice-/icy- headers: Icecast adds none (no icy-pub, no icy-metadata)
    assertTrue(mp3.endsWith("Pragma: no-cache\r\nicy-metaint:16000\r\n\r\n"), mp3);
    assertTrue(ListenerConnection.wantsIcy(" 1") && !ListenerConnection.wantsIcy("0")
        && !ListenerConnection.wantsIcy("yes") && !ListenerConnection.wantsIcy(null));
  }

  @Test
  void datesHaveIcecastsTwoDigitDay() {
    java.time.ZonedDateTime t = java.time.ZonedDateTime.of(2026, 12, 2, 7, 5, 9, 0, java.time.ZoneOffset.UTC);
    assertEquals("Wed, 02 Dec 2026 07:05:09 GMT", Responses.httpDate(t));
    assertEquals("Wed, 02 Dec 2026 07:05:09 GMT",
        Responses.httpDate(t.withZoneSameInstant(java.time.ZoneId.of("Europe/Berlin"))));
    assertTrue(Responses.httpDate().matches("[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT"));
  }
}
