package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real players joining a live stream late: ffmpeg publishes Ogg/Opus, Ogg/Vorbis or MP3 at its
 * real rate, and {@link #lateSeconds} later ffprobe must detect the codec and {@code ffmpeg -i URL
 * -f null -} must decode without an error; a raw listener checks the first bytes (an Ogg page, an
 * MPEG frame sync). The Ogg stream's comment header sets the mount's title. The build runs it on
 * both transports; {@link LateListenerIntegrationTest} joins 15 s late with the default burst.
 */
class LateListenerTest {

  /** Seconds between the publisher's start and the listeners'. */
  int lateSeconds() {
    return 3;
  }

  /** The relay's burst. */
  long burstBytes() {
    return 16384;
  }

  /** The relay's flags beyond the test defaults: a small burst, so 3 s is past the stream's first page. */
  String[] relayFlags() {
    return new String[] {"--burst-size", "16384"};
  }

  @Test
  void oggOpus(@TempDir Path dir) throws Exception {
    check(dir, "libopus", "ogg", "audio/ogg", "opus");
  }

  @Test
  void oggVorbis(@TempDir Path dir) throws Exception {
    check(dir, "libvorbis", "ogg", "audio/ogg", "vorbis");
  }

  @Test
  void mp3(@TempDir Path dir) throws Exception {
    check(dir, "libmp3lame", "mp3", "audio/mpeg", "mp3");
  }

  private void check(Path dir, String encoder, String muxer, String type, String codec) throws Exception {
    Tools.require("ffmpeg", "ffprobe");
    Path file = dir.resolve("tone." + muxer);
    run(List.of("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
        "anoisesrc=c=pink:a=0.3:d=" + (lateSeconds() + 12), "-c:a", encoder, "-b:a", "128k",
        "-metadata", "artist=Tone Maker", "-metadata", "title=A 440", "-y", file.toString()), 120);
    try (RelayServer server = RelayServer.start(Clients.config(relayFlags()))) {
      int port = server.address().getPort();
      String mount = "/late." + muxer;
      String url = "http://127.0.0.1:" + port + mount;
      Process publisher = new ProcessBuilder("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i",
          file.toString(), "-c", "copy", "-content_type", type, "-f", muxer,
          "icecast://source:" + Clients.PASSWORD + "@127.0.0.1:" + port + mount)
          .redirectErrorStream(true).start();
      try {
        RelayEndToEndTest.await(() -> server.mount(mount) != null, "ffmpeg publishing");
        Thread.sleep(lateSeconds() * 1000L);
        // late enough that the burst no longer holds the stream's first bytes (ffmpeg's Ogg
        // muxer sends its first pages after a second or so)
        RelayEndToEndTest.await(() -> server.mount(mount).bytesIn() > burstBytes() * 3 / 2,
            "the stream is past its burst");
        Process probe = new ProcessBuilder("ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
            "-of", "default=nw=1:nk=1", url).redirectErrorStream(true).start();
        Process decode = new ProcessBuilder("ffmpeg", "-hide_banner", "-v", "error", "-i", url, "-t", "3",
            "-f", "null", "-").redirectErrorStream(true).start();
        byte[] first = firstBytes(port, mount, 4);
        assertTrue(probe.waitFor(30, TimeUnit.SECONDS), "ffprobe finished");
        String probed = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(codec, probed, "ffprobe's codec");
        assertTrue(decode.waitFor(30, TimeUnit.SECONDS), "ffmpeg decoded 3 s");
        String errors = new String(decode.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals("", errors, "ffmpeg's decoding errors");
        assertEquals(0, decode.exitValue());
        if (muxer.equals("ogg")) {
          assertEquals("OggS", new String(first, StandardCharsets.US_ASCII), "a listener starts on a page");
          assertEquals("A 440", server.mount(mount).title, "the Ogg comments' TITLE, as Icecast shows it");
        } else {
          assertTrue((first[0] & 0xff) == 0xff && (first[1] & 0xe0) == 0xe0, "a listener starts on a frame sync");
        }
      } finally {
        publisher.destroy();
        publisher.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** A raw listener's first {@code n} stream bytes. */
  private static byte[] firstBytes(int port, String mount, int n) throws IOException {
    try (Socket s = Clients.get(new java.net.InetSocketAddress("127.0.0.1", port), mount, "")) {
      InputStream in = s.getInputStream();
      Clients.readHead(in);
      return in.readNBytes(n);
    }
  }

  private static void run(List<String> cmd, int seconds) throws Exception {
    Process p = new ProcessBuilder(new ArrayList<>(cmd)).inheritIO().start();
    assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), String.join(" ", cmd));
    assertEquals(0, p.exitValue(), String.join(" ", cmd));
  }
}
