package io.nocopy.relay.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.relay.config.IcecastConfig.ListenSocket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IcecastXmlTest {
  @TempDir Path dir;

  private Path write(String xml) throws IOException {
    Path f = dir.resolve("icecast.xml");
    Files.writeString(f, xml);
    return f;
  }

  /** The shape of Debian's packaged icecast.xml: comments, supported and unsupported elements. */
  static final String DEBIAN_LIKE = """
      <icecast>
          <!-- comment -->
          <location>Earth</location>
          <admin>icemaster@localhost</admin>
          <limits>
              <clients>100</clients>
              <sources>2</sources>
              <queue-size>524288</queue-size>
              <client-timeout>30</client-timeout>
              <header-timeout>15</header-timeout>
              <source-timeout>10</source-timeout>
              <burst-on-connect>1</burst-on-connect>
              <burst-size>65535</burst-size>
          </limits>
          <authentication>
              <source-password>hackme</source-password>
              <relay-password>hackme</relay-password>
              <admin-user>admin</admin-user>
              <admin-password>hackme</admin-password>
          </authentication>
          <hostname>localhost</hostname>
          <listen-socket>
              <port>8000</port>
          </listen-socket>
          <http-headers>
              <header name="Access-Control-Allow-Origin" value="*" />
          </http-headers>
          <fileserve>1</fileserve>
          <paths>
              <basedir>/usr/share/icecast2</basedir>
              <logdir>/var/log/icecast2</logdir>
              <webroot>/usr/share/icecast2/web</webroot>
              <adminroot>/usr/share/icecast2/admin</adminroot>
              <alias source="/" destination="/status.xsl"/>
          </paths>
          <logging>
              <accesslog>access.log</accesslog>
              <errorlog>error.log</errorlog>
              <loglevel>3</loglevel>
              <logsize>10000</logsize>
          </logging>
          <security>
              <chroot>0</chroot>
          </security>
      </icecast>
      """;

  @Test
  void readsDebiansPackagedShapeAndNamesWhatItDoesNotSupport() throws IOException {
    IcecastConfig c = IcecastXml.read(write(DEBIAN_LIKE));
    assertEquals(List.of(new ListenSocket(8000, null, null)), c.listenSockets());
    assertEquals("hackme", c.authentication().sourcePassword());
    assertEquals("relay", c.authentication().relayUser());
    assertEquals("admin", c.authentication().adminUser());
    assertEquals(Duration.ofSeconds(10), c.limits().sourceTimeout());
    assertEquals(65535, c.limits().burstSize());
    assertTrue(c.limits().burstOnConnect());
    assertEquals(Map.of("Access-Control-Allow-Origin", "*"), c.httpHeaders());
    assertEquals(Path.of("/var/log/icecast2"), c.paths().logdir());
    assertEquals("access.log", c.logging().accesslog());
    assertEquals(List.of("fileserve", "paths/basedir", "paths/webroot", "paths/adminroot", "paths/alias",
        "logging/logsize", "security"), c.unsupported());
    assertTrue(c.master().isEmpty());
    assertTrue(c.mounts().isEmpty());
  }

  @Test
  void readsEverySupportedElement() throws IOException {
    IcecastConfig c = IcecastXml.read(write("""
        <icecast>
          <hostname>radio.example.org</hostname><location>Here</location><admin>ops@example.org</admin>
          <shoutcast-mount>/sc.mp3</shoutcast-mount>
          <listen-socket><port>8000</port><bind-address>127.0.0.1</bind-address></listen-socket>
          <listen-socket><port>8002</port><shoutcast-mount>/live.aac</shoutcast-mount></listen-socket>
          <listen-socket><port>8443</port><ssl>1</ssl></listen-socket>
          <limits><clients>500</clients><sources>4</sources><queue-size>1048576</queue-size>
            <client-timeout>20</client-timeout><header-timeout>5</header-timeout><source-timeout>7</source-timeout>
            <burst-on-connect>0</burst-on-connect><burst-size>32768</burst-size></limits>
          <authentication><source-password>s</source-password><relay-user>r</relay-user>
            <relay-password>rp</relay-password><admin-user>a</admin-user><admin-password>ap</admin-password></authentication>
          <mount type="default"><max-listener-duration>3600</max-listener-duration><public>0</public>
            <http-headers><header name="X-Station" value="demo"/></http-headers></mount>
          <mount type="normal">
            <mount-name>/live.ogg</mount-name><username>dj</username><password>djpw</password>
            <max-listeners>50</max-listeners><fallback-mount>/auto.ogg</fallback-mount>
            <fallback-override>1</fallback-override><fallback-when-full>true</fallback-when-full>
            <hidden>1</hidden><dump-file>/tmp/live.ogg</dump-file><burst-size>16384</burst-size>
            <queue-size>200000</queue-size><stream-name>Live</stream-name>
            <stream-description>The live show</stream-description><stream-url>http://example.org/</stream-url>
            <genre>Talk</genre><bitrate>96</bitrate><type>application/ogg</type><subtype>vorbis</subtype>
            <charset>ISO8859-1</charset><intro>/intro.ogg</intro>
            <http-headers><header name="X-Show" value="live"/></http-headers>
          </mount>
          <mount><mount-name>/auto.ogg</mount-name></mount>
          <relay><server>upstream.example.org</server><port>8001</port><mount>/up.mp3</mount>
            <local-mount>/down.mp3</local-mount><username>u</username><password>p</password>
            <relay-shoutcast-metadata>0</relay-shoutcast-metadata><on-demand>1</on-demand></relay>
          <relay><server>other</server></relay>
          <master-server>master.example.org</master-server><master-server-port>9000</master-server-port>
          <master-update-interval>60</master-update-interval><master-password>mp</master-password>
          <relays-on-demand>1</relays-on-demand>
          <paths><logdir>/var/log/nocopy</logdir><pidfile>/run/nocopy.pid</pidfile></paths>
          <logging><accesslog>a.log</accesslog><errorlog>e.log</errorlog><loglevel>4</loglevel></logging>
        </icecast>
        """));
    assertEquals("radio.example.org", c.hostname());
    assertEquals(List.of(new ListenSocket(8000, "127.0.0.1", "/sc.mp3"), new ListenSocket(8002, null, "/live.aac")),
        c.listenSockets());
    assertEquals(List.of("listen-socket/ssl (port 8443 skipped: TLS is not supported)", "mount/intro"), c.unsupported());
    assertEquals(500, c.limits().clients());
    assertEquals(4, c.limits().sources());
    assertEquals(1048576, c.limits().queueSize());
    assertEquals(Duration.ofSeconds(5), c.limits().headerTimeout());
    assertFalse(c.limits().burstOnConnect());
    assertEquals("r", c.authentication().relayUser());
    MountSettings live = c.mountTable().settings("/live.ogg");
    assertEquals("dj", live.username());
    assertEquals(50, live.maxListeners());
    assertEquals("/auto.ogg", live.fallbackMount());
    assertTrue(live.fallbackOverride());
    assertTrue(live.fallbackWhenFull());
    assertTrue(live.hidden());
    assertFalse(live.isPublic(), "inherited from the default mount");
    assertEquals(Duration.ofHours(1), live.maxListenerDuration(), "inherited from the default mount");
    assertEquals(Path.of("/tmp/live.ogg"), live.dumpFile());
    assertEquals(16384, live.burstSize());
    assertEquals(96, live.bitrate());
    assertEquals("vorbis", live.subtype());
    assertEquals("ISO8859-1", live.charset());
    assertEquals(Map.of("X-Station", "demo", "X-Show", "live"), live.httpHeaders());
    MountSettings other = c.mountTable().settings("/not-configured.mp3");
    assertNull(other.name());
    assertEquals(Duration.ofHours(1), other.maxListenerDuration());
    assertEquals(2, c.relays().size());
    assertEquals(new IcecastConfig.RelaySettings("upstream.example.org", 8001, "/up.mp3", "/down.mp3", "u", "p",
        false, true), c.relays().get(0));
    assertEquals(new IcecastConfig.RelaySettings("other", 8000, "/", "/", null, null, true, false), c.relays().get(1));
    assertEquals(new IcecastConfig.Master("master.example.org", 9000, Duration.ofMinutes(1), "relay", "mp", true),
        c.master().orElseThrow());
    assertEquals(Path.of("/run/nocopy.pid"), c.paths().pidfile());
    assertEquals(4, c.logging().loglevel());
  }

  /**
   * Icecast 2.4 gives {@code relays-on-demand} to the {@code <relay>}s after it in the file that do
   * not say {@code on-demand} themselves; the slave's login is {@code master-username} (default
   * {@code relay}), not {@code relay-user}.
   */
  @Test
  void relaysOnDemandIsTheDefaultOfLaterRelaysAndMasterUsernameIsTheSlavesLogin() throws IOException {
    IcecastConfig c = IcecastXml.read(write("""
        <icecast><listen-socket><port>8000</port></listen-socket>
          <authentication><relay-user>slaves</relay-user></authentication>
          <relay><server>a</server><mount>/a.mp3</mount></relay>
          <relays-on-demand>1</relays-on-demand>
          <relay><server>b</server><mount>/b.mp3</mount></relay>
          <relay><server>c</server><mount>/c.mp3</mount><on-demand>0</on-demand></relay>
          <master-server>m</master-server><master-username>me</master-username>
        </icecast>
        """));
    assertEquals(List.of(false, true, false), c.relays().stream().map(IcecastConfig.RelaySettings::onDemand).toList());
    assertEquals("me", c.master().orElseThrow().username());
    assertEquals(8000, c.master().orElseThrow().port());
    assertEquals(Duration.ofSeconds(120), c.master().orElseThrow().updateInterval());
    assertTrue(c.master().orElseThrow().onDemand(), "relays-on-demand");
  }

  @Test
  void malformedXmlNamesTheFileAndLine() throws IOException {
    Path f = write("<icecast>\n  <limits>\n    <clients>10</clients>\n  </limit>\n</icecast>\n");
    ConfigException e = assertThrows(ConfigException.class, () -> IcecastXml.read(f));
    assertTrue(e.getMessage().startsWith(f + ":4: "), e.getMessage());
  }

  @Test
  void badValuesNameTheFileLineAndReason() throws IOException {
    Path f = write("<icecast>\n<listen-socket>\n<port>80a0</port>\n</listen-socket>\n</icecast>");
    ConfigException e = assertThrows(ConfigException.class, () -> IcecastXml.read(f));
    assertEquals(f + ":3: <port> must be a whole number, got '80a0'", e.getMessage());
    Path g = write("<icecast><listen-socket><port>8000</port></listen-socket>\n<limits><burst-on-connect>maybe</burst-on-connect></limits></icecast>");
    assertEquals(g + ":2: <burst-on-connect> must be 0 or 1 (or true/false, yes/no), got 'maybe'",
        assertThrows(ConfigException.class, () -> IcecastXml.read(g)).getMessage());
    Path h = write("<icecast><listen-socket><port>70000</port></listen-socket></icecast>");
    assertTrue(assertThrows(ConfigException.class, () -> IcecastXml.read(h)).getMessage().contains("1-65535"));
  }

  @Test
  void structuralMistakesStopTheStart() throws IOException {
    Path noSocket = write("<icecast><hostname>x</hostname></icecast>");
    assertTrue(assertThrows(ConfigException.class, () -> IcecastXml.read(noSocket)).getMessage()
        .contains("no usable <listen-socket>"));
    Path twice = write("<icecast><listen-socket><port>1</port></listen-socket>"
        + "<mount><mount-name>/a</mount-name></mount><mount><mount-name>/a</mount-name></mount></icecast>");
    assertTrue(assertThrows(ConfigException.class, () -> IcecastXml.read(twice)).getMessage()
        .contains("mount /a is defined twice"));
    Path unnamed = write("<icecast><listen-socket><port>1</port></listen-socket>\n<mount><hidden>1</hidden></mount></icecast>");
    assertEquals(unnamed + ":2: <mount> without <mount-name>",
        assertThrows(ConfigException.class, () -> IcecastXml.read(unnamed)).getMessage());
    Path badName = write("<icecast><listen-socket><port>1</port></listen-socket><mount><mount-name>/../etc</mount-name></mount></icecast>");
    assertTrue(assertThrows(ConfigException.class, () -> IcecastXml.read(badName)).getMessage().contains("'..'"));
    Path root = write("<shoutcast/>");
    assertTrue(assertThrows(ConfigException.class, () -> IcecastXml.read(root)).getMessage().contains("not <icecast>"));
    Path doctype = write("<!DOCTYPE icecast [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><icecast>&x;</icecast>");
    assertThrows(ConfigException.class, () -> IcecastXml.read(doctype));
    Path header = write("<icecast><listen-socket><port>1</port></listen-socket><http-headers><header value=\"v\"/></http-headers></icecast>");
    assertTrue(assertThrows(ConfigException.class, () -> IcecastXml.read(header)).getMessage().contains("valid name"));
  }

  @Test
  void aLoopOfFallbackMountsStopsTheStartAtTheFirstMountsFallback() throws IOException {
    Path loop = write("<icecast><listen-socket><port>1</port></listen-socket>\n"
        + "<mount><mount-name>/live.mp3</mount-name>\n<fallback-mount>/b.mp3</fallback-mount></mount>\n"
        + "<mount><mount-name>/b.mp3</mount-name>\n<fallback-mount>/live.mp3</fallback-mount></mount>\n"
        + "</icecast>");
    assertEquals(loop + ":3: the fallback mounts loop: /live.mp3 -> /b.mp3 -> /live.mp3",
        assertThrows(ConfigException.class, () -> IcecastXml.read(loop)).getMessage());
    Path chain = write("<icecast><listen-socket><port>1</port></listen-socket>\n"
        + "<mount type=\"default\"><fallback-mount>/all.mp3</fallback-mount></mount>\n"
        + "<mount><mount-name>/live.mp3</mount-name><fallback-mount>/b.mp3</fallback-mount></mount>\n"
        + "<mount><mount-name>/b.mp3</mount-name></mount>\n"
        + "</icecast>");
    assertEquals("/all.mp3", IcecastXml.read(chain).mountTable().settings("/b.mp3").fallbackMount(),
        "a chain ending in the defaults' fallback is no loop");
  }
}
