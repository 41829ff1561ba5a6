package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Relaying next to a real Icecast 2.4: nocopy as the slave of an Icecast master (Icecast serves its
 * {@code /admin/streamlist.txt} to nocopy's relay login) and pulling an Icecast mount through a
 * {@code <relay>} with ICY titles; and Icecast as the slave of nocopy (nocopy serves the stream list
 * to Icecast's slave). ffmpeg publishes, ffprobe decodes what the relayed mounts serve, a title
 * set on the Icecast mount arrives in nocopy's status page and listeners' ICY blocks.
 *
 * <p>Needs {@code icecast2}, {@code ffmpeg}, {@code ffprobe}, {@code setpriv} and root; skipped
 * otherwise. In the integration group.
 */
@Tag("integration")
class IcecastRelayIntegrationTest {
  private static final String AUTH = "<authentication><source-password>ice-source-pw</source-password>"
      + "<relay-user>slaves</relay-user><relay-password>relay-pw</relay-password>"
      + "<admin-user>admin</admin-user><admin-password>ice-admin-pw</admin-password></authentication>";
  private static final String LIMITS = "<limits><clients>100</clients><sources>10</sources>"
      + "<source-timeout>10</source-timeout><burst-size>65535</burst-size></limits>";

  private static Process publish(InetSocketAddress at, String password, String mount) throws IOException {
    return new ProcessBuilder("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
        "sine=frequency=440:duration=120", "-c:a", "libmp3lame", "-b:a", "128k", "-content_type", "audio/mpeg",
        "-ice_name", "Tone", "-f", "mp3", "icecast://source:" + password + "@127.0.0.1:" + at.getPort() + mount)
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
  }

  /** The codec ffprobe finds in the stream at {@code url}. */
  private static String probe(String url) throws Exception {
    Process p = new ProcessBuilder("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of",
        "csv=p=0", url).redirectErrorStream(true).start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "ffprobe finished");
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
  }

  private static boolean lists(InetSocketAddress at, String mount) {
    try {
      Object src = StatusEndToEndTest.icestats(at).get("source");
      for (Object o : src instanceof List<?> l ? l : src == null ? List.of() : List.of(src)) {
        if (((String) ((Map<?, ?>) o).get("listenurl")).endsWith(mount)) {
          return true;
        }
      }
      return false;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static Object title(InetSocketAddress at, String mount) {
    try {
      return StatusEndToEndTest.source(at, mount).get("title");
    } catch (IOException | AssertionError e) {
      return null;
    }
  }

  /** Listens with {@code Icy-MetaData: 1} until a metadata block holds {@code text}. */
  private static void awaitIcyBlock(InetSocketAddress at, String mount, String text) throws IOException {
    try (Socket s = Clients.get(at, mount, "Icy-MetaData: 1\r\n")) {
      InputStream raw = s.getInputStream();
      String head = Clients.readHead(raw);
      int metaint = Integer.parseInt(head.replaceAll("(?s).*icy-metaint:\\s*(\\d+).*", "$1"));
      DataInputStream in = new DataInputStream(raw);
      List<String> seen = new ArrayList<>();
      for (int block = 0; block < 200; block++) {
        in.skipNBytes(metaint);
        byte[] meta = new byte[in.readUnsignedByte() * 16];
        in.readFully(meta);
        String m = new String(meta, StandardCharsets.ISO_8859_1).replace("\0", "");
        if (m.contains(text)) {
          return;
        }
        if (!m.isEmpty()) {
          seen.add(m);
        }
      }
      throw new AssertionError("no ICY block with " + text + " in 200 blocks; saw " + seen);
    }
  }

  @Test
  void nocopyRelaysAnIcecastMasterAndAnIcecastMountWithItsTitles(@TempDir Path dir) throws Exception {
    Tools.require("ffmpeg", "ffprobe");
    try (IcecastPeer master = new IcecastPeer(dir.resolve("icecast"), LIMITS + AUTH)) {
      Process ffmpeg = publish(master.address, "ice-source-pw", "/live.mp3");
      Path xml = RelaysTest.xml(dir, "slave.xml", "<master-server>127.0.0.1</master-server><master-server-port>"
          + master.address.getPort() + "</master-server-port><master-update-interval>1</master-update-interval>"
          + "<master-username>slaves</master-username><master-password>relay-pw</master-password>"
          + "<relay><server>127.0.0.1</server><port>" + master.address.getPort() + "</port><mount>/live.mp3"
          + "</mount><local-mount>/copy.mp3</local-mount><relay-shoutcast-metadata>1</relay-shoutcast-metadata>"
          + "</relay>");
      try (RelayServer slave = RelaysTest.startFrom(xml)) {
        InetSocketAddress at = slave.address();
        RelayEndToEndTest.await(() -> lists(at, "/live.mp3") && lists(at, "/copy.mp3"),
            "nocopy relays /live.mp3 (from the master's stream list) and /copy.mp3 (<relay>)");
        String base = "http://127.0.0.1:" + at.getPort();
        assertEquals("mp3", probe(base + "/live.mp3"), "ffprobe decodes the slave's mount");
        assertEquals("mp3", probe(base + "/copy.mp3"), "ffprobe decodes the <relay>'s mount");
        assertEquals("Tone", StatusEndToEndTest.source(at, "/copy.mp3").get("server_name"));

        assertEquals(200, Clients.status(Clients.exchange(master.address, "GET /admin/metadata?mount=/live.mp3"
            + "&mode=updinfo&song=Relayed+Title HTTP/1.0\r\n" + RelaysTest.auth("admin", "ice-admin-pw") + "\r\n")));
        RelayEndToEndTest.await(() -> "Relayed Title".equals(title(at, "/live.mp3"))
            && "Relayed Title".equals(title(at, "/copy.mp3")), "Icecast's title on both relayed mounts");
        awaitIcyBlock(at, "/copy.mp3", "StreamTitle='Relayed Title';");

        ffmpeg.destroy();
        assertTrue(ffmpeg.waitFor(10, TimeUnit.SECONDS));
        RelayEndToEndTest.await(() -> !slave.relays().mounts().contains("/live.mp3"),
            "the master no longer lists /live.mp3: the slave stops relaying it");
        RelayEndToEndTest.await(() -> slave.mounts().isEmpty(), "both relayed mounts end with the source");
        assertTrue(slave.relays().mounts().contains("/copy.mp3"), "a <relay> keeps trying");
      } finally {
        ffmpeg.destroyForcibly();
      }
    }
  }

  @Test
  void icecastIsASlaveOfNocopy(@TempDir Path dir) throws Exception {
    Tools.require("ffmpeg", "ffprobe");
    Path xml = RelaysTest.xml(dir, "master.xml", AUTH);
    try (RelayServer master = RelaysTest.startFrom(xml)) {
      Process ffmpeg = publish(master.address(), Clients.PASSWORD, "/n.mp3");
      try (IcecastPeer slave = new IcecastPeer(dir.resolve("icecast"), LIMITS + AUTH
          + "<master-server>127.0.0.1</master-server><master-server-port>" + master.address().getPort()
          + "</master-server-port><master-update-interval>1</master-update-interval>"
          + "<master-username>slaves</master-username><master-password>relay-pw</master-password>")) {
        RelayEndToEndTest.await(() -> lists(slave.address, "/n.mp3"),
            "Icecast's slave relays nocopy's /n.mp3 (it read nocopy's stream list)");
        assertEquals("mp3", probe("http://127.0.0.1:" + slave.address.getPort() + "/n.mp3"),
            "ffprobe decodes Icecast's copy");
      } finally {
        ffmpeg.destroy();
        ffmpeg.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
