package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.relay.config.MountSettings;
import io.nocopy.relay.config.MountTable;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Fallback mounts as Icecast has them, checked over HTTP with raw clients: a listener of a mount
 * without a source gets its fallback; a returning source with {@code fallback-override} takes its
 * listeners back; a source that leaves hands its listeners to its fallback; {@code
 * /admin/moveclients} with Icecast's answers; {@code fallback-when-full}; chains; a loop refused.
 * Every move keeps the listener's connection and lands on MP3 frame boundaries: what a listener
 * receives walks as whole frames from its first byte to its last. ICY blocks stay every {@code
 * metaint} bytes across a move. The build runs it on both transports ({@link Clients#ENGINE}).
 */
class FallbackTest {
  /** The frames of the MP3 fixture (its ID3 tag left out): 64 kbit/s, 44.1 kHz. */
  static final byte[] FRAMES = frames();

  private static byte[] frames() {
    try (InputStream in = FallbackTest.class.getResourceAsStream("/formats/mp3.mp3")) {
      byte[] all = in.readAllBytes();
      int at = 0;
      while (!((all[at] & 0xff) == 0xff && (all[at + 1] & 0xe0) == 0xe0)) {
        at++;
      }
      byte[] frames = Arrays.copyOfRange(all, at, all.length);
      return Arrays.copyOf(frames, wholeFrameBytes(frames)); // whole frames only: it is looped

    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A mount's settings with the fallback fields set (everything else unset). */
  static MountSettings mount(String name, String fallback, Boolean override, Boolean whenFull,
      Integer maxListeners) {
    return new MountSettings(name, null, null, maxListeners, null, fallback, override, whenFull,
        null, null, null, null, null, null, null, null, null, null, null, null, null, Map.of());
  }

  static RelayConfig config(MountSettings... mounts) throws Exception {
    RelayConfig.Builder b = Clients.config("--burst-size", "65536").toBuilder();
    b.mounts = new MountTable(MountSettings.none(), List.of(mounts));
    return b.build();
  }

  /**
   * A source sending the fixture's frames over and over, about 200 KB/s, whole frames per write,
   * until closed (an encoder that stops cleanly: its stream ends after a whole frame).
   */
  static final class FrameSource implements AutoCloseable {
    final Clients.Source source;
    final Thread writer;
    volatile boolean stop;

    FrameSource(InetSocketAddress at, String mount) throws IOException {
      source = Clients.source(at, mount, false, false, "audio/mpeg");
      writer = Thread.ofPlatform().daemon().start(() -> {
        try {
          for (int off = 0; !stop; ) {
            int n = 0; // whole frames, about 4 KiB: the stream ends on a frame boundary
            while (n < 4096 && off + n < FRAMES.length) {
              n += frameLength(FRAMES, off + n);
            }
            source.send(FRAMES, off, n);
            off = (off + n) % FRAMES.length;
            Thread.sleep(20);
          }
        } catch (IOException | InterruptedException e) {
          // closed
        }
      });
    }

    /** Ends the source: its stream stops after whole writes, as an encoder's does. */
    @Override
    public void close() throws IOException {
      stop = true;
      try {
        writer.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      source.close();
    }
  }

  /**
   * Walks {@code data} as MPEG-1 Layer III frames from its first byte; returns the number of whole
   * frames, failing at the first byte that is not a frame header where one must start. A partial
   * last frame (the listener was cut off) is allowed.
   */
  static int wholeFrames(byte[] data) {
    int at = 0;
    int n = 0;
    while (at + 4 <= data.length) {
      int len = frameLength(data, at);
      assertTrue(len > 0, "an MPEG-1 Layer III frame header at byte " + at + " after " + n + " frames");
      at += len;
      n++;
    }
    return n;
  }

  /** The bytes of the whole frames at the start of {@code data}. */
  private static int wholeFrameBytes(byte[] data) {
    int at = 0;
    for (int len; at + 4 <= data.length && (len = frameLength(data, at)) > 0 && at + len <= data.length; ) {
      at += len;
    }
    return at;
  }

  /** The length of the MPEG-1 Layer III frame whose header is at {@code at}, or 0 if none is. */
  private static int frameLength(byte[] data, int at) {
    int[] kbps = {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0};
    int[] rates = {44100, 48000, 32000, 0};
    int b1 = data[at + 1] & 0xff;
    int b2 = data[at + 2] & 0xff;
    if ((data[at] & 0xff) != 0xff || (b1 & 0xfe) != 0xfa || kbps[b2 >> 4] == 0 || rates[(b2 >> 2) & 3] == 0) {
      return 0;
    }
    return 144_000 * kbps[b2 >> 4] / rates[(b2 >> 2) & 3] + ((b2 >> 1) & 1);
  }

  /** Body bytes a listener has received so far. */
  static byte[] got(Clients.Listener l) {
    synchronized (l.body) {
      return l.body.toByteArray();
    }
  }

  static void awaitMore(Clients.Listener l, int bytes) throws InterruptedException {
    int from = l.received();
    RelayEndToEndTest.await(() -> l.received() >= from + bytes, bytes + " more bytes");
  }

  @Test
  void aListenerFollowsTheFallbackChainAndTheSourcesWithoutBeingDisconnected() throws Exception {
    try (RelayServer server = RelayServer.start(config(
        mount("/live.mp3", "/fallback.mp3", true, null, null)))) {
      InetSocketAddress at = server.address();
      assertEquals(404, Clients.status(Clients.exchange(at, "GET /live.mp3 HTTP/1.0\r\n\r\n")),
          "no source anywhere: 404");
      try (FrameSource fallback = new FrameSource(at, "/fallback.mp3")) {
        RelayEndToEndTest.await(() -> server.mount("/fallback.mp3") != null, "fallback up");
        try (Clients.Listener l = new Clients.Listener(at, "/live.mp3")) {
          assertTrue(l.head.startsWith("HTTP/1.0 200 OK"), l.head);
          assertTrue(l.head.contains("Content-Type: audio/mpeg"), l.head);
          awaitMore(l, 10_000);
          assertEquals(1, server.mount("/fallback.mp3").listeners());
          // the live source returns: fallback-override brings the listener over
          try (FrameSource live = new FrameSource(at, "/live.mp3")) {
            RelayEndToEndTest.await(() -> server.mount("/live.mp3") != null
                && server.mount("/live.mp3").listeners() == 1, "the listener on the live mount");
            assertEquals(0, server.mount("/fallback.mp3").listeners());
            awaitMore(l, 10_000);
          }
          // the live source leaves: back to the fallback
          RelayEndToEndTest.await(() -> server.mount("/live.mp3") == null
              && server.mount("/fallback.mp3").listeners() == 1, "the listener back on the fallback");
          awaitMore(l, 10_000);
          assertTrue(l.socket.isConnected() && l.failure == null);
          int frames = wholeFrames(got(l));
          assertTrue(frames > 100, frames + " frames");
        }
      }
    }
  }

  @Test
  void moveclientsMovesEveryListenerAndAnswersAsIcecast() throws Exception {
    try (RelayServer server = RelayServer.start(config());
        FrameSource a = new FrameSource(server.address(), "/a.mp3");
        FrameSource b = new FrameSource(server.address(), "/b.mp3")) {
      InetSocketAddress at = server.address();
      RelayEndToEndTest.await(() -> server.mount("/a.mp3") != null && server.mount("/b.mp3") != null,
          "both mounts up");
      try (Clients.Listener l1 = new Clients.Listener(at, "/a.mp3");
          Clients.Listener l2 = new Clients.Listener(at, "/a.mp3")) {
        awaitMore(l1, 5000);
        awaitMore(l2, 5000);
        String ok = admin(at, "/admin/moveclients?mount=/a.mp3&destination=/b.mp3");
        assertEquals(expected("moveclients-ok.txt").replace("/fallback.mp3", "/a.mp3"), normalized(ok));
        RelayEndToEndTest.await(() -> server.mount("/b.mp3").listeners() == 2, "both moved");
        assertEquals(0, server.mount("/a.mp3").listeners());
        awaitMore(l1, 10_000);
        awaitMore(l2, 10_000);
        assertTrue(wholeFrames(got(l1)) > 20);
        assertTrue(wholeFrames(got(l2)) > 20);
        String list = admin(at, "/admin/moveclients?mount=/b.mp3");
        assertTrue(list.contains("<icestats><current_source>/b.mp3</current_source><source mount=\"/a.mp3\">"
            + "<fallback></fallback><listeners>0</listeners><Connected>"), list);
      }
      for (String[] c : new String[][] {
          {"/admin/moveclients", "moveclients-no-mount.txt"},
          {"/admin/moveclients?mount=/none.mp3&destination=/b.mp3", "moveclients-no-source.txt"},
          {"/admin/moveclients?mount=/a.mp3&destination=/none.mp3", "moveclients-no-destination.txt"},
          {"/admin/moveclients?mount=/a.mp3&destination=/a.mp3", "moveclients-identical.txt"}}) {
        assertEquals(expected(c[1]), normalized(admin(at, c[0])), c[0]);
      }
    }
  }

  @Test
  void aFullMountWithFallbackWhenFullSendsItsNextListenerToTheFallback() throws Exception {
    try (RelayServer server = RelayServer.start(config(
        mount("/full.mp3", "/chain.mp3", null, true, 1),
        mount("/chain.mp3", "/fallback.mp3", null, null, null)));
        FrameSource full = new FrameSource(server.address(), "/full.mp3");
        FrameSource fallback = new FrameSource(server.address(), "/fallback.mp3")) {
      InetSocketAddress at = server.address();
      RelayEndToEndTest.await(() -> server.mount("/full.mp3") != null
          && server.mount("/fallback.mp3") != null, "mounts up");
      try (Clients.Listener first = new Clients.Listener(at, "/full.mp3")) {
        awaitMore(first, 2000);
        try (Clients.Listener second = new Clients.Listener(at, "/full.mp3")) {
          awaitMore(second, 2000);
          assertEquals(1, server.mount("/full.mp3").listeners());
          assertEquals(1, server.mount("/fallback.mp3").listeners(),
              "through /chain.mp3, which has no source");
        }
      }
    }
  }

  @Test
  void icyBlocksStayEveryMetaintBytesAcrossAMove() throws Exception {
    try (RelayServer server = RelayServer.start(config(
        mount("/live.mp3", "/fallback.mp3", null, null, null)));
        FrameSource fallback = new FrameSource(server.address(), "/fallback.mp3")) {
      InetSocketAddress at = server.address();
      FrameSource live = new FrameSource(at, "/live.mp3");
      RelayEndToEndTest.await(() -> server.mount("/live.mp3") != null
          && server.mount("/fallback.mp3") != null, "mounts up");
      try (IcyAndBurstTest.IcyListener icy = new IcyAndBurstTest.IcyListener(at, "/live.mp3")) {
        int metaint = Integer.parseInt(icy.head.replaceAll("(?s).*icy-metaint:(\\d+).*", "$1"));
        ByteArrayOutputStream audio = new ByteArrayOutputStream();
        icy.next(metaint, audio);
        live.close(); // the listener moves to the fallback, somewhere inside a metaint
        RelayEndToEndTest.await(() -> server.mount("/fallback.mp3").listeners() == 1, "moved");
        for (int i = 0; i < 6; i++) {
          icy.next(metaint, audio); // a block after each metaint bytes, or the parse fails
        }
        assertTrue(wholeFrames(audio.toByteArray()) > 10);
      }
    }
  }

  @Test
  void aLoopOfFallbacksIsRefusedAtStart() {
    IOException e = assertThrows(IOException.class, () -> RelayServer.start(config(
        mount("/a.mp3", "/b.mp3", null, null, null),
        mount("/b.mp3", "/c.mp3", null, null, null),
        mount("/c.mp3", "/a.mp3", null, null, null))));
    assertEquals("the fallback mounts loop: /a.mp3 -> /b.mp3 -> /c.mp3 -> /a.mp3", e.getMessage());
    assertEquals(List.of("/x.mp3", "/x.mp3"), new MountTable(MountSettings.none(),
        List.of(mount("/x.mp3", "/x.mp3", null, null, null))).fallbackLoop());
    assertEquals(List.of(), new MountTable(mount(null, "/all.mp3", null, null, null),
        List.of(mount("/x.mp3", null, null, null, null))).fallbackLoop(),
        "the defaults' fallback is no loop for the fallback mount itself");
  }

  static String admin(InetSocketAddress at, String target) throws IOException {
    return Clients.exchange(at, "GET " + target + " HTTP/1.0\r\n" + Clients.adminAuth() + "\r\n");
  }

  /** Icecast's captured answer (relay/src/test/resources/icecast/fallback), normalized. */
  static String expected(String name) throws IOException {
    try (InputStream in = FallbackTest.class.getResourceAsStream("/icecast/fallback/" + name)) {
      assertNotNull(in, name);
      return normalized(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
    }
  }

  /** The status line, the Content-Type and the body: what scripts read (dates and servers differ). */
  static String normalized(String response) {
    int end = response.indexOf("\r\n\r\n");
    String head = response.substring(0, end);
    String type = head.lines().filter(h -> h.regionMatches(true, 0, "Content-Type:", 0, 13))
        .findFirst().orElse("").toLowerCase(java.util.Locale.ROOT);
    return head.lines().findFirst().orElse("") + "\n" + type + "\n" + response.substring(end + 4).strip();
  }
}
