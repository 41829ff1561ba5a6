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
import io.nocopy.relay.config.LogSettings;
import io.nocopy.relay.config.MountTable;
import io.nocopy.relay.config.IcecastConfig.RelaySettings;
import io.nocopy.relay.config.Relaying;
import io.nocopy.relay.config.Station;

/**
 * The relay's settings, parsed from the command line ({@link #parse(String...)}) or built in code.
 * Immutable.
 *
 * @param listen the address to accept sources and listeners on
 * @param extraSockets further sockets to accept on (an icecast.xml's second and later {@code
 *     <listen-socket>}s, and the SHOUTcast source socket a {@code <shoutcast-mount>} opens)
 * @param sourcePassword the password sources send as {@code source:<password>} (Basic auth)
 * @param passwordGenerated whether the password was generated because none was given
 * @param adminUser the user name of the admin pages' credentials ({@code /admin/...})
 * @param adminPassword the admin pages' password
 * @param adminPasswordGenerated whether the admin password was generated because none was given
 * @param maxListeners the most listeners over all mounts (503 beyond)
 * @param maxListenersPerIp the most listeners from one IP address (503 beyond)
 * @param maxClients the most clients at once whose request head has arrived (listeners, sources,
 *     page requests), Icecast's {@code <clients>}: 403 {@code Icecast connection limit reached}
 *     beyond
 * @param maxSources the most sources at once, Icecast's {@code <sources>}: 403 {@code too many
 *     sources connected} beyond
 * @param burstSize bytes a new listener gets at once from the recent past of the stream
 * @param queueSize bytes a listener may fall behind before it is disconnected
 * @param engine how bytes are fanned out
 * @param ioUring whether the userspace engine sends a chunk to every idle listener with one
 *     io_uring submission
 * @param recordDir where each mount is recorded, or null for no recording
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
 * @param coalesce how long a quiet source's bytes may gather before they are moved on: a fixed
 *     window, or one chosen for each mount's bitrate ({@link Coalescing})
 * @param maxLatency the most latency coalescing may add: an adaptive window is at most half of it
 * @param icyMetaint audio bytes between two ICY metadata blocks for listeners that ask for them
 * @param mounts per-mount settings (an icecast.xml's {@code <mount>} elements); empty from flags
 * @param station what the server says about itself (host name, location, admin contact, headers)
 * @param logs where the relay logs
 * @param relaying mounts pulled from other servers, a master, and the login of this server's slaves
 * @param pidFile where the process id is written at start (removed at a clean stop), or null
 * @param configFile the icecast.xml the settings came from, or null when they came from flags only
 *
 * <p>Build one with {@link #builder()} (defaults as {@code ./nocopy relay} with no flags) or
 * {@link #parse(String...)}; change a copy with {@link #toBuilder()}.
 */
