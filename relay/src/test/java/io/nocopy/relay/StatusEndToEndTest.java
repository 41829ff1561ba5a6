package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A source's {@code ice-*} headers reach listeners and the status page, and an Ogg stream's codec
 * shows as its {@code subtype}, end to end (both transports: the build runs it again with the
 * userspace engine).
 */
class StatusEndToEndTest {
  @BeforeAll
  static void warmUp() throws Exception {
    Warmup.once();
  }

  /** Publishes with {@code PUT} and the given extra header lines; returns the socket after 200 OK. */
  static Socket publish(InetSocketAddress at, String mount, String type, String headers) throws IOException {
    Socket s = new Socket(at.getAddress(), at.getPort());
    s.setSoTimeout(20_000);
    s.getOutputStream().write(("PUT " + mount + " HTTP/1.1\r\nHost: x\r\nAuthorization: "
        + Clients.basic(Clients.PASSWORD) + "\r\nContent-Type: " + type + "\r\n" + headers + "\r\n")
        .getBytes(StandardCharsets.UTF_8));
    InputStream in = s.getInputStream();
    String head = Clients.readHead(in);
    if (!head.startsWith("HTTP/1.0 200 OK")) {
      s.close();
      throw new IOException("source refused: " + head);
    }
    return s;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> icestats(InetSocketAddress at) throws IOException {
    String r = Clients.exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n");
    return (Map<String, Object>) ((Map<String, Object>) Json.parse(r.substring(r.indexOf("\r\n\r\n") + 4)))
        .get("icestats");
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> source(InetSocketAddress at, String mount) throws IOException {
    Object s = icestats(at).get("source");
    for (Object o : s instanceof List<?> l ? l : List.of(s)) {
      Map<String, Object> m = (Map<String, Object>) o;
      if (((String) m.get("listenurl")).endsWith(mount)) {
        return m;
      }
    }
    throw new AssertionError("no " + mount + " in the status");
  }

  @Test
  void sourceHeadersReachListenersAndTheStatusAndOggShowsItsCodec() throws Exception {
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      assertSame(Json.NULL, icestats(at).get("dummy"), "no source: dummy null");
      assertFalse(icestats(at).containsKey("source"));
      byte[] vorbisId = new byte[30];
      System.arraycopy("\u0001vorbis".getBytes(StandardCharsets.ISO_8859_1), 0, vorbisId, 0, 7);
      vorbisId[11] = 1;
      vorbisId[12] = 0x44;
      vorbisId[13] = (byte) 0xac; // 44100
      vorbisId[21] = (byte) 0xfa; // 64000
      try (Socket mp3 = publish(at, "/hdr.mp3", "audio/mpeg", "ice-name: Hdr Name\r\nice-description: Hdr Desc\r\n"
              + "ice-genre: Jazz\r\nice-url: http://example.org/x\r\nice-public: 1\r\nice-bitrate: 128\r\n"
              + "ice-audio-info: ice-samplerate=44100;ice-bitrate=128;ice-channels=2\r\n");
          Socket ogg = publish(at, "/live.ogg", "application/ogg", "")) { // raw: the kernel transport
        byte[] pages = java.nio.ByteBuffer.allocate(4096).put(StatusJsonTest.page(0x02, vorbisId))
            .put(StatusJsonTest.page(0x00, new byte[1000])).flip().array();
        int len = StatusJsonTest.page(0x02, vorbisId).length + StatusJsonTest.page(0x00, new byte[1000]).length;
        ogg.getOutputStream().write(pages, 0, len);
        mp3.getOutputStream().write(new byte[4096]);
        try (Clients.Listener l = new Clients.Listener(at, "/hdr.mp3")) {
          for (String h : List.of("icy-br:128", "ice-audio-info: ice-samplerate=44100;ice-bitrate=128;ice-channels=2",
              "icy-description:Hdr Desc", "icy-genre:Jazz", "icy-name:Hdr Name", "icy-pub:1",
              "icy-url:http://example.org/x")) {
            assertTrue(l.head.contains("\r\n" + h + "\r\n"), h + " in\n" + l.head);
          }
        }
        Map<String, Object> s = source(at, "/hdr.mp3");
        assertEquals(new BigDecimal(128), s.get("bitrate"));
        assertEquals("ice-samplerate=44100;ice-bitrate=128;ice-channels=2", s.get("audio_info"));
        assertEquals(new BigDecimal(2), s.get("ice-channels"));
        assertEquals("http://example.org/x", s.get("server_url"));
        assertEquals("Hdr Name", s.get("server_name"));
        assertTrue(((String) s.get("stream_start")).matches("\\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000"));
        assertFalse(s.containsKey("title"), "no title until one is set");
        assertFalse(s.containsKey("subtype"), "no subtype for MP3");
        String upd = Clients.exchange(at, "GET /admin/metadata?mode=updinfo&mount=/hdr.mp3&song=A+Song"
            + " HTTP/1.0\r\nAuthorization: " + Clients.basic(Clients.PASSWORD) + "\r\n\r\n");
        assertEquals(200, Clients.status(upd), upd);
        assertEquals("A Song", source(at, "/hdr.mp3").get("title"));
        RelayEndToEndTest.await(() -> {
          try {
            return "Vorbis".equals(source(at, "/live.ogg").get("subtype"));
          } catch (IOException e) {
            return false;
          }
        }, "the Ogg codec in the status");
        Map<String, Object> o = source(at, "/live.ogg");
        assertEquals(new BigDecimal(44100), o.get("audio_samplerate"));
        assertEquals(new BigDecimal(64000), o.get("audio_bitrate"));
        assertEquals(new BigDecimal(1), o.get("audio_channels"));
        assertEquals(new BigDecimal(64), o.get("ice-bitrate"));
        assertEquals("various", o.get("genre"));
        assertEquals(new BigDecimal(0), o.get("listeners"), "the codec probe is not a listener");
        mp3.shutdownOutput();
        ogg.shutdownOutput();
        RelayEndToEndTest.await(() -> server.mounts().isEmpty(), "sources gone");
      }
      RelayEndToEndTest.assertClean(server);
      assertSame(Json.NULL, icestats(at).get("dummy"));
    }
  }
}
