package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay's {@code /status-json.xsl} and listener headers next to real Icecast 2.4.4's, fed the
 * same sources (ffmpeg publishing MP3, Ogg/Opus and Ogg/Vorbis with its {@code -ice_*} options,
 * and a source sending {@code ice-bitrate} and {@code ice-audio-info}, which ffmpeg cannot), key by
 * key: the same keys in the same order with the same JSON types, and the same values except the
 * port and the times. Our own keys, which Icecast's page does not have, are named in {@link #OURS}.
 *
 * <p>Needs {@code icecast2}, {@code ffmpeg} and {@code setpriv}, and root (Icecast refuses to run
 * as root, so it is started as its package's user); skipped otherwise. In the integration group.
 */
@Tag("integration")
class IcecastStatusIntegrationTest {
  private static final List<String> OURS = List.of("nocopy_engine", "nocopy_io_uring", "nocopy_listeners_by_transport",
      "total_bytes_read", "total_bytes_sent");
  private static final String ICE_PW = "ice-source-pw";

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static Process run(String... cmd) throws IOException {
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
  }

  private static void make(Path out, String... codec) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
        "-i", "sine=frequency=440:duration=30"));
    cmd.addAll(List.of(codec));
    cmd.addAll(List.of("-y", out.toString()));
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "ffmpeg made " + out);
  }

  @Test
  @SuppressWarnings("unchecked")
  void statusAndListenerHeadersMatchIcecastKeyByKey(@TempDir Path dir) throws Exception {
    Tools.require("icecast2", "ffmpeg", "setpriv");
    Assumptions.assumeTrue(((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0,
        "not root: Icecast is started as its package's user with setpriv, which needs root; skipping");
    Path mp3 = dir.resolve("tone.mp3");
    Path opus = dir.resolve("tone.opus");
    Path vorbis = dir.resolve("tone.ogg");
    make(mp3, "-c:a", "libmp3lame", "-b:a", "128k");
    make(opus, "-c:a", "libopus", "-b:a", "64k");
    make(vorbis, "-c:a", "libvorbis");
    int icePort = freePort();
    Path ice = Files.createDirectories(dir.resolve("icecast"));
    Files.writeString(ice.resolve("icecast.xml"), "<icecast>"
        + "<limits><clients>100</clients><sources>10</sources><source-timeout>10</source-timeout>"
        + "<burst-size>65535</burst-size></limits><authentication><source-password>" + ICE_PW
        + "</source-password><admin-user>admin</admin-user><admin-password>ice-admin-pw</admin-password>"
        + "</authentication><hostname>127.0.0.1</hostname><listen-socket><port>" + icePort
        + "</port><bind-address>127.0.0.1</bind-address></listen-socket><paths><basedir>/usr/share/icecast2"
        + "</basedir><logdir>" + ice + "</logdir><webroot>/usr/share/icecast2/web</webroot><adminroot>"
        + "/usr/share/icecast2/admin</adminroot></paths><logging><errorlog>error.log</errorlog>"
        + "<loglevel>2</loglevel></logging><security><chroot>0</chroot></security></icecast>");
    assertEquals(0, run("chown", "-R", "icecast2:icecast", dir.toString()).waitFor());
    List<Process> procs = new ArrayList<>();
    Process icecast = run("setpriv", "--reuid=icecast2", "--regid=icecast", "--init-groups", "icecast2", "-c",
        ice.resolve("icecast.xml").toString());
    procs.add(icecast);
    InetSocketAddress iceAt = new InetSocketAddress("127.0.0.1", icePort);
    try (RelayServer relay = RelayServer.start(Clients.config())) {
      InetSocketAddress ourAt = relay.address();
      RelayEndToEndTest.await(() -> {
        try {
          // its statistics fill in a moment after it listens; until then its page is not JSON
          return StatusEndToEndTest.icestats(iceAt).containsKey("admin");
        } catch (IOException | IllegalArgumentException e) {
          return false;
        }
      }, "Icecast to listen and publish its statistics");
      compare(StatusEndToEndTest.icestats(iceAt), StatusEndToEndTest.icestats(ourAt), "no source");

      List<Socket> sockets = new ArrayList<>();
      for (InetSocketAddress at : List.of(iceAt, ourAt)) {
        String pw = at == iceAt ? ICE_PW : Clients.PASSWORD;
        String base = "icecast://source:" + pw + "@127.0.0.1:" + at.getPort();
        procs.add(run("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", mp3.toString(), "-c", "copy",
            "-content_type", "audio/mpeg", "-ice_name", "Tone 1234", "-ice_description", "A \"quoted\" tone",
            "-ice_genre", "Test", "-ice_url", "http://example.org/tone", "-ice_public", "1", "-f", "mp3",
            base + "/ff.mp3"));
        procs.add(run("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", opus.toString(), "-c", "copy",
            "-content_type", "application/ogg", "-ice_name", "Opus", "-f", "ogg", base + "/live.opus"));
        procs.add(run("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", vorbis.toString(), "-c", "copy",
            "-content_type", "application/ogg", "-f", "ogg", base + "/live.ogg"));
        Socket s = new Socket(at.getAddress(), at.getPort());
        s.getOutputStream().write(("SOURCE /hdr.mp3 HTTP/1.0\r\nAuthorization: Basic " + java.util.Base64.getEncoder()
            .encodeToString(("source:" + pw).getBytes(StandardCharsets.UTF_8)) + "\r\nContent-Type: audio/mpeg\r\n"
            + "ice-name: Hdr\r\nice-bitrate: 128\r\nice-public: 0\r\n"
            + "ice-audio-info: ice-samplerate=44100;ice-bitrate=128;ice-channels=2\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        assertTrue(Clients.readHead(s.getInputStream()).startsWith("HTTP/1.0 200 OK"));
        s.getOutputStream().write(Files.readAllBytes(mp3), 0, 64 * 1024);
        sockets.add(s);
      }
      try {
        for (InetSocketAddress at : List.of(iceAt, ourAt)) {
          RelayEndToEndTest.await(() -> {
            try {
              Object src = StatusEndToEndTest.icestats(at).get("source");
              return src instanceof List<?> l && l.size() == 4
                  && l.stream().filter(m -> ((Map<String, Object>) m).containsKey("subtype")).count() == 2;
            } catch (IOException e) {
              return false;
            }
          }, "four sources and both Ogg codecs on " + at);
        }
        compare(StatusEndToEndTest.icestats(iceAt), StatusEndToEndTest.icestats(ourAt), "four sources");
        for (String mount : List.of("/ff.mp3", "/live.opus", "/live.ogg", "/hdr.mp3")) {
          assertEquals(sourceHeaders(iceAt, mount), sourceHeaders(ourAt, mount), "listener headers of " + mount);
        }
        assertEquals(200, Clients.status(Clients.exchange(iceAt, "GET /admin/metadata?mount=/hdr.mp3&mode=updinfo"
            + "&song=A+Song HTTP/1.0\r\nAuthorization: " + basic("admin", "ice-admin-pw") + "\r\n\r\n")));
        assertEquals(200, Clients.status(Clients.exchange(ourAt, "GET /admin/metadata?mount=/hdr.mp3&mode=updinfo"
            + "&song=A+Song HTTP/1.0\r\nAuthorization: " + Clients.basic(Clients.PASSWORD) + "\r\n\r\n")));
        // Icecast applies the title on its source's next read
        byte[] more = java.util.Arrays.copyOfRange(Files.readAllBytes(mp3), 64 * 1024, 128 * 1024);
        for (Socket s : sockets) {
          s.getOutputStream().write(more);
        }
        RelayEndToEndTest.await(() -> {
          try {
            return StatusEndToEndTest.source(iceAt, "/hdr.mp3").containsKey("title");
          } catch (IOException e) {
            return false;
          }
        }, "Icecast to show the title");
        // the header probes above were listeners: Icecast counts one that left until its source's next read
        RelayEndToEndTest.await(() -> {
          try {
            return listenerCounts(iceAt).equals(listenerCounts(ourAt));
          } catch (IOException e) {
            return false;
          }
        }, "the same listener counts on both");
        compare(StatusEndToEndTest.icestats(iceAt), StatusEndToEndTest.icestats(ourAt), "after a title update");
        assertEquals("A Song", StatusEndToEndTest.source(ourAt, "/hdr.mp3").get("title"));
      } finally {
        for (Socket s : sockets) {
          s.close();
        }
      }
    } finally {
      for (Process p : procs) {
        p.destroy();
      }
      for (Process p : procs) {
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private static String basic(String user, String pw) {
    return "Basic " + java.util.Base64.getEncoder().encodeToString((user + ":" + pw).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The source's headers a listener gets ({@code icy-*} and {@code ice-*}), once each: Icecast
   * repeats {@code icy-br} when both the bitrate and the audio info carry it. The ICY metadata
   * headers ({@code icy-metaint}, {@code icy-metadata}) belong to the ICY tests.
   */
  private static TreeSet<String> sourceHeaders(InetSocketAddress at, String mount) throws IOException {
    try (Socket s = new Socket(at.getAddress(), at.getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(("GET " + mount + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      TreeSet<String> out = new TreeSet<>();
      for (String line : Clients.readHead(in).split("\r\n")) {
        String l = line.toLowerCase(java.util.Locale.ROOT);
        if ((l.startsWith("icy-") || l.startsWith("ice-")) && !l.startsWith("icy-meta")) {
          out.add(line);
        }
      }
      return out;
    }
  }

  /** Same keys in the same order, same types; same values but for the port and the times. */
  @SuppressWarnings("unchecked")
  private static void compare(Map<String, Object> ice, Map<String, Object> ours, String when) {
    List<String> ourKeys = new ArrayList<>(ours.keySet());
    assertEquals(new ArrayList<>(ice.keySet()), ourKeys, when + ": icestats keys");
    for (String k : ice.keySet()) {
      assertEquals(Json.type(ice.get(k)), Json.type(ours.get(k)), when + ": type of icestats." + k);
    }
    if (!ice.containsKey("source")) {
      return;
    }
    List<Object> is = ice.get("source") instanceof List<?> l ? (List<Object>) l : List.of(ice.get("source"));
    List<Object> os = ours.get("source") instanceof List<?> l ? (List<Object>) l : List.of(ours.get("source"));
    assertEquals(is.size(), os.size(), when + ": sources");
    for (int i = 0; i < is.size(); i++) {
      Map<String, Object> a = (Map<String, Object>) is.get(i);
      Map<String, Object> b = new java.util.LinkedHashMap<>((Map<String, Object>) os.get(i));
      b.keySet().removeAll(OURS);
      String mount = ((String) a.get("listenurl")).replaceFirst("^http://[^/]+", "");
      assertEquals(new ArrayList<>(a.keySet()), new ArrayList<>(b.keySet()), when + ": keys of " + mount);
      Map<String, String> diff = new TreeMap<>();
      for (String k : a.keySet()) {
        Object x = a.get(k);
        Object y = b.get(k);
        if (!Json.type(x).equals(Json.type(y))) {
          diff.put(k, "type " + Json.type(x) + " vs " + Json.type(y));
        } else if (k.equals("listenurl")) {
          if (!((String) y).endsWith(mount)) {
            diff.put(k, x + " vs " + y);
          }
        } else if (k.startsWith("stream_start")) {
          String pattern = k.endsWith("iso8601") ? "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\+0000"
              : "\\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000";
          if (!((String) y).matches(pattern)) {
            diff.put(k, x + " vs " + y);
          }
        } else if (!String.valueOf(x).equals(String.valueOf(y))) {
          diff.put(k, x + " vs " + y);
        }
      }
      assertTrue(diff.isEmpty(), when + ": " + mount + " differs (Icecast vs ours): " + diff);
    }
  }

  /** Each source's listener count, by listen URL path. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> listenerCounts(InetSocketAddress at) throws IOException {
    Map<String, Object> counts = new TreeMap<>();
    Object src = StatusEndToEndTest.icestats(at).get("source");
    for (Object o : src instanceof List<?> l ? l : List.of(src)) {
      Map<String, Object> m = (Map<String, Object>) o;
      counts.put(((String) m.get("listenurl")).replaceFirst("^http://[^/]+", ""), String.valueOf(m.get("listeners")));
    }
    return counts;
  }
}
