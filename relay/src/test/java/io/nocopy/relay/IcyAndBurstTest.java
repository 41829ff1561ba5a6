package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.relay.format.IcyMetadata;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * ICY metadata as Icecast writes it (blocks at the exact offsets, the title set by {@code
 * /admin/metadata} from the stream position where it was set, a cascaded mount re-announcing its
 * upstream's titles) and the full burst for a slow stream of small chunks. The build runs it on
 * both transports ({@link Clients#ENGINE}).
 */
class IcyAndBurstTest {

  /** A listener with {@code Icy-MetaData: 1}: its head, then the audio and blocks it read. */
  static final class IcyListener implements AutoCloseable {
    final Socket socket;
    final String head;
    final DataInputStream in;
    final List<byte[]> texts = new ArrayList<>(); // every non-empty block's text, as sent

    IcyListener(InetSocketAddress at, String mount) throws IOException {
      socket = Clients.get(at, mount, "Icy-MetaData: 1\r\n");
      InputStream raw = socket.getInputStream();
      head = Clients.readHead(raw);
      in = new DataInputStream(raw);
    }

    /** Reads {@code n} audio bytes into {@code audio}, then one block; returns the block's title or "" for a 0 byte. */
    String next(int n, ByteArrayOutputStream audio) throws IOException {
      byte[] a = new byte[n];
      in.readFully(a);
      audio.writeBytes(a);
      int len = in.readUnsignedByte() * 16;
      if (len == 0) {
        return "";
      }
      byte[] text = new byte[len];
      in.readFully(text);
      texts.add(text);
      assertTrue(new String(text, StandardCharsets.UTF_8).startsWith("StreamTitle='"),
          "a block starts with StreamTitle");
      return IcyMetadata.parse(text).get("StreamTitle") + "|";
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  static String updinfo(InetSocketAddress at, String query) throws IOException {
    return Clients.exchange(at, "GET /admin/metadata?mode=updinfo&" + query + " HTTP/1.0\r\n"
        + "Authorization: " + Clients.basic(Clients.PASSWORD) + "\r\n\r\n");
  }

  @Test
  void icyBlocksComeAtTheExactOffsetsWithTheTitleFromWhereItWasSet() throws Exception {
    byte[] data = new byte[80_000];
    new Random(7).nextBytes(data);
    try (RelayServer server = RelayServer.start(Clients.config("--burst-size", "0"));
        Clients.Source src = Clients.source(server.address(), "/icy", false, false,
            "application/octet-stream")) {
      InetSocketAddress at = server.address();
      RelayEndToEndTest.await(() -> server.mount("/icy") != null, "mount up");
      try (IcyListener icy = new IcyListener(at, "/icy");
          Clients.Listener plain = new Clients.Listener(at, "/icy")) {
        assertTrue(icy.head.contains("\r\nicy-metaint:16000\r\n"), icy.head);
        // icy-metadata:1 only passes on from a source that sent it, as in Icecast
        assertTrue(!icy.head.contains("icy-metadata"), icy.head);
        assertTrue(!plain.head.contains("icy-metaint"), plain.head);
        RelayEndToEndTest.await(() -> server.mount("/icy").listeners() == 2, "both listening");
        src.send(data, 0, 40_000);
        RelayEndToEndTest.await(() -> server.mount("/icy").bytesIn() == 40_000, "first half in");
        String answer = updinfo(at, "mount=/icy&artist=The+Band&title=Caf%E9");
        assertEquals(200, Clients.status(answer), answer);
        assertTrue(answer.endsWith("<iceresponse><message>Metadata update successful</message>"
            + "<return>1</return></iceresponse>\n"), answer);
        assertEquals("The Band - Caf\u00e9", server.mount("/icy").title);
        src.send(data, 40_000, 40_000);
        src.finish();
        ByteArrayOutputStream audio = new ByteArrayOutputStream();
        List<String> blocks = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          blocks.add(icy.next(16_000, audio));
        }
        // the first block is the current (empty) title; the change lands in the first block at
        // or after position 40000, in ISO-8859-1 as Icecast reads an update without a charset
        assertEquals(List.of("|", "", "The Band - Caf\u00e9|", "", ""), blocks);
        byte[] latin1 = "StreamTitle='The Band - Caf\u00e9';".getBytes(StandardCharsets.ISO_8859_1);
        assertArrayEquals(latin1, Arrays.copyOf(icy.texts.get(1), latin1.length), "Icecast's bytes");
        assertEquals(32, icy.texts.get(1).length, "NUL-padded to 16-byte units");
        assertArrayEquals(data, audio.toByteArray());
        assertEquals(-1, icy.in.read(), "the stream ends after the last audio byte");
        assertArrayEquals(data, plain.awaitEnd());
      }
    }
  }

  @Test
  void aCascadedMountReannouncesItsUpstreamsTitles() throws Exception {
    byte[] data = new byte[120_000];
    new Random(8).nextBytes(data);
    try (RelayServer up = RelayServer.start(Clients.config("--burst-size", "0"));
        Clients.Source src = Clients.source(up.address(), "/c.mp3", false, false,
            "application/octet-stream")) {
      RelayEndToEndTest.await(() -> up.mount("/c.mp3") != null, "upstream mount");
      assertEquals(200, Clients.status(updinfo(up.address(), "mount=/c.mp3&song=Upstream+Song")));
      try (RelayServer down = RelayServer.start(Clients.config("--burst-size", "0", "--icy-metaint",
          "5000", "--relay-metadata", "1", "--relay", "http://127.0.0.1:" + up.address().getPort() + "/c.mp3"))) {
        RelayEndToEndTest.await(() -> down.mount("/c.mp3") != null, "cascade connected");
        try (IcyListener icy = new IcyListener(down.address(), "/c.mp3")) {
          assertTrue(icy.head.contains("icy-metaint:5000\r\n"), icy.head);
          RelayEndToEndTest.await(() -> down.mount("/c.mp3").listeners() == 1, "listening");
          src.send(data, 0, data.length);
          src.finish();
          ByteArrayOutputStream audio = new ByteArrayOutputStream();
          List<String> titles = new ArrayList<>();
          for (int i = 0; i < data.length / 5000; i++) {
            titles.add(icy.next(5000, audio));
          }
          // the upstream's blocks are gone from the audio, its title is in this relay's blocks
          assertArrayEquals(data, audio.toByteArray());
          // the upstream announced it in its first block, after 16000 bytes: from there on here
          List<String> expected = new ArrayList<>();
          for (int i = 1; i <= titles.size(); i++) {
            expected.add(i == 1 ? "|" : i * 5000 == 20_000 ? "Upstream Song|" : "");
          }
          assertEquals(expected, titles);
          assertEquals("Upstream Song", down.mount("/c.mp3").title);
        }
      }
    }
  }

  @Test
  void aLateListenerOfASlowStreamGetsTheWholeBurstAtOnce() throws Exception {
    // 128 kbit/s as an encoder sends it: small writes, here 500 bytes every 2 ms, no coalescing
    byte[] data = new byte[150_000];
    new Random(9).nextBytes(data);
    try (RelayServer server = RelayServer.start(Clients.config("--coalesce-ms", "0"));
        Clients.Source src = Clients.source(server.address(), "/slow", false, false,
            "application/octet-stream")) {
      RelayEndToEndTest.await(() -> server.mount("/slow") != null, "mount up");
      for (int off = 0; off < data.length; off += 500) {
        src.send(data, off, 500);
        Thread.sleep(2);
      }
      int sent = data.length;
      RelayEndToEndTest.await(() -> server.mount("/slow").bytesIn() == sent, "all in");
      try (Clients.Listener l = new Clients.Listener(server.address(), "/slow")) {
        long t0 = System.nanoTime();
        RelayEndToEndTest.await(() -> l.received() >= 64 * 1024, "the burst");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 2000, "the whole burst at once, took " + ms + " ms");
        src.finish();
        byte[] got = l.awaitEnd();
        assertArrayEquals(Arrays.copyOfRange(data, data.length - 64 * 1024, data.length), got,
            "exactly the last 64 KiB");
      }
    }
  }
}
