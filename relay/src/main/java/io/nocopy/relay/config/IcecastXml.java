package io.nocopy.relay.config;

import io.nocopy.relay.config.IcecastConfig.Authentication;
import io.nocopy.relay.config.IcecastConfig.Limits;
import io.nocopy.relay.config.IcecastConfig.ListenSocket;
import io.nocopy.relay.config.IcecastConfig.Logging;
import io.nocopy.relay.config.IcecastConfig.Master;
import io.nocopy.relay.config.IcecastConfig.Paths;
import io.nocopy.relay.config.IcecastConfig.RelaySettings;
import io.nocopy.relay.config.XmlTree.Element;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads an Icecast 2.4 {@code icecast.xml} unchanged. Supported elements are mapped to {@link
 * IcecastConfig} with Icecast's defaults; every other element is recorded in {@link
 * IcecastConfig#unsupported()} (the relay names them in one warning line at start); a file that is
 * not well-formed, or a value of the wrong kind (a port that is not a number, a boolean that is
 * neither 0/1 nor true/false/yes/no), stops with the file, line and reason.
 */
public final class IcecastXml {
  private final Path file;
  private final Set<String> unsupported = new LinkedHashSet<>();

  private IcecastXml(Path file) {
    this.file = file;
  }

  /**
   * Reads {@code file}.
   *
   * @throws ConfigException if the file is malformed or a value is invalid (the message names the
   *     file, the line and the reason)
   * @throws IOException if the file cannot be read
   */
  public static IcecastConfig read(Path file) throws IOException {
    return new IcecastXml(file).config(XmlTree.parse(file));
  }

  private IcecastConfig config(Element root) throws ConfigException {
    if (!root.name.equals("icecast")) {
      throw new ConfigException(file, root.line, "the root element is <" + root.name + ">, not <icecast>");
    }
    String hostname = "localhost";
    String location = "Earth";
    String admin = "icemaster@localhost";
    String globalShoutcastMount = null;
    List<ListenSocket> sockets = new ArrayList<>();
    Limits limits = limits(null);
    Authentication auth = authentication(null);
    MountSettings defaults = MountSettings.none();
    List<MountSettings> mounts = new ArrayList<>();
    Map<String, Integer> fallbackLines = new java.util.HashMap<>(); // mount -> its fallback's line
    List<RelaySettings> relays = new ArrayList<>();
    String masterServer = null;
    int masterPort = 8000;
    Duration masterInterval = Duration.ofSeconds(120);
    String masterPassword = null;
    String masterUser = "relay";
    boolean relaysOnDemand = false;
    Paths paths = new Paths(null, null);
    Logging logging = new Logging(null, null, 3);
    Map<String, String> headers = Map.of();
    for (Element e : root.children) {
      switch (e.name) {
        case "hostname" -> hostname = e.text();
        case "location" -> location = e.text();
        case "admin" -> admin = e.text();
        case "shoutcast-mount" -> globalShoutcastMount = mountName(e);
        case "listen-socket" -> {
          ListenSocket ls = listenSocket(e);
          if (ls != null) {
            sockets.add(ls);
          }
        }
        case "limits" -> limits = limits(e);
        case "authentication" -> auth = authentication(e);
        case "mount" -> {
          MountSettings m = mount(e);
          if ("default".equals(e.attributes.get("type"))) {
            defaults = m;
          } else if (m.name() == null) {
            throw new ConfigException(file, e.line, "<mount> without <mount-name>");
          } else {
            mounts.add(m);
            fallbackLines.put(m.name(), lineOf(e, "fallback-mount"));
          }
        }
        case "relay" -> relays.add(relay(e, relaysOnDemand));
        case "master-server" -> masterServer = e.text();
        case "master-server-port" -> masterPort = port(e);
        case "master-update-interval" -> masterInterval = seconds(e);
        case "master-password" -> masterPassword = e.text();
        case "master-username" -> masterUser = e.text();
        case "relays-on-demand" -> relaysOnDemand = bool(e);
        case "paths" -> paths = paths(e);
        case "logging" -> logging = logging(e);
        case "http-headers" -> headers = headers(e);
        default -> unsupported(e, "");
      }
    }
    List<ListenSocket> listen = new ArrayList<>();
    for (ListenSocket s : sockets) { // the global <shoutcast-mount> applies where a socket names none
      listen.add(s.shoutcastMount() != null || globalShoutcastMount == null ? s
          : new ListenSocket(s.port(), s.bindAddress(), globalShoutcastMount));
    }
    if (listen.isEmpty()) {
      throw new ConfigException(file, root.line, "no usable <listen-socket> (one with a <port>)");
    }
    Set<String> names = new LinkedHashSet<>();
    for (MountSettings m : mounts) {
      if (!names.add(m.name())) {
        throw new ConfigException(file, 0, "mount " + m.name() + " is defined twice");
      }
    }
    List<String> loop = new MountTable(defaults, mounts).fallbackLoop();
    if (!loop.isEmpty()) {
      throw new ConfigException(file, fallbackLines.getOrDefault(loop.get(0), 0),
          "the fallback mounts loop: " + String.join(" -> ", loop));
    }
    Optional<Master> master = masterServer == null || masterServer.isEmpty()
        ? Optional.empty()
        : Optional.of(new Master(masterServer, masterPort, masterInterval, masterUser,
            masterPassword, relaysOnDemand));
    return new IcecastConfig(file, hostname, location, admin, List.copyOf(listen), limits, auth,
        defaults, List.copyOf(mounts), List.copyOf(relays), master, paths, logging, headers,
        List.copyOf(unsupported));
  }

