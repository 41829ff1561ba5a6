package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Publishing with the real clients users have: ffmpeg's icecast protocol and ezstream (libshout).
 * Run with {@code mvn -Pintegration -pl core,relay verify} (or {@code NOCOPY_INTEGRATION=1 .ci/run});
 * a test whose tool is missing is skipped and says so.
 */
@Tag("integration")
class RealClientsIntegrationTest {
  private static final String PW = "it-password";

  private static Path tone(Path dir) throws Exception {
    Path mp3 = dir.resolve("tone.mp3");
    Process p = new ProcessBuilder("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
        "sine=frequency=440:duration=6", "-c:a", "libmp3lame", "-b:a", "128k", "-y", mp3.toString())
        .inheritIO().start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue());
    return mp3;
  }

  private static RelayServer relay() throws Exception {
    return RelayServer.start(CommandLine.parse("--listen", "127.0.0.1:0", "--source-password", PW,
        "--status-interval", "0", "--engine", Clients.ENGINE));
  }

  @Test
  void ffmpegPublishesAndAListenerReceivesTheMp3(@TempDir Path dir) throws Exception {
    Tools.require("ffmpeg");
    Path mp3 = tone(dir);
    try (RelayServer server = relay()) {
      InetSocketAddress at = server.address();
      Process ff = new ProcessBuilder("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i",
          mp3.toString(), "-c", "copy", "-content_type", "audio/mpeg", "-f", "mp3",
          "icecast://source:" + PW + "@127.0.0.1:" + at.getPort() + "/ff.mp3").inheritIO().start();
      RelayEndToEndTest.await(() -> !server.mounts().isEmpty(), "ffmpeg connected");
      try (Clients.Listener l = new Clients.Listener(at, "/ff.mp3")) {
        assertTrue(l.head.contains("Content-Type: audio/mpeg"), l.head);
        assertTrue(ff.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, ff.exitValue(), "ffmpeg's exit status");
        byte[] got = l.awaitEnd();
        assertTrue(got.length > 40_000, "a few seconds of 128 kbit/s audio: " + got.length);
        // MPEG audio frame sync in what we received
        boolean sync = false;
        for (int i = 0; i + 1 < got.length && !sync; i++) {
          sync = (got[i] & 0xff) == 0xff && (got[i + 1] & 0xe0) == 0xe0;
        }
        assertTrue(sync, "an MP3 frame header");
      }
    }
  }

  @Test
  void ffmpegListensAsAPlayerDoes(@TempDir Path dir) throws Exception {
    Tools.require("ffmpeg");
    Path mp3 = tone(dir);
    byte[] data = Files.readAllBytes(mp3);
    try (RelayServer server = RelayServer.start(Clients.config())) {
      InetSocketAddress at = server.address();
      try (Clients.Source src = Clients.source(at, "/play.mp3", false, false)) {
        Path out = dir.resolve("heard.wav");
        // what ffplay/mpv do: open the URL with ffmpeg's http demuxer and decode the stream
        Process player = new ProcessBuilder("ffmpeg", "-hide_banner", "-loglevel", "error", "-i",
            "http://127.0.0.1:" + at.getPort() + "/play.mp3", "-y", out.toString()).inheritIO().start();
        RelayEndToEndTest.await(() -> server.mounts().get(0).listeners() == 1, "player connected");
        RelayEndToEndTest.sendPaced(src, data, 1, 256 * 1024);
        src.finish();
        assertTrue(player.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, player.exitValue(), "the player decoded the stream");
        assertTrue(Files.size(out) > 500_000, "seconds of decoded audio: " + Files.size(out));
      }
    }
  }

  @Test
  void ezstreamPublishes(@TempDir Path dir) throws Exception {
    Tools.require("ffmpeg", "ezstream");
    Path mp3 = tone(dir);
    try (RelayServer server = relay()) {
      Process ez = ezstream(dir, server, mp3);
      try {
        RelayEndToEndTest.await(() -> !server.mounts().isEmpty(), "ezstream connected");
        try (Clients.Listener l = new Clients.Listener(server.address(), "/ez.mp3")) {
          RelayEndToEndTest.await(() -> l.received() > 16_000, "audio flows");
        }
      } finally {
        ez.destroy();
        ez.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void ezstreamsTitleReachesCurlAsIcyMetadata(@TempDir Path dir) throws Exception {
    Tools.require("ffmpeg", "ezstream", "curl");
    Path mp3 = dir.resolve("tagged.mp3");
    Process enc = new ProcessBuilder("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
        "anoisesrc=c=pink:a=0.3:d=20", "-c:a", "libmp3lame", "-b:a", "128k", "-metadata", "artist=Ez Artist",
        "-metadata", "title=Ez Title", "-y", mp3.toString()).inheritIO().start();
    assertTrue(enc.waitFor(60, TimeUnit.SECONDS));
    try (RelayServer server = relay()) {
      Process ez = ezstream(dir, server, mp3);
      try {
        RelayEndToEndTest.await(() -> server.mount("/ez.mp3") != null
            && "Ez Artist - Ez Title".equals(server.mount("/ez.mp3").title), "ezstream's title");
        Path got = dir.resolve("icy.bin");
        Process curl = new ProcessBuilder("curl", "-s", "-m", "3", "-H", "Icy-MetaData: 1", "-D",
            dir.resolve("head.txt").toString(), "-o", got.toString(),
            "http://127.0.0.1:" + server.address().getPort() + "/ez.mp3").inheritIO().start();
        assertTrue(curl.waitFor(20, TimeUnit.SECONDS));
        assertTrue(Files.readString(dir.resolve("head.txt")).contains("icy-metaint:16000"));
        byte[] b = Files.readAllBytes(got);
        assertTrue(b.length > 16_100, "more than one metadata interval: " + b.length);
        int len = (b[16_000] & 0xff) * 16;
        String text = new String(b, 16_001, len, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(text.startsWith("StreamTitle='Ez Artist - Ez Title';\0"), text);
      } finally {
        ez.destroy();
        ez.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** Starts ezstream publishing {@code mp3} to {@code /ez.mp3}. */
  private static Process ezstream(Path dir, RelayServer server, Path mp3) throws Exception {
    Path conf = dir.resolve("ezstream.xml");
    Files.writeString(conf, "<ezstream><servers><server><protocol>HTTP</protocol><hostname>127.0.0.1"
        + "</hostname><port>" + server.address().getPort() + "</port><password>" + PW
        + "</password></server></servers><streams><stream><mountpoint>/ez.mp3</mountpoint><format>MP3"
        + "</format></stream></streams><intakes><intake><filename>" + mp3
        + "</filename></intake></intakes></ezstream>");
    Files.setPosixFilePermissions(conf, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    return new ProcessBuilder("ezstream", "-c", conf.toString()).inheritIO().start();
  }
}
