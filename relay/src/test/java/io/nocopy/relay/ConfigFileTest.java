package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.relay.config.IcecastConfig;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --config FILE}: every group an icecast.xml fills, and flags over the file. */
class ConfigFileTest {
  @TempDir Path dir;

  /** An icecast.xml that sets every element the relay maps. */
  static final String EVERYTHING = """
      <icecast>
        <location>Studio 4</location>
        <admin>ops@example.org</admin>
        <hostname>radio.example.org</hostname>
        <limits>
          <clients>250</clients>
          <sources>3</sources>
          <queue-size>262144</queue-size>
          <client-timeout>20</client-timeout>
          <header-timeout>7</header-timeout>
          <source-timeout>9</source-timeout>
          <burst-on-connect>1</burst-on-connect>
          <burst-size>32768</burst-size>
        </limits>
        <authentication>
          <source-password>src-pw</source-password>
          <relay-user>slave</relay-user>
          <relay-password>relay-pw</relay-password>
          <admin-user>boss</admin-user>
          <admin-password>admin-pw</admin-password>
        </authentication>
        <listen-socket><port>18100</port><bind-address>127.0.0.1</bind-address></listen-socket>
        <listen-socket><port>18200</port><shoutcast-mount>/sc.mp3</shoutcast-mount></listen-socket>
        <http-headers><header name="Access-Control-Allow-Origin" value="*"/></http-headers>
        <master-server>master.example.org</master-server>
        <master-server-port>8001</master-server-port>
        <master-update-interval>60</master-update-interval>
        <master-password>master-pw</master-password>
        <relay><server>up.example.org</server><port>9000</port><mount>/up.ogg</mount><local-mount>/here.ogg</local-mount></relay>
        <mount type="default"><max-listeners>40</max-listeners></mount>
        <mount type="normal">
          <mount-name>/live.mp3</mount-name><username>dj</username><password>dj-pw</password>
          <max-listeners>2</max-listeners><hidden>1</hidden><stream-name>Live</stream-name>
        </mount>
        <fileserve>1</fileserve>
        <paths>
          <basedir>/usr/share/icecast2</basedir>
          <logdir>/var/log/radio</logdir>
          <pidfile>/run/radio.pid</pidfile>
        </paths>
        <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>4</loglevel></logging>
      </icecast>
      """;

  private Path write(String xml) throws Exception {
    Path f = dir.resolve("icecast.xml");
    Files.writeString(f, xml);
    return f;
  }

  @Test
  void mapsEveryGroupOfTheFile() throws Exception {
    Path f = write(EVERYTHING);
    RelayConfig c = CommandLine.parse(Map.of(), "--config", f.toString());
    assertEquals(new InetSocketAddress("127.0.0.1", 18100), c.listen());
    assertEquals(List.of(new RelayConfig.ListenSocket(new InetSocketAddress(18200), null),
        new RelayConfig.ListenSocket(new InetSocketAddress(18201), "/sc.mp3")), c.extraSockets());
    assertTrue(c.extraSockets().get(0).address().getAddress().isAnyLocalAddress(), "no bind-address: every address");
    assertEquals(250, c.maxClients());
    assertEquals(250, c.maxListeners());
    assertEquals(3, c.maxSources());
    assertEquals(262144, c.queueSize());
    assertEquals(32768, c.burstSize());
    assertEquals(20, c.clientTimeout().toSeconds());
    assertEquals(7, c.headerTimeout().toSeconds());
    assertEquals(9, c.sourceTimeout().toSeconds());
    assertEquals("src-pw", c.sourcePassword());
    assertFalse(c.passwordGenerated());
    assertEquals("boss", c.adminUser());
    assertEquals("admin-pw", c.adminPassword());
    assertFalse(c.adminPasswordGenerated());
    assertEquals("slave", c.relaying().user());
    assertEquals("relay-pw", c.relaying().password());
    assertEquals(List.of(new IcecastConfig.RelaySettings("up.example.org", 9000, "/up.ogg", "/here.ogg",
        null, null, true, false)), c.relaying().relays());
    assertEquals(Optional.of(new IcecastConfig.Master("master.example.org", 8001,
        java.time.Duration.ofSeconds(60), "relay", "master-pw", false)), c.relaying().master());
    assertEquals("radio.example.org", c.station().hostname());
    assertEquals("Studio 4", c.station().location());
    assertEquals("ops@example.org", c.station().admin());
    assertEquals(Map.of("Access-Control-Allow-Origin", "*"), c.station().httpHeaders());
    assertEquals("dj", c.mounts().settings("/live.mp3").username());
    assertEquals(2, c.mounts().settings("/live.mp3").maxListeners());
    assertEquals(40, c.mounts().settings("/other.mp3").maxListeners(), "the default mount's");
    assertEquals(Path.of("/var/log/radio"), c.logs().dir());
    assertEquals("access.log", c.logs().accessLog());
    assertEquals("error.log", c.logs().errorLog());
    assertEquals(4, c.logs().level());
    assertEquals(Path.of("/run/radio.pid"), c.pidFile());
    assertEquals(f, c.configFile());
  }

