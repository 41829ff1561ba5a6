package io.nocopy.relay;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import io.nocopy.relay.config.MountTable;

/**
 * The relay's settings, parsed from the command line ({@link #parse(String...)}) or built in code.
 * Immutable.
 *
 * @param listen the address to accept sources and listeners on
 * @param sourcePassword the password sources send as {@code source:<password>} (Basic auth)
 * @param passwordGenerated whether the password was generated because none was given
 * @param adminUser the user name of the admin pages' credentials ({@code /admin/...})
 * @param adminPassword the admin pages' password
 * @param adminPasswordGenerated whether the admin password was generated because none was given
 * @param maxListeners the most listeners over all mounts (503 beyond)
 * @param maxListenersPerIp the most listeners from one IP address (503 beyond)
 * @param burstSize bytes a new listener gets at once from the recent past of the stream
 * @param queueSize bytes a listener may fall behind before it is disconnected
 * @param engine how bytes are fanned out
 * @param recordDir where each mount is recorded, or null for no recording
 * @param relays upstream mounts to pull and serve locally (cascading)
 * @param memoryCap the byte cap of the relay's pooled memory
 * @param headerTimeout how long a client may take to send its request head (slowloris guard)
 * @param sourceTimeout how long a source may send nothing before it is dropped and its mount freed
 * @param clientTimeout how long a listener may take no byte while bytes wait for it before it is
 *     dropped
 * @param maxConnections the most connections open at once (sources, listeners, requests); new
 *     ones beyond are closed at once
 * @param maxPendingPerIp the most connections from one address that are still sending their
 *     request head; new ones beyond are closed at once
 * @param statusInterval how often the status line is printed, or zero for never
 * @param coalesce how long a quiet source's bytes may gather before they are moved on
 * @param icyMetaint audio bytes between two ICY metadata blocks for listeners that ask for them
 * @param relayMetadata whether a cascaded mount asks its upstream for ICY metadata and re-announces
 *     its titles
 * @param mounts per-mount settings (an icecast.xml's {@code <mount>} elements); empty from flags
 */
