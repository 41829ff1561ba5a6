package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A player (ffmpeg's http demuxer and decoders, what ffplay and mpv use) listening to a live mount
 * with a fallback while ffmpeg encoders come and go: the live source stops (the player goes on
 * with the fallback's stream), comes back ({@code fallback-override}: back to the live one), and an
 * admin moves the listeners with {@code /admin/moveclients}. The player's connection stays up the
 * whole time and it decodes every byte without an error: each move lands on an MP3 frame or an Ogg
 * page boundary, with the Ogg header pages of the stream it lands in (a chained Ogg stream). When
 * the last source leaves, the player sees the end of its stream and exits cleanly.
 */
@Tag("integration")
class FallbackIntegrationTest {

  @Test
  void aPlayerDecodesAnMp3StreamAcrossEveryMove(@TempDir Path dir) throws Exception {
    playerFollowsTheMoves(dir, "mp3", "audio/mpeg", List.of("-c:a", "libmp3lame", "-b:a", "128k"), "mp3");
  }

  @Test
  void aPlayerDecodesAnOggOpusStreamAcrossEveryMove(@TempDir Path dir) throws Exception {
    playerFollowsTheMoves(dir, "opus", "audio/ogg", List.of("-c:a", "libopus", "-b:a", "64k"), "ogg");
  }

  private static void playerFollowsTheMoves(Path dir, String ext, String type, List<String> codec,
      String muxer) throws Exception {
    Tools.require("ffmpeg");
    String live = "/live." + ext;
    String fallback = "/fallback." + ext;
    try (RelayServer server = RelayServer.start(FallbackTest.config(
        FallbackTest.mount(live, fallback, true, null, null)))) {
      InetSocketAddress at = server.address();
      List<Process> all = new ArrayList<>();
      try {
        all.add(encoder(at, fallback, 880, type, codec, muxer, dir.resolve("fallback.log")));
        Process liveSource = encoder(at, live, 440, type, codec, muxer, dir.resolve("live1.log"));
        all.add(liveSource);
        Process fallbackSource = all.get(0);
        RelayEndToEndTest.await(() -> server.mount(live) != null && server.mount(fallback) != null,
            "both encoders connected");
        Path heard = dir.resolve("heard.wav");
        Path errors = dir.resolve("player.log");
        Process player = new ProcessBuilder("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
            "-i", "http://127.0.0.1:" + at.getPort() + live, "-y", heard.toString())
            .redirectErrorStream(true).redirectOutput(errors.toFile()).start();
        all.add(player);
        RelayEndToEndTest.await(() -> server.mount(live).listeners() == 1, "the player on the live mount");
        Thread.sleep(3000);
        liveSource.destroy(); // SIGTERM: ffmpeg ends its stream cleanly, as an encoder that stops
        assertTrue(liveSource.waitFor(20, TimeUnit.SECONDS));
        RelayEndToEndTest.await(() -> server.mount(live) == null
            && server.mount(fallback).listeners() == 1, "the player moved to the fallback");
        Thread.sleep(3000);
        Process liveAgain = encoder(at, live, 440, type, codec, muxer, dir.resolve("live2.log"));
        all.add(liveAgain);
        RelayEndToEndTest.await(() -> server.mount(live) != null && server.mount(live).listeners() == 1,
            "the player back on the live mount (fallback-override)");
        Thread.sleep(3000);
        String moved = FallbackTest.admin(at, "/admin/moveclients?mount=" + live + "&destination=" + fallback);
        assertTrue(moved.contains("<return>1</return>"), moved);
        RelayEndToEndTest.await(() -> server.mount(fallback).listeners() == 1, "moved by the admin");
        Thread.sleep(3000);
        // every source leaves: the player, with no mount left to go to, sees the end of its stream
        liveAgain.destroy();
        assertTrue(liveAgain.waitFor(20, TimeUnit.SECONDS));
        fallbackSource.destroy();
        assertTrue(player.waitFor(60, TimeUnit.SECONDS), "the player sees the end of the stream");
        String log = Files.readString(errors);
        assertEquals(0, player.exitValue(), log);
        // ffmpeg's http client calls the end of any live stream premature (it has no length) and
        // reports it once more as an I/O error of the input; anything else is a decoding error
        String errorsSeen = log.lines().filter(l -> !l.contains("Stream ends prematurely")
                && !(l.startsWith("http://") && l.endsWith(": Input/output error")))
            .collect(java.util.stream.Collectors.joining("\n"));
        assertEquals("", errorsSeen, "the player decoded without an error");
        // about 12 s heard: more than 8 s of 48 kHz stereo 16-bit audio (Ogg's granule positions
        // jump at each chained stream, so the player may drop or pad a little at each move)
        assertTrue(Files.size(heard) > 1_536_000, "decoded bytes: " + Files.size(heard));
      } finally {
        for (Process p : all) {
          p.destroyForcibly();
        }
      }
    }
  }

  /** An ffmpeg encoder publishing a sine tone to {@code mount} in real time. */
  private static Process encoder(InetSocketAddress at, String mount, int hz, String type,
      List<String> codec, String muxer, Path log) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("ffmpeg", "-hide_banner", "-nostdin", "-loglevel",
        "error", "-re", "-f", "lavfi", "-i", "sine=frequency=" + hz + ":sample_rate=48000", "-ac", "2"));
    cmd.addAll(codec);
    cmd.addAll(List.of("-content_type", type, "-f", muxer, "icecast://source:" + Clients.PASSWORD
        + "@127.0.0.1:" + at.getPort() + mount));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }
}