  @Test
  void flagsOverrideTheFileWhateverTheirOrder() throws Exception {
    Path f = write(EVERYTHING);
    RelayConfig c = CommandLine.parse(Map.of(), "--listen", "127.0.0.1:0", "--source-password", "flag-pw",
        "--config", f.toString(), "--admin-user", "root", "--burst-size", "1k", "--max-sources", "9",
        "--max-clients", "12", "--max-listeners", "11", "--pidfile", "/tmp/x.pid", "--header-timeout", "2");
    assertEquals(new InetSocketAddress("127.0.0.1", 0), c.listen());
    assertEquals(2, c.extraSockets().size(), "only the first socket is replaced");
    assertEquals("flag-pw", c.sourcePassword());
    assertEquals("root", c.adminUser());
    assertEquals("admin-pw", c.adminPassword(), "the file's, where no flag says otherwise");
    assertEquals(1024, c.burstSize());
    assertEquals(9, c.maxSources());
    assertEquals(12, c.maxClients());
    assertEquals(11, c.maxListeners());
    assertEquals(Path.of("/tmp/x.pid"), c.pidFile());
    assertEquals(2, c.headerTimeout().toSeconds());
    assertEquals(262144, c.queueSize(), "the file's");
    Path pw = dir.resolve("pw");
    Files.writeString(pw, "from-file\n");
    assertEquals("from-file", CommandLine.parse(Map.of(), "--config", f.toString(),
        "--source-password-file", pw.toString()).sourcePassword());
    assertEquals("from-env", CommandLine.parse(Map.of("NOCOPY_ADMIN_PASSWORD", "from-env"), "--config",
        f.toString()).adminPassword());
  }

  @Test
  void aMinimalFileTakesIcecastsDefaults() throws Exception {
    RelayConfig c = CommandLine.parse(Map.of(), "--config",
        write("<icecast><listen-socket><port>18300</port></listen-socket></icecast>").toString());
    assertEquals(18300, c.listen().getPort());
    assertTrue(c.listen().getAddress().isAnyLocalAddress());
    assertEquals(100, c.maxClients());
    assertEquals(2, c.maxSources());
    assertEquals(524288, c.queueSize());
    assertEquals(65535, c.burstSize());
    assertTrue(c.passwordGenerated(), "no source password in the file: one is generated");
    assertEquals("localhost", c.station().hostname());
    assertEquals("Earth", c.station().location());
    assertNull(c.pidFile());
    assertEquals(0, CommandLine.parse(Map.of(), "--config", write("<icecast><listen-socket><port>18300"
        + "</port></listen-socket><limits><burst-on-connect>0</burst-on-connect></limits></icecast>")
        .toString()).burstSize(), "burst-on-connect off");
    assertEquals(64 * 1024, CommandLine.parse(Map.of()).burstSize(), "flags alone keep the relay's defaults");
    assertEquals(Integer.MAX_VALUE, CommandLine.parse(Map.of()).maxSources());
  }

  @Test
  void aBadFileIsNamedWithItsLineAndReason() throws Exception {
    Path f = write("<icecast>\n<listen-socket>\n<port>80x</port>\n</listen-socket>\n</icecast>\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CommandLine.parse(Map.of(), "--config", f.toString()));
    assertTrue(e.getMessage().startsWith(f + ":3: "), e.getMessage());
    Path broken = write("<icecast>\n<limits>\n</icecast>\n");
    e = assertThrows(IllegalArgumentException.class, () -> CommandLine.parse(Map.of(), "--config", broken.toString()));
    assertTrue(e.getMessage().startsWith(broken + ":3: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> CommandLine.parse(Map.of(), "--config", dir.resolve("missing.xml").toString()));
    assertTrue(e.getMessage().contains("missing.xml"), e.getMessage());
    Path big = write("<icecast><listen-socket><port>1</port></listen-socket><limits><burst-size>9999999"
        + "</burst-size></limits></icecast>");
    e = assertThrows(IllegalArgumentException.class, () -> CommandLine.parse(Map.of(), "--config", big.toString()));
    assertTrue(e.getMessage().startsWith(big + " with the flags given: --burst-size"), e.getMessage());
  }

  @Test
  void fromFlagsAloneNothingOfAFileIsSet() throws Exception {
    RelayConfig c = CommandLine.parse(Map.of(), "--source-password", "x");
    assertNull(c.configFile());
    assertTrue(c.extraSockets().isEmpty());
    assertTrue(c.mounts().named().isEmpty());
    assertEquals(Integer.MAX_VALUE, c.maxClients());
  }
}