public record RelayConfig(
    InetSocketAddress listen,
    List<ListenSocket> extraSockets,
    String sourcePassword,
    boolean passwordGenerated,
    String adminUser,
    String adminPassword,
    boolean adminPasswordGenerated,
    int maxListeners,
    int maxListenersPerIp,
    int maxClients,
    int maxSources,
    int burstSize,
    int queueSize,
    Engine engine,
    IoUring ioUring,
    Path recordDir,
    long memoryCap,
    Duration headerTimeout,
    Duration sourceTimeout,
    Duration clientTimeout,
    int maxConnections,
    int maxPendingPerIp,
    Duration statusInterval,
    Coalescing coalesce,
    Duration maxLatency,
    int icyMetaint,
    MountTable mounts,
    Station station,
    LogSettings logs,
    Relaying relaying,
    Path pidFile,
    Path configFile) {

  /**
   * How long a quiet source's bytes gather before they are moved on ({@code --coalesce-ms}).
   *
   * @param auto true: the window is chosen per mount from its measured bitrate, aiming for {@link
   *     #AUTO_BYTES} per send, between {@link #AUTO_LEAST} and half of {@code --max-latency-ms}
   * @param window the fixed window when not {@code auto} (zero: every packet moves at once)
   */
  public record Coalescing(boolean auto, Duration window) {
    /** The bytes an adaptive window aims to move per send. */
    public static final int AUTO_BYTES = 16 << 10;
    /** The shortest adaptive window (the most a tiny ceiling allows, if that is less). */
    public static final Duration AUTO_LEAST = Duration.ofMillis(50);
    /** The default: adaptive. */
    public static final Coalescing AUTO = new Coalescing(true, Duration.ZERO);

    /** Checks the window. */
    public Coalescing {
      if (window.isNegative() || window.toMillis() > 1000) {
        throw new IllegalArgumentException("--coalesce-ms must be auto or 0..1000, got " + window.toMillis());
      }
    }

    /**
     * A fixed window.
     *
     * @param window 0..1000 ms
     * @return the setting
     */
    public static Coalescing fixed(Duration window) {
      return new Coalescing(false, window);
    }

    /**
     * The most an adaptive window may be under a latency ceiling: half of it (the rest is for the
     * step itself and the listener's network), at most one second.
     *
     * @param maxLatency the ceiling
     * @return the longest window
     */
    public static Duration most(Duration maxLatency) {
      Duration half = maxLatency.dividedBy(2);
      return half.compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1) : half;
    }

    /**
     * The shortest adaptive window under a ceiling: {@link #AUTO_LEAST}, or the longest if less.
     *
     * @param maxLatency the ceiling
     * @return the shortest window
     */
    public static Duration least(Duration maxLatency) {
      Duration most = most(maxLatency);
      return most.compareTo(AUTO_LEAST) < 0 ? most : AUTO_LEAST;
    }

    @Override
    public String toString() {
      return auto ? "auto" : Long.toString(window.toMillis());
    }
  }

  /**
   * A socket to accept connections on besides {@link #listen()}.
   *
   * @param address the address to bind
   * @param shoutcastMount null for an ordinary socket (HTTP sources, listeners, pages); otherwise
   *     the socket takes SHOUTcast v1 sources (a password line, then {@code icy-*} headers) that
   *     publish to this mount
   */
  public record ListenSocket(InetSocketAddress address, String shoutcastMount) {
    /** Checks the address. */
    public ListenSocket {
      java.util.Objects.requireNonNull(address, "address");
    }
  }

  /** How a mount's bytes reach its listeners. */
  public enum Engine {
    /**
     * The userspace engine with io_uring sends where io_uring works and {@code --io-uring} is not
     * off (the cheapest per delivered byte), else splice where the platform allows it, else
     * userspace.
     */
    AUTO,
    /** source socket -> pipe -> tee into each listener's pipe -> splice to its socket. */
    SPLICE,
    /** one read into pooled memory, the same slice written to every listener. */
    USERSPACE
  }

  /** Whether the userspace engine batches its sends through io_uring ({@code --io-uring}). */
  public enum IoUring {
    /** Where io_uring works (the reason it does not is logged once). */
    AUTO,
    /** Always; the relay does not start where io_uring does not work. */
    ON,
    /** Never: one system call per listener and chunk. */
    OFF
  }

  /** Validates the settings. */
  public RelayConfig {
    java.util.Objects.requireNonNull(ioUring, "ioUring");
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
    positive("--max-clients", maxClients);
    positive("--max-sources", maxSources);
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
    extraSockets = List.copyOf(extraSockets);
    java.util.Objects.requireNonNull(mounts, "mounts");
    java.util.Objects.requireNonNull(station, "station");
    java.util.Objects.requireNonNull(logs, "logs");
    java.util.Objects.requireNonNull(relaying, "relaying");
    java.util.Objects.requireNonNull(coalesce, "coalesce");
    if (maxLatency.toMillis() < 2 || maxLatency.toMillis() > 60_000) {
      throw new IllegalArgumentException("--max-latency-ms must be 2..60000, got " + maxLatency.toMillis());
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
    Builder b = builder();
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
        case "--log-level" -> b.logs = new LogSettings(b.logs.dir(), b.logs.accessLog(), b.logs.errorLog(),
            parseLogLevel(f.required()));
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
   * A builder holding the defaults of {@code ./nocopy relay} without flags.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder holding these settings, to change some of them in a copy.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.listen = listen;
    b.extraSockets = new ArrayList<>(extraSockets);
    b.sourcePassword = passwordGenerated ? null : sourcePassword;
    b.generatedSourcePassword = passwordGenerated ? sourcePassword : null;
    b.adminUser = adminUser;
    b.adminPassword = adminPasswordGenerated ? null : adminPassword;
    b.generatedAdminPassword = adminPasswordGenerated ? adminPassword : null;
    b.maxListeners = maxListeners;
    b.maxListenersPerIp = maxListenersPerIp;
    b.maxClients = maxClients;
    b.maxSources = maxSources;
    b.burstSize = burstSize;
    b.queueSize = queueSize;
    b.engine = engine;
    b.ioUring = ioUring;
    b.recordDir = recordDir;
    b.memoryCap = memoryCap;
    b.headerTimeout = headerTimeout;
    b.sourceTimeout = sourceTimeout;
    b.clientTimeout = clientTimeout;
    b.maxConnections = maxConnections;
    b.maxPendingPerIp = maxPendingPerIp;
    b.statusInterval = statusInterval;
    b.coalesce = coalesce;
    b.maxLatency = maxLatency;
    b.icyMetaint = icyMetaint;
    b.mounts = mounts;
    b.station = station;
    b.logs = logs;
    b.relaying = relaying;
    b.pidFile = pidFile;
    b.configFile = configFile;
    return b;
  }

  /**
   * Settings being put together: public fields holding the defaults of {@code ./nocopy relay}
   * without flags, set in any order, then {@link #build()} checks them. Not thread-safe; one
   * builder per configuration being made.
   */
  public static final class Builder {
    /** See {@link RelayConfig#listen()}. */
    public InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 8000);
    /** See {@link RelayConfig#extraSockets()}. */
    public List<ListenSocket> extraSockets = new ArrayList<>();
    /** The source password, or null to generate one. */
    public String sourcePassword;
    private String generatedSourcePassword;
    /** See {@link RelayConfig#adminUser()}. */
    public String adminUser = "admin";
    /** The admin password, or null to generate one. */
    public String adminPassword;
    private String generatedAdminPassword;
    /** See {@link RelayConfig#maxListeners()}. */
    public int maxListeners = 1000;
    /** See {@link RelayConfig#maxListenersPerIp()}. */
    public int maxListenersPerIp = 100;
    /** See {@link RelayConfig#maxClients()}. */
    public int maxClients = Integer.MAX_VALUE;
    /** See {@link RelayConfig#maxSources()}. */
    public int maxSources = Integer.MAX_VALUE;
    /** See {@link RelayConfig#burstSize()}. */
    public int burstSize = 64 * 1024;
    /** See {@link RelayConfig#queueSize()}. */
    public int queueSize = 512 * 1024;
    /** See {@link RelayConfig#engine()}. */
    public Engine engine = Engine.AUTO;
    /** See {@link RelayConfig#ioUring()}. */
    public IoUring ioUring = IoUring.AUTO;
    /** See {@link RelayConfig#recordDir()}. */
    public Path recordDir;
    /** See {@link RelayConfig#memoryCap()}. */
    public long memoryCap = 256L << 20;
    /** See {@link RelayConfig#headerTimeout()}. */
    public Duration headerTimeout = Duration.ofSeconds(15);
    /** See {@link RelayConfig#sourceTimeout()}. */
    public Duration sourceTimeout = Duration.ofSeconds(10);
    /** See {@link RelayConfig#clientTimeout()}. */
    public Duration clientTimeout = Duration.ofSeconds(30);
    /** The most connections at once, or null to derive it from the open-file limit. */
    public Integer maxConnections;
    /** See {@link RelayConfig#maxPendingPerIp()}. */
    public int maxPendingPerIp = 64;
    /** See {@link RelayConfig#statusInterval()}. */
    public Duration statusInterval = Duration.ofSeconds(1);
    /** See {@link RelayConfig#coalesce()}. */
    public Coalescing coalesce = Coalescing.AUTO;
    /** See {@link RelayConfig#maxLatency()}. */
    public Duration maxLatency = Duration.ofMillis(250);
    /** See {@link RelayConfig#icyMetaint()}. */
    public int icyMetaint = 16000;
    /** See {@link RelayConfig#mounts()}. */
    public MountTable mounts = MountTable.empty();
    /** See {@link RelayConfig#station()}. */
    public Station station = Station.defaults();
    /** See {@link RelayConfig#logs()}. */
    public LogSettings logs = LogSettings.standardError();
    /** See {@link RelayConfig#relaying()}. */
    public Relaying relaying = Relaying.none();
    /** See {@link RelayConfig#pidFile()}. */
    public Path pidFile;
    /** See {@link RelayConfig#configFile()}. */
    public Path configFile;

    private Builder() {}

    /**
     * The settings, with passwords generated where none was given (a copy keeps the one generated
     * before) and the connection cap derived where none was given.
     *
     * @return the settings
     * @throws IllegalArgumentException naming the flag of a value out of range
     */
    public RelayConfig build() {
      boolean generated = sourcePassword == null;
      String password = generated
          ? (generatedSourcePassword != null ? generatedSourcePassword : generatePassword())
          : sourcePassword;
      boolean adminGenerated = adminPassword == null;
      String admin = adminGenerated
          ? (generatedAdminPassword != null ? generatedAdminPassword : generatePassword())
          : adminPassword;
      int connections = maxConnections != null ? maxConnections : defaultMaxConnections(openFileLimit());
      return new RelayConfig(listen, extraSockets, password, generated, adminUser, admin,
          adminGenerated, maxListeners, maxListenersPerIp, maxClients, maxSources, burstSize,
          queueSize, engine, ioUring, recordDir, memoryCap, headerTimeout, sourceTimeout, clientTimeout,
          connections, maxPendingPerIp, statusInterval, coalesce, maxLatency, icyMetaint, mounts, station, logs,
          relaying, pidFile, configFile);
    }
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
   * These settings, read again for a reload, over the {@code running} ones: what only a restart can
   * change (the listen sockets, the engine, the memory cap, the recording directory, the logs, the
   * pid file, the status line, the connection cap) keeps its running value, and a password that was
   * generated again (none given) keeps the one generated at the start.
   *
   * @param running the settings the server runs with
   * @return the settings to apply
   */
  RelayConfig reloadedOver(RelayConfig running) {
    Builder b = toBuilder();
    b.listen = running.listen;
    b.extraSockets = new ArrayList<>(running.extraSockets);
    b.engine = running.engine;
    b.memoryCap = running.memoryCap;
    b.recordDir = running.recordDir;
    b.logs = running.logs;
    b.pidFile = running.pidFile;
    b.statusInterval = running.statusInterval;
    b.maxConnections = running.maxConnections;
    if (passwordGenerated && running.passwordGenerated) {
      b.sourcePassword = null;
      b.generatedSourcePassword = running.sourcePassword;
    }
    if (adminPasswordGenerated && running.adminPasswordGenerated) {
      b.adminPassword = null;
      b.generatedAdminPassword = running.adminPassword;
    }
    return b.build();
  }

  /**
   * What {@code next} changes that only a restart applies (see {@link #reloadedOver}).
   *
   * @param next settings read again
   * @return the names of the changed settings, empty if none
   */
  List<String> restartOnly(RelayConfig next) {
    List<String> changed = new ArrayList<>();
    if (!listen.equals(next.listen) || !extraSockets.equals(next.extraSockets)) {
      changed.add("the listen sockets");
    }
    if (engine != next.engine) {
      changed.add("the engine");
    }
    if (memoryCap != next.memoryCap) {
      changed.add("the memory cap");
    }
    if (!java.util.Objects.equals(recordDir, next.recordDir)) {
      changed.add("the recording directory");
    }
    if (!logs.equals(next.logs)) {
      changed.add("the logs (paths, logging)");
    }
    if (!java.util.Objects.equals(pidFile, next.pidFile)) {
      changed.add("the pid file");
    }
    return changed;
  }

  /**
   * A copy with another listen address (tests bind port 0).
   *
   * @param address where the copy listens
   * @return the copy
   */
  public RelayConfig withListen(InetSocketAddress address) {
    Builder b = toBuilder();
    b.listen = address;
    return b.build();
  }

  /**
   * A copy with other per-mount settings.
   *
   * @param table the copy's per-mount settings
   * @return the copy
   */
  public RelayConfig withMounts(MountTable table) {
    Builder b = toBuilder();
    b.mounts = table;
    return b.build();
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