public record RelayConfig(
    InetSocketAddress listen,
    String sourcePassword,
    boolean passwordGenerated,
    String adminUser,
    String adminPassword,
    boolean adminPasswordGenerated,
    int maxListeners,
    int maxListenersPerIp,
    int burstSize,
    int queueSize,
    Engine engine,
    Path recordDir,
    List<URI> relays,
    long memoryCap,
    Duration headerTimeout,
    Duration sourceTimeout,
    Duration clientTimeout,
    int maxConnections,
    int maxPendingPerIp,
    Duration statusInterval,
    Duration coalesce,
    int icyMetaint,
    boolean relayMetadata,
    MountTable mounts) {

  /** How a mount's bytes reach its listeners. */
  public enum Engine {
    /** splice where the platform allows it, userspace otherwise. */
    AUTO,
    /** source socket -> pipe -> tee into each listener's pipe -> splice to its socket. */
    SPLICE,
    /** one read into pooled memory, the same slice written to every listener. */
    USERSPACE
  }

  /** Validates the settings. */
  public RelayConfig {
    if (sourcePassword == null || sourcePassword.isEmpty()) {
      throw new IllegalArgumentException("source password is empty");
    }
    if (adminUser == null || adminUser.isEmpty() || adminUser.indexOf(':') >= 0) {
      throw new IllegalArgumentException("--admin-user must be non-empty and without ':'");
    }
    if (adminPassword == null || adminPassword.isEmpty()) {
      throw new IllegalArgumentException("admin password is empty");
    }
    seconds("--header-timeout", headerTimeout);
    seconds("--source-timeout", sourceTimeout);
    seconds("--client-timeout", clientTimeout);
    positive("--max-connections", maxConnections);
    positive("--max-pending-per-ip", maxPendingPerIp);
    positive("--max-listeners", maxListeners);
    positive("--max-listeners-per-ip", maxListenersPerIp);
    if (burstSize < 0) {
      throw new IllegalArgumentException("--burst-size must be >= 0, got " + burstSize);
    }
    positive("--queue-size", queueSize);
    positive("--icy-metaint", icyMetaint);
    if (burstSize > queueSize) {
      throw new IllegalArgumentException("--burst-size (" + burstSize + ") must not exceed --queue-size ("
          + queueSize + "): a new listener would be dropped at once");
    }
    if (memoryCap < (1 << 20)) {
      throw new IllegalArgumentException("--memory-cap must be at least 1 MiB, got " + memoryCap);
    }
    relays = List.copyOf(relays);
    java.util.Objects.requireNonNull(mounts, "mounts");
    if (coalesce.isNegative() || coalesce.toMillis() > 1000) {
      throw new IllegalArgumentException("--coalesce-ms must be 0..1000, got " + coalesce.toMillis());
    }
  }

  private static void seconds(String name, Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be at least 1 second, got " + d.toSeconds());
    }
  }

  private static void positive(String name, long v) {
    if (v <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + v);
    }
  }

  /** The usage text of {@code ./nocopy relay --help}. */
  public static final String HELP =
      """
      usage: ./nocopy relay [options]

      An Icecast-compatible stream relay. Sources publish with PUT or SOURCE (ffmpeg, ezstream,
      libshout, butt); listeners GET the mount with any player (curl, mpv, ffplay, VLC).

        --listen HOST:PORT         where to listen (default 127.0.0.1:8000)
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
        --burst-size BYTES         recent stream bytes a new listener gets at once (default 64k)
        --queue-size BYTES         how far a listener may fall behind before it is dropped (default 512k)
        --engine auto|splice|userspace
                                   fan-out engine (default auto: splice where available)
        --record-dir DIR           record each mount to DIR/<mount>-<UTC time>.<ext>
        --relay URL                pull a mount from another relay or Icecast server and serve it
                                   here under the same name (repeatable)
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
        --coalesce-ms N            let a quiet source's bytes gather up to N ms before moving them
                                   on: far fewer system calls per byte for packet-paced streams,
                                   at most N ms more latency; 0 moves every packet (default 50)
        --icy-metaint BYTES        audio bytes between ICY metadata blocks (default 16000)
        --relay-metadata 0|1       cascaded mounts ask their upstream for ICY titles (default 0)
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
    InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 8000);
    String password = null;
    String passwordFile = null;
    String adminUser = "admin";
    String adminPassword = null;
    String adminPasswordFile = null;
    Duration sourceTimeout = Duration.ofSeconds(10);
    Duration clientTimeout = Duration.ofSeconds(30);
    Integer maxConnections = null; // derived from the open-file limit unless given
    int pendingPerIp = 64;
    int maxListeners = 1000;
    int perIp = 100;
    int burst = 64 * 1024;
    int queue = 512 * 1024;
    Engine engine = Engine.AUTO;
    Path recordDir = null;
    List<URI> relays = new ArrayList<>();
    long memoryCap = 256L << 20;
    Duration headerTimeout = Duration.ofSeconds(15);
    Duration status = Duration.ofSeconds(1);
    Duration coalesce = Duration.ofMillis(50);
    int metaint = 16000;
    boolean relayMetadata = false;
    List<Flags.Flag> flags = Flags.split(args);
    if (flags == null) {
      throw new HelpRequested();
    }
    for (Flags.Flag f : flags) {
      String flag = f.name();
      switch (flag) {
        case "--listen" -> listen = parseAddress(f.required());
        case "--source-password" -> password = f.required();
        case "--source-password-file" -> passwordFile = f.required();
        case "--admin-user" -> adminUser = f.required();
        case "--admin-password" -> adminPassword = f.required();
        case "--admin-password-file" -> adminPasswordFile = f.required();
        case "--source-timeout" -> sourceTimeout = Duration.ofSeconds(parseInt(flag, f.required()));
        case "--client-timeout" -> clientTimeout = Duration.ofSeconds(parseInt(flag, f.required()));
        case "--max-connections" -> maxConnections = parseInt(flag, f.required());
        case "--max-pending-per-ip" -> pendingPerIp = parseInt(flag, f.required());
        case "--max-listeners" -> maxListeners = parseInt(flag, f.required());
        case "--max-listeners-per-ip" -> perIp = parseInt(flag, f.required());
        case "--burst-size" -> burst = (int) Math.min(Integer.MAX_VALUE, parseSize(flag, f.required()));
        case "--queue-size" -> queue = (int) Math.min(Integer.MAX_VALUE, parseSize(flag, f.required()));
        case "--engine" -> engine = parseEngine(f.required());
        case "--record-dir" -> recordDir = Path.of(f.required());
        case "--relay" -> relays.add(parseRelay(f.required()));
        case "--memory-cap" -> memoryCap = parseSize(flag, f.required());
        case "--header-timeout" -> headerTimeout = Duration.ofSeconds(parseInt(flag, f.required()));
        case "--status-interval" -> status = Duration.ofSeconds(parseInt(flag, f.required()));
        case "--coalesce-ms" -> coalesce = Duration.ofMillis(parseInt(flag, f.required()));
        case "--icy-metaint" -> metaint = parseInt(flag, f.required());
        case "--relay-metadata" -> relayMetadata = parseInt(flag, f.required()) != 0;
        default -> throw f.unknown();
      }
    }
    password = secret("--source-password", password, passwordFile, env.get("NOCOPY_SOURCE_PASSWORD"));
    adminPassword = secret("--admin-password", adminPassword, adminPasswordFile,
        env.get("NOCOPY_ADMIN_PASSWORD"));
    boolean generated = password == null;
    if (generated) {
      password = generatePassword();
    }
    boolean adminGenerated = adminPassword == null;
    if (adminGenerated) {
      adminPassword = generatePassword();
    }
    if (maxConnections == null) {
      maxConnections = defaultMaxConnections(openFileLimit());
    }
    return new RelayConfig(listen, password, generated, adminUser, adminPassword, adminGenerated,
        maxListeners, perIp, burst, queue, engine, recordDir, relays, memoryCap, headerTimeout,
        sourceTimeout, clientTimeout, maxConnections, pendingPerIp, status, coalesce, metaint,
        relayMetadata, MountTable.empty());
  }

  /**
   * The default {@code --max-connections} for an open-file limit: half of it, less a reserve for
   * the process's own files. Half, because a listener on the kernel transport holds its socket and
   * a pipe's two ends; a connection still sending its head holds one descriptor.
   *
   * @param openFileLimit the process's soft {@code RLIMIT_NOFILE}
   * @return the cap, at least 16
   */
  static int defaultMaxConnections(long openFileLimit) {
    return (int) Math.max(16, Math.min(Integer.MAX_VALUE, (openFileLimit - 64) / 2));
  }

  /** The process's open-file limit (the JVM raises the soft limit to the hard one), or 1024. */
  static long openFileLimit() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      long max = unix.getMaxFileDescriptorCount();
      if (max > 0) {
        return max;
      }
    }
    return 1024;
  }

  private static String generatePassword() {
    byte[] b = new byte[9];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
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

  /**
   * A copy with another listen address (tests bind port 0).
   *
   * @param address where the copy listens
   * @return the copy
   */
  public RelayConfig withListen(InetSocketAddress address) {
    return new RelayConfig(address, sourcePassword, passwordGenerated, adminUser, adminPassword,
        adminPasswordGenerated, maxListeners, maxListenersPerIp, burstSize, queueSize, engine,
        recordDir, relays, memoryCap, headerTimeout, sourceTimeout, clientTimeout, maxConnections,
        maxPendingPerIp, statusInterval, coalesce, icyMetaint, relayMetadata, mounts);
  }

  /**
   * A copy with other per-mount settings.
   *
   * @param table the copy's per-mount settings
   * @return the copy
   */
  public RelayConfig withMounts(MountTable table) {
    return new RelayConfig(listen, sourcePassword, passwordGenerated, adminUser, adminPassword,
        adminPasswordGenerated, maxListeners, maxListenersPerIp, burstSize, queueSize, engine,
        recordDir, relays, memoryCap, headerTimeout, sourceTimeout, clientTimeout, maxConnections,
        maxPendingPerIp, statusInterval, coalesce, icyMetaint, relayMetadata, table);
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

  static Engine parseEngine(String v) {
    try {
      return Engine.valueOf(v.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--engine wants auto, splice or userspace, got '" + v + "'");
    }
  }

  static URI parseRelay(String v) {
    URI u;
    try {
      u = URI.create(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--relay wants http://host:port/mount, got '" + v + "'");
    }
    if (!"http".equalsIgnoreCase(u.getScheme()) || u.getHost() == null || u.getPath() == null
        || u.getPath().length() < 2) {
      throw new IllegalArgumentException("--relay wants http://host:port/mount, got '" + v + "'");
    }
    return u;
  }
}