  private ListenSocket listenSocket(Element e) throws ConfigException {
    Integer port = null;
    String bind = null;
    String shoutcast = null;
    boolean ssl = false;
    for (Element c : e.children) {
      switch (c.name) {
        case "port" -> port = port(c);
        case "bind-address" -> bind = c.text().isEmpty() ? null : c.text();
        case "shoutcast-mount" -> shoutcast = mountName(c);
        case "ssl" -> ssl = bool(c);
        default -> unsupported(c, "listen-socket/");
      }
    }
    if (ssl) {
      unsupported.add("listen-socket/ssl (port " + port + " skipped: TLS is not supported)");
      return null;
    }
    if (port == null) {
      throw new ConfigException(file, e.line, "<listen-socket> without <port>");
    }
    return new ListenSocket(port, bind, shoutcast);
  }

  private Limits limits(Element e) throws ConfigException {
    int clients = 100;
    int sources = 2;
    int queueSize = 524288;
    Duration client = Duration.ofSeconds(30);
    Duration header = Duration.ofSeconds(15);
    Duration source = Duration.ofSeconds(10);
    boolean burst = true;
    int burstSize = 65535;
    for (Element c : e == null ? List.<Element>of() : e.children) {
      switch (c.name) {
        case "clients" -> clients = count(c);
        case "sources" -> sources = count(c);
        case "queue-size" -> queueSize = count(c);
        case "client-timeout" -> client = seconds(c);
        case "header-timeout" -> header = seconds(c);
        case "source-timeout" -> source = seconds(c);
        case "burst-on-connect" -> burst = bool(c);
        case "burst-size" -> burstSize = count(c);
        default -> unsupported(c, "limits/");
      }
    }
    return new Limits(clients, sources, queueSize, client, header, source, burst, burstSize);
  }

  private Authentication authentication(Element e) {
    String source = null;
    String relayUser = "relay";
    String relay = null;
    String adminUser = null;
    String adminPassword = null;
    for (Element c : e == null ? List.<Element>of() : e.children) {
      switch (c.name) {
        case "source-password" -> source = c.text();
        case "relay-user" -> relayUser = c.text();
        case "relay-password" -> relay = c.text();
        case "admin-user" -> adminUser = c.text();
        case "admin-password" -> adminPassword = c.text();
        default -> unsupported(c, "authentication/");
      }
    }
    return new Authentication(source, relayUser, relay, adminUser, adminPassword);
  }

  /** The line of {@code e}'s first child named {@code child}, else {@code e}'s own. */
  private static int lineOf(Element e, String child) {
    for (Element c : e.children) {
      if (c.name.equals(child)) {
        return c.line;
      }
    }
    return e.line;
  }

  private MountSettings mount(Element e) throws ConfigException {
    String prefix = "mount/";
    Map<String, Element> f = new LinkedHashMap<>();
    Map<String, String> headers = Map.of();
    for (Element c : e.children) {
      switch (c.name) {
        case "mount-name", "username", "password", "max-listeners", "max-listener-duration",
            "fallback-mount", "fallback-override", "fallback-when-full", "hidden", "public",
            "dump-file", "burst-size", "queue-size", "stream-name", "stream-description",
            "stream-url", "genre", "bitrate", "type", "subtype", "charset" -> f.put(c.name, c);
        case "http-headers" -> headers = headers(c);
        default -> unsupported(c, prefix);
      }
    }
    return new MountSettings(
        f.containsKey("mount-name") ? mountName(f.get("mount-name")) : null,
        text(f.get("username")), text(f.get("password")),
        f.containsKey("max-listeners") ? count(f.get("max-listeners")) : null,
        f.containsKey("max-listener-duration") ? seconds(f.get("max-listener-duration")) : null,
        f.containsKey("fallback-mount") ? mountName(f.get("fallback-mount")) : null,
        boolOrNull(f.get("fallback-override")), boolOrNull(f.get("fallback-when-full")),
        boolOrNull(f.get("hidden")), boolOrNull(f.get("public")),
        f.containsKey("dump-file") ? Path.of(f.get("dump-file").text()) : null,
        f.containsKey("burst-size") ? count(f.get("burst-size")) : null,
        f.containsKey("queue-size") ? count(f.get("queue-size")) : null,
        text(f.get("stream-name")), text(f.get("stream-description")), text(f.get("stream-url")),
        text(f.get("genre")),
        f.containsKey("bitrate") ? count(f.get("bitrate")) : null,
        text(f.get("type")), text(f.get("subtype")), text(f.get("charset")), headers);
  }

