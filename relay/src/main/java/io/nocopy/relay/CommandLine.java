package io.nocopy.relay;

import io.nocopy.relay.RelayConfig.Coalescing;
import io.nocopy.relay.RelayConfig.Engine;
import io.nocopy.relay.RelayConfig.IoUring;
import io.nocopy.relay.config.IcecastConfig.RelaySettings;
import io.nocopy.relay.config.LogSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./nocopy relay}'s command line as {@link RelayConfig}: the flags ({@link #parse}), their
 * usage text ({@link #HELP}) and the parsers of their values. {@code --config FILE} is read first
 * through {@link ConfigFile}, then every other flag is applied over what the file says, and the
 * result is checked by {@link RelayConfig.Builder#build()}. Stateless.
 */
public final class CommandLine {
  private CommandLine() {}

  /** The usage text of {@code ./nocopy relay --help}. */
  public static final String HELP =
      """
      usage: ./nocopy relay [options]

      An Icecast-compatible stream relay. Sources publish with PUT or SOURCE (ffmpeg, ezstream,
      libshout, butt); listeners GET the mount with any player (curl, mpv, ffplay, VLC).

        --config FILE              run from an Icecast 2.4 icecast.xml (listen sockets, limits,
                                   passwords, mounts, relays, paths, logging); every other flag
                                   given overrides what the file says. SIGHUP reloads it.
        --listen HOST:PORT         where to listen (default 127.0.0.1:8000; with --config it
                                   replaces the file's first <listen-socket>)
        --source-password PW       password sources use as source:PW (default: generated, printed;
                                   note that every local user sees flags in ps)
        --source-password-file F   read the source password from file F (its first line)
                                   (or set NOCOPY_SOURCE_PASSWORD in the environment)
        --admin-user NAME          user of the /admin/ pages' credentials (default admin)
        --admin-password PW        their password (default: generated, printed)
        --admin-password-file F    read the admin password from file F (its first line)
                                   (or set NOCOPY_ADMIN_PASSWORD in the environment)
        --max-listeners N          listeners over all mounts, 503 beyond (default 1000)
        --max-listeners-per-ip N   listeners from one address, 503 beyond (default 100)
        --max-clients N            clients at once (listeners, sources, page requests), 403
                                   beyond as Icecast's <clients> (default: no limit)
        --max-sources N            sources at once, 403 beyond (default: no limit)
        --pidfile FILE             write the process id to FILE while running
        --burst-size BYTES         recent stream bytes a new listener gets at once (default 64k)
        --queue-size BYTES         how far a listener may fall behind before it is dropped (default 512k)
        --engine auto|splice|userspace
                                   fan-out engine (default auto: userspace with io_uring where
                                   io_uring works, else splice where available, else userspace)
        --io-uring auto|on|off     the userspace engine sends a chunk to every idle listener with
                                   one io_uring submission instead of one system call each
                                   (default auto: where io_uring works; the relay says once why
                                   it is off)
        --record-dir DIR           record each mount to DIR/<mount>-<UTC time>.<ext>
        --relay URL                pull a mount from another relay or Icecast server and serve it
                                   here under the same name (repeatable); http://USER:PW@HOST:PORT/M
                                   logs in to the upstream with those credentials
        --memory-cap BYTES         cap on pooled memory (default 256m)
        --header-timeout SECONDS   time allowed to send a request head (default 15)
        --source-timeout SECONDS   a source that sends nothing this long is dropped and its mount
                                   freed (default 10)
        --client-timeout SECONDS   a listener that takes no byte this long while bytes wait for
                                   it is dropped (default 30)
        --max-connections N        connections open at once, new ones beyond are closed (default:
                                   half the open-file limit)
        --max-pending-per-ip N     connections from one address still sending their request head,
                                   new ones beyond are closed (default 64)
        --status-interval SECONDS  status line period, 0 for none (default 1)
        --coalesce-ms auto|N       let a quiet source's bytes gather before moving them on: far
                                   fewer system calls per byte for packet-paced streams. auto
                                   (default): per mount, the time its bitrate takes to bring
                                   16 KiB, between 50 ms and half of --max-latency-ms; N: N ms;
                                   0 moves every packet at once
        --max-latency-ms N         the most latency auto coalescing may add: its window is at
                                   most N/2 ms (default 250)
        --icy-metaint BYTES        audio bytes between ICY metadata blocks (default 16000)
        --relay-metadata 0|1       --relay mounts ask their upstream for ICY titles (default 1)
        --master URL               be a slave of the Icecast or nocopy server at
                                   http://USER:PW@HOST:PORT: relay every mount its
                                   /admin/streamlist.txt lists (USER:PW its relay login)
        --master-interval SECONDS  how often to ask the master for its mounts (default 120)
        --relay-user NAME          the user slaves of this server log in as (default relay)
        --relay-password PW        their password: serves /admin/streamlist.txt to slaves
                                   (default: none, no slave may log in)
        --log-dir DIR              where --access-log and --error-log are (default: working dir)
        --access-log FILE          one line per request in Icecast's (Apache combined) format,
                                   reopened on SIGHUP (default: none)
        --error-log FILE           the relay's log in Icecast's error-log format, reopened on
                                   SIGHUP (default: standard error)
        --log-level 1..4           1 error, 2 warn, 3 info, 4 debug (default 3)
        --help                     this text

      Sizes take k, m, g suffixes (powers of 1024). Publish, for example:
        ffmpeg -re -i music.mp3 -c copy -f mp3 icecast://source:PW@127.0.0.1:8000/live.mp3
      and listen:
        curl -o out.mp3 http://127.0.0.1:8000/live.mp3     (or: mpv http://127.0.0.1:8000/live.mp3)
      Status as Icecast's JSON: http://127.0.0.1:8000/status-json.xsl
      """;

  /** Thrown for {@code --help}: the caller prints {@link #HELP} and exits 0. */
  public static final class HelpRequested extends Exception {
    private static final long serialVersionUID = 1L;

    HelpRequested() {
      super("help requested", null, false, false);
    }
  }

  /**
   * Parses command-line flags.
   *
   * @param args the arguments after {@code relay}
   * @return the settings
   * @throws HelpRequested if {@code --help} was given
   * @throws IllegalArgumentException naming the flag, for anything malformed
   */
  public static RelayConfig parse(String... args) throws HelpRequested {
    return parse(System.getenv(), args);
  }

  /**
   * Parses command-line flags, with passwords also taken from {@code env} ({@code
   * NOCOPY_SOURCE_PASSWORD}, {@code NOCOPY_ADMIN_PASSWORD}) when no flag gives them.
   *
   * @param env the environment to read passwords from
   * @param args the arguments after {@code relay}
   * @return the settings
   * @throws HelpRequested if {@code --help} was given
   * @throws IllegalArgumentException naming the flag, for anything malformed or a password file
   *     that cannot be read
   */
  public static RelayConfig parse(Map<String, String> env, String... args) throws HelpRequested {
    RelayConfig.Builder b = RelayConfig.builder();
    String password = null;
    String passwordFile = null;
    String adminPassword = null;
    String adminPasswordFile = null;
    List<RelaySettings> relays = new ArrayList<>();
    boolean relayMetadata = true;
    String relayUser = null;
    String relayPassword = null;
    URI master = null;
    Duration masterInterval = null;
    List<Flags.Flag> flags = Flags.split(args);
    if (flags == null) {
      throw new HelpRequested();
    }
    for (Flags.Flag f : flags) { // the file first, whatever the flags' order: flags override it
      if (f.name().equals("--config")) {
        ConfigFile.apply(ConfigFile.read(Path.of(f.required())), b);
      }
    }
    for (Flags.Flag f : flags) {
      String flag = f.name();
      switch (flag) {
        case "--config" -> { } // read above
        case "--listen" -> b.listen = parseAddress(f.required());
        case "--source-password" -> password = f.required();
        case "--source-password-file" -> passwordFile = f.required();
        case "--admin-user" -> b.adminUser = f.required();
        case "--admin-password" -> adminPassword = f.required();
        case "--admin-password-file" -> adminPasswordFile = f.required();
        case "--max-clients" -> b.maxClients = parseInt(flag, f.required());
        case "--max-sources" -> b.maxSources = parseInt(flag, f.required());
        case "--pidfile" -> b.pidFile = Path.of(f.required());
        case "--source-timeout" -> b.sourceTimeout = Duration.ofSeconds(parseInt(flag, f.required()));
        case "--client-timeout" -> b.clientTimeout = Duration.ofSeconds(parseInt(flag, f.required()));
        case "--max-connections" -> b.maxConnections = parseInt(flag, f.required());
        case "--max-pending-per-ip" -> b.maxPendingPerIp = parseInt(flag, f.required());
        case "--max-listeners" -> b.maxListeners = parseInt(flag, f.required());
        case "--max-listeners-per-ip" -> b.maxListenersPerIp = parseInt(flag, f.required());
        case "--burst-size" -> b.burstSize = (int) Math.min(Integer.MAX_VALUE, parseSize(flag, f.required()));
        case "--queue-size" -> b.queueSize = (int) Math.min(Integer.MAX_VALUE, parseSize(flag, f.required()));
        case "--engine" -> b.engine = parseEngine(f.required());
        case "--io-uring" -> b.ioUring = parseIoUring(f.required());
        case "--record-dir" -> b.recordDir = Path.of(f.required());
        case "--relay" -> relays.add(RelayFlags.relay(f.required()));
        case "--memory-cap" -> b.memoryCap = parseSize(flag, f.required());
        case "--header-timeout" -> b.headerTimeout = Duration.ofSeconds(parseInt(flag, f.required()));
        case "--status-interval" -> b.statusInterval = Duration.ofSeconds(parseInt(flag, f.required()));
        case "--coalesce-ms" -> b.coalesce = parseCoalescing(flag, f.required());
        case "--max-latency-ms" -> b.maxLatency = Duration.ofMillis(parseInt(flag, f.required()));
        case "--icy-metaint" -> b.icyMetaint = parseInt(flag, f.required());
        case "--relay-metadata" -> relayMetadata = parseInt(flag, f.required()) != 0;
        case "--master" -> master = RelayFlags.master(f.required());
        case "--master-interval" -> masterInterval = Duration.ofSeconds(parseInt(flag, f.required()));
        case "--relay-user" -> relayUser = f.required();
        case "--relay-password" -> relayPassword = f.required();
        case "--log-dir" -> b.logs = new LogSettings(Path.of(f.required()), b.logs.accessLog(),
            b.logs.errorLog(), b.logs.level());
        case "--access-log" -> b.logs = new LogSettings(b.logs.dir(), f.required(), b.logs.errorLog(),
            b.logs.level());
        case "--error-log" -> b.logs = new LogSettings(b.logs.dir(), b.logs.accessLog(), f.required(),
            b.logs.level());
        case "--log-level" -> b.logs = b.logs.withLevel(parseLogLevel(f.required()));
        default -> throw f.unknown();
      }
    }
    b.relaying = RelayFlags.relaying(b.relaying, relays, relayMetadata, relayUser, relayPassword, master,
        masterInterval);
    // a password from a flag, its file or the environment wins over the file's
    String source = secret("--source-password", password, passwordFile, env.get("NOCOPY_SOURCE_PASSWORD"));
    if (source != null) {
      b.sourcePassword = source;
    }
    String admin = secret("--admin-password", adminPassword, adminPasswordFile,
        env.get("NOCOPY_ADMIN_PASSWORD"));
    if (admin != null) {
      b.adminPassword = admin;
    }
    if (b.configFile == null) {
      return b.build();
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) { // a value the file gave, or a flag over it
      throw new IllegalArgumentException(b.configFile + " with the flags given: " + e.getMessage(), e);
    }
  }

  /**
   * A password from its flag, its file flag or the environment, in that order; giving both the
   * flag and the file is an error.
   *
   * @return the password, or null if none was given
   */
  static String secret(String flag, String value, String file, String fromEnv) {
    if (value != null && file != null) {
      throw new IllegalArgumentException(flag + " and " + flag + "-file are both given: choose one");
    }
    if (file != null) {
      String v;
      try {
        v = Files.readString(Path.of(file), StandardCharsets.UTF_8);
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException(flag + "-file: cannot read '" + file + "': " + e.getMessage());
      }
      int eol = v.indexOf('\n');
      v = eol < 0 ? v : v.substring(0, eol);
      v = v.endsWith("\r") ? v.substring(0, v.length() - 1) : v;
      if (v.isEmpty()) {
        throw new IllegalArgumentException(flag + "-file: the first line of '" + file + "' is empty");
      }
      return v;
    }
    if (value != null) {
      return value;
    }
    return fromEnv == null || fromEnv.isEmpty() ? null : fromEnv;
  }

  static InetSocketAddress parseAddress(String v) {
    int colon = v.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("--listen wants HOST:PORT, got '" + v + "'");
    }
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = parseInt("--listen port", v.substring(colon + 1));
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--listen port out of range: " + port);
    }
    return new InetSocketAddress(host.isEmpty() ? "0.0.0.0" : host, port);
  }

  /** Parses {@code auto} or a window in whole milliseconds. */
  static Coalescing parseCoalescing(String flag, String v) {
    return v.trim().equalsIgnoreCase("auto")
        ? Coalescing.AUTO
        : Coalescing.fixed(Duration.ofMillis(parseInt(flag, v)));
  }

  static int parseInt(String flag, String v) {
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " wants a whole number, got '" + v + "'");
    }
  }

  /** Parses "65536", "64k", "64KiB", "1m", "2g". */
  static long parseSize(String flag, String v) {
    String s = v.trim().toLowerCase(Locale.ROOT);
    if (s.endsWith("ib")) {
      s = s.substring(0, s.length() - 2);
    } else if (s.endsWith("b")) {
      s = s.substring(0, s.length() - 1);
    }
    long mult = 1;
    if (!s.isEmpty()) {
      switch (s.charAt(s.length() - 1)) {
        case 'k' -> mult = 1L << 10;
        case 'm' -> mult = 1L << 20;
        case 'g' -> mult = 1L << 30;
        default -> mult = 1;
      }
      if (mult != 1) {
        s = s.substring(0, s.length() - 1);
      }
    }
    try {
      long n = Long.parseLong(s.trim());
      if (n < 0 || n > Long.MAX_VALUE / mult) {
        throw new NumberFormatException();
      }
      return n * mult;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " wants a size like 65536, 64k or 1m, got '" + v + "'");
    }
  }

  /** A log level: 1..4, or Icecast's names of them (error, warn, info, debug). */
  static int parseLogLevel(String v) {
    return switch (v.trim().toLowerCase(Locale.ROOT)) {
      case "1", "error" -> 1;
      case "2", "warn" -> 2;
      case "3", "info" -> 3;
      case "4", "debug" -> 4;
      default -> throw new IllegalArgumentException("--log-level wants 1 (error), 2 (warn), 3 (info) or 4"
          + " (debug), got '" + v + "'");
    };
  }

  static IoUring parseIoUring(String v) {
    try {
      return IoUring.valueOf(v.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--io-uring wants auto, on or off, got '" + v + "'");
    }
  }

  static Engine parseEngine(String v) {
    try {
      return Engine.valueOf(v.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--engine wants auto, splice or userspace, got '" + v + "'");
    }
  }
}
