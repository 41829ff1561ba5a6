package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The shape of {@code /status-json.xsl} (Icecast 2.4.4's keys, order and JSON types, checked with
 * a strict JSON reader), the source headers it is made from, and the codecs read from Ogg pages.
 */
class StatusJsonTest {
  private static final Instant T = Instant.parse("2026-12-02T19:42:18Z");

  private static MountSnapshot mount(String name, SourceInfo info, StreamCodecs codecs, String title) {
    return new MountSnapshot(name, "audio/mpeg", info, codecs, 2, 5, T, 100, 200, "userspace", false, title, 0);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> icestats(List<MountSnapshot> mounts) {
    String json = StatusJson.render(io.nocopy.relay.config.Station.defaults(), "127.0.0.1", "127.0.0.1:8000", Instant.parse("2026-12-02T19:42:10Z"), mounts);
    return (Map<String, Object>) ((Map<String, Object>) Json.parse(json)).get("icestats");
  }

  @Test
  void withoutSourcesIcestatsEndsWithDummyNull() {
    Map<String, Object> s = icestats(List.of());
    assertEquals(List.of("admin", "host", "location", "server_id", "server_start", "server_start_iso8601",
        "dummy"), new ArrayList<>(s.keySet()));
    assertEquals("Wed, 02 Dec 2026 19:42:10 +0000", s.get("server_start"));
    assertEquals("2026-12-02T19:42:10+0000", s.get("server_start_iso8601"));
    assertSame(Json.NULL, s.get("dummy"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void aSourceHasIcecastsKeysInNameOrderWithIcecastsTypes() {
    SourceInfo info = SourceInfo.fromSource(headers(Map.of("ice-name", "Hdr Name", "ice-description", "Hdr \"Desc\"\n",
        "ice-genre", "Jazz", "ice-url", "http://example.org/x", "ice-bitrate", "128", "ice-public", "1",
        "ice-audio-info", "ice-samplerate=44100;ice-bitrate=128;ice-channels=2;listeners=9;ice-x=a%20b")));
    Map<String, Object> s = (Map<String, Object>) icestats(List.of(mount("/hdr.mp3", info, StreamCodecs.NONE,
        "A Song"))).get("source");
    assertEquals(List.of("audio_info", "bitrate", "genre", "ice-bitrate", "ice-channels", "ice-samplerate",
        "ice-x", "listener_peak", "listeners", "listenurl", "nocopy_engine",
        "nocopy_io_uring", "nocopy_listeners_by_transport", "server_description",
        "server_name", "server_type", "server_url", "stream_start", "stream_start_iso8601", "title",
        "total_bytes_read", "total_bytes_sent", "dummy"), new ArrayList<>(s.keySet()));
    assertEquals("ice-samplerate=44100;ice-bitrate=128;ice-channels=2;listeners=9;ice-x=a%20b", s.get("audio_info"));
    assertEquals(new BigDecimal(128), s.get("bitrate"));
    assertEquals(Map.of("splice", BigDecimal.ZERO, "userspace", new BigDecimal(2)), s.get("nocopy_listeners_by_transport"));
    assertEquals("userspace", s.get("nocopy_engine"));
    assertEquals(Boolean.FALSE, s.get("nocopy_io_uring"));
    assertEquals(new BigDecimal(44100), s.get("ice-samplerate"));
    assertEquals("a b", s.get("ice-x"));
    assertEquals(new BigDecimal(2), s.get("listeners"), "a source's audio info cannot set the server's fields");
    assertEquals(new BigDecimal(5), s.get("listener_peak"));
    assertEquals("http://127.0.0.1:8000/hdr.mp3", s.get("listenurl"));
    assertEquals("Hdr \"Desc\"", s.get("server_description"));
    assertEquals("http://example.org/x", s.get("server_url"));
    assertEquals("Wed, 02 Dec 2026 19:42:18 +0000", s.get("stream_start"));
    assertEquals("2026-12-02T19:42:18+0000", s.get("stream_start_iso8601"));
    assertEquals("A Song", s.get("title"));
    assertSame(Json.NULL, s.get("dummy"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void defaultsNoTitleNoBitrateAndSeveralSourcesAreAList() {
    MountSnapshot bare = mount("/a.mp3", SourceInfo.NONE, StreamCodecs.NONE, null);
    MountSnapshot emptyTitle = mount("/b.ogg", SourceInfo.NONE,
        new StreamCodecs("Opus", Map.of()), "");
    Object sources = icestats(List.of(bare, emptyTitle)).get("source");
    List<Object> list = assertInstanceOf(List.class, sources);
    Map<String, Object> a = (Map<String, Object>) list.get(0);
    Map<String, Object> b = (Map<String, Object>) list.get(1);
    for (Map<String, Object> s : List.of(a, b)) {
      assertEquals("various", s.get("genre"));
      assertEquals("Unspecified name", s.get("server_name"));
      assertEquals("Unspecified description", s.get("server_description"));
      for (String absent : List.of("title", "bitrate", "audio_info", "server_url")) {
        assertFalse(s.containsKey(absent), absent + " is absent when the source gave none: " + s);
      }
    }
    assertFalse(a.containsKey("subtype"));
    assertEquals("Opus", b.get("subtype"));
    assertInstanceOf(Map.class, icestats(List.of(bare)).get("source"), "a single source is an object");
  }

  @Test
  void textIsTypedAsIcecastsXsltTypesIt() {
    String[][] cases = {
      {"1234", "1234"}, {"0", "0"}, {"-7", "-7"}, {"12.5", "12.5"}, {"-0.5", "-0.5"},
      {"0128", "\"0128\""}, {"0.5", "\"0.5\""}, {"1e3", "\"1e3\""}, {"1.", "\"1.\""}, {" 5", "\" 5\""},
      {"TRUE", "true"}, {"False", "false"}, {"", "null"}, {"Jazz", "\"Jazz\""}, {"a\u0001\\", "\"a\\u0001\\\\\""},
    };
    for (String[] c : cases) {
      StringBuilder b = new StringBuilder();
      StatusJson.value(b, c[0]);
      assertEquals(c[1], b.toString(), c[0]);
      Json.parse(b.toString()); // always valid JSON
    }
  }

  @Test
  void sourceHeadersFallBackToShoutcastNamesAndAreCleaned() {
    SourceInfo icy = SourceInfo.fromSource(headers(Map.of("icy-name", " Radio\r\nX: y ", "icy-br", "96",
        "icy-url", "http://r/", "icy-pub", "1", "icy-genre", "Pop")));
    assertEquals("Radio  X: y", icy.name());
    assertEquals("96", icy.bitrate());
    assertEquals("1", icy.isPublic());
    SourceInfo both = SourceInfo.fromSource(headers(Map.of("ice-name", "ice", "icy-name", "icy")));
    assertEquals("ice", both.name(), "ice-* wins, as in Icecast");
    SourceInfo fromInfo = SourceInfo.fromSource(headers(Map.of("ice-audio-info", "ice-samplerate=48000;ice-bitrate=64")));
    assertEquals("64", fromInfo.listenerBitrate(), "icy-br from the audio info when there is no bitrate header");
    assertNull(SourceInfo.NONE.listenerBitrate());
    assertEquals("x".repeat(SourceInfo.MAX_VALUE), SourceInfo.fromSource(headers(Map.of("ice-name", "x".repeat(5000)))).name());
  }

  @Test
  void listenersGetTheSourcesHeadersAsIcecastNamesThem() {
    SourceInfo info = SourceInfo.fromSource(headers(Map.of("ice-name", "N", "ice-description", "D", "ice-genre", "G",
        "ice-url", "http://u/", "ice-bitrate", "128", "ice-public", "1",
        "ice-audio-info", "ice-samplerate=44100;ice-bitrate=128")));
    String head = new String(Responses.listenerOk(mount("/m.mp3", info, StreamCodecs.NONE, null)),
        StandardCharsets.UTF_8);
    // as Icecast 2.4.4 answered the same source head (both the audio info's bitrate and ice-bitrate
    // give an icy-br)
    assertTrue(head.endsWith("Pragma: no-cache\r\nicy-br:128\r\nice-audio-info: ice-samplerate=44100;ice-bitrate=128\r\n"
        + "icy-br:128\r\nicy-description:D\r\nicy-genre:G\r\nicy-name:N\r\nicy-pub:1\r\nicy-url:http://u/\r\n\r\n"), head);
  }

  @Test
  void oggCodecsAreReadFromTheBeginningOfStreamPages() {
    byte[] vorbisId = new byte[30];
    System.arraycopy("\u0001vorbis".getBytes(StandardCharsets.ISO_8859_1), 0, vorbisId, 0, 7);
    vorbisId[11] = 2; // channels
    le32(vorbisId, 12, 44100);
    le32(vorbisId, 20, 80000); // nominal bitrate
    byte[] opusHead = "OpusHead\u0001\u0002".getBytes(StandardCharsets.ISO_8859_1);
    byte[] stream = concat(page(0x02, vorbisId), page(0x02, opusHead), page(0x00, new byte[300]));
    for (int len = 0; len < stream.length - 300 - 28; len++) {
      assertNull(StreamCodecs.parse(stream, len), "incomplete at " + len);
    }
    StreamCodecs c = StreamCodecs.parse(stream, stream.length);
    assertEquals("Vorbis/Opus", c.subtype());
    assertEquals(Map.of("audio_bitrate", "80000", "audio_channels", "2", "audio_samplerate", "44100",
        "ice-bitrate", "80"), c.fields());
    assertSame(StreamCodecs.NONE, StreamCodecs.parse(new byte[64], 64), "not Ogg");
    assertTrue(StreamCodecs.isOgg("application/ogg") && StreamCodecs.isOgg("Audio/Ogg; codecs=opus"));
    assertFalse(StreamCodecs.isOgg("audio/mpeg"));
  }

  /** One Ogg page (CRC not filled in: the parser does not check it). */
  static byte[] page(int type, byte[] body) {
    int segments = body.length / 255 + 1;
    byte[] p = new byte[27 + segments + body.length];
    System.arraycopy("OggS".getBytes(StandardCharsets.ISO_8859_1), 0, p, 0, 4);
    p[5] = (byte) type;
    p[26] = (byte) segments;
    for (int i = 0; i < segments; i++) {
      p[27 + i] = (byte) (i < segments - 1 ? 255 : body.length % 255);
    }
    System.arraycopy(body, 0, p, 27 + segments, body.length);
    return p;
  }

  private static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte[] b : parts) {
      out.writeBytes(b);
    }
    return out.toByteArray();
  }

  private static void le32(byte[] b, int at, int v) {
    for (int i = 0; i < 4; i++) {
      b[at + i] = (byte) (v >>> (8 * i));
    }
  }

  /** A source head's header fields, from a map (order does not matter: Icecast keeps them by name). */
  static List<io.nocopy.relay.http.HttpHead.Header> headers(Map<String, String> m) {
    List<io.nocopy.relay.http.HttpHead.Header> out = new java.util.ArrayList<>();
    m.forEach((k, v) -> out.add(new io.nocopy.relay.http.HttpHead.Header(k, v)));
    return out;
  }

  @Test
  void everyIceAndIcyHeaderOfTheSourcePassesAsIcecastPassesIt() {
    // a source head and the listener head Icecast 2.4.4 answered with (captured on this machine)
    SourceInfo info = SourceInfo.fromSource(List.of(
        new io.nocopy.relay.http.HttpHead.Header("Content-Type", "audio/mpeg"),
        new io.nocopy.relay.http.HttpHead.Header("ice-name", "X"),
        new io.nocopy.relay.http.HttpHead.Header("icy-foo", "bar"),
        new io.nocopy.relay.http.HttpHead.Header("Ice-Zzz", "q"),
        new io.nocopy.relay.http.HttpHead.Header("ice-password", "secret"),
        new io.nocopy.relay.http.HttpHead.Header("icy-metaint", "8192")));
    String head = new String(Responses.listenerOk(mount("/m.mp3", info, StreamCodecs.NONE, null)),
        StandardCharsets.UTF_8);
    assertTrue(head.endsWith("Pragma: no-cache\r\nicy-name:X\r\nicy-zzz:q\r\nicy-foo:bar\r\n\r\n"), head);
    // ffmpeg sends Icy-MetaData: 1 and Ice-Public: 0 with its source request: every listener of
    // that mount gets them back, asked or not; a repeated name counts with its last value
    SourceInfo ffmpeg = SourceInfo.fromSource(List.of(
        new io.nocopy.relay.http.HttpHead.Header("Icy-MetaData", "1"),
        new io.nocopy.relay.http.HttpHead.Header("Ice-Public", "0"),
        new io.nocopy.relay.http.HttpHead.Header("ice-name", "N"),
        new io.nocopy.relay.http.HttpHead.Header("ice-name", "M")));
    String second = new String(Responses.listenerOk(mount("/m.mp3", ffmpeg, StreamCodecs.NONE, null)),
        StandardCharsets.UTF_8);
    assertTrue(second.endsWith("Pragma: no-cache\r\nicy-name:M\r\nicy-pub:0\r\nicy-metadata:1\r\n\r\n"), second);
    assertEquals("M", ffmpeg.name());
  }
}