  /**
   * One {@code <relay>}; {@code onDemandDefault} is the {@code relays-on-demand} read so far, which
   * Icecast 2.4 gives a relay without its own {@code on-demand} (so the file's order matters).
   */
  private RelaySettings relay(Element e, boolean onDemandDefault) throws ConfigException {
    String server = null;
    int port = 8000;
    String mount = "/";
    String local = null;
    String user = null;
    String password = null;
    boolean metadata = true;
    boolean onDemand = onDemandDefault;
    for (Element c : e.children) {
      switch (c.name) {
        case "server" -> server = c.text();
        case "port" -> port = port(c);
        case "mount" -> mount = mountName(c);
        case "local-mount" -> local = mountName(c);
        case "username" -> user = c.text();
        case "password" -> password = c.text();
        case "relay-shoutcast-metadata" -> metadata = bool(c);
        case "on-demand" -> onDemand = bool(c);
        default -> unsupported(c, "relay/");
      }
    }
    if (server == null || server.isEmpty()) {
      throw new ConfigException(file, e.line, "<relay> without <server>");
    }
    return new RelaySettings(server, port, mount, local != null ? local : mount, user, password,
        metadata, onDemand);
  }

  private Paths paths(Element e) {
    Path logdir = null;
    Path pidfile = null;
    for (Element c : e.children) {
      switch (c.name) {
        case "logdir" -> logdir = Path.of(c.text());
        case "pidfile" -> pidfile = Path.of(c.text());
        default -> unsupported(c, "paths/");
      }
    }
    return new Paths(logdir, pidfile);
  }

  private Logging logging(Element e) throws ConfigException {
    String access = null;
    String error = null;
    int level = 3;
    for (Element c : e.children) {
      switch (c.name) {
        case "accesslog" -> access = c.text();
        case "errorlog" -> error = c.text();
        case "loglevel" -> {
          level = count(c);
          if (level < 1 || level > 4) {
            throw new ConfigException(file, c.line, "<loglevel> must be 1 to 4, got " + level);
          }
        }
        default -> unsupported(c, "logging/");
      }
    }
    return new Logging(access, error, level);
  }

  private Map<String, String> headers(Element e) throws ConfigException {
    Map<String, String> headers = new LinkedHashMap<>();
    for (Element c : e.children) {
      if (!c.name.equals("header")) {
        unsupported(c, "http-headers/");
        continue;
      }
      String name = c.attributes.get("name");
      String value = c.attributes.getOrDefault("value", "");
      if (name == null || name.isBlank() || !name.chars().allMatch(ch -> ch > 32 && ch < 127 && ch != ':')) {
        throw new ConfigException(file, c.line, "<header> needs a valid name attribute, got " + name);
      }
      if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
        throw new ConfigException(file, c.line, "<header name=\"" + name + "\"> has a line break in its value");
      }
      headers.put(name, value);
    }
    return Collections.unmodifiableMap(headers);
  }

  private void unsupported(Element e, String parent) {
    unsupported.add(parent + e.name);
  }

  private String mountName(Element e) throws ConfigException {
    String m = e.text();
    if (!m.startsWith("/") || m.contains("..") || m.chars().anyMatch(c -> c <= 32 || c == 127)) {
      throw new ConfigException(file, e.line,
          "<" + e.name + "> must be a path starting with '/', without '..' or spaces, got '" + m + "'");
    }
    return m;
  }

  private static String text(Element e) {
    return e == null ? null : e.text();
  }

  private int port(Element e) throws ConfigException {
    int p = number(e);
    if (p < 1 || p > 65535) {
      throw new ConfigException(file, e.line, "<" + e.name + "> must be a port (1-65535), got " + p);
    }
    return p;
  }

  private int count(Element e) throws ConfigException {
    int n = number(e);
    if (n < 0) {
      throw new ConfigException(file, e.line, "<" + e.name + "> must not be negative, got " + n);
    }
    return n;
  }

  private Duration seconds(Element e) throws ConfigException {
    return Duration.ofSeconds(count(e));
  }

  private int number(Element e) throws ConfigException {
    try {
      return Integer.parseInt(e.text());
    } catch (NumberFormatException x) {
      throw new ConfigException(file, e.line, "<" + e.name + "> must be a whole number, got '" + e.text() + "'");
    }
  }

  private boolean bool(Element e) throws ConfigException {
    return switch (e.text().toLowerCase(Locale.ROOT)) {
      case "1", "true", "yes", "on" -> true;
      case "0", "false", "no", "off" -> false;
      default -> throw new ConfigException(file, e.line,
          "<" + e.name + "> must be 0 or 1 (or true/false, yes/no), got '" + e.text() + "'");
    };
  }

  private Boolean boolOrNull(Element e) throws ConfigException {
    return e == null ? null : bool(e);
  }
}
