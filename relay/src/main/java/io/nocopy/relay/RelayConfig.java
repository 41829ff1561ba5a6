package io.nocopy.relay;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import io.nocopy.relay.config.LogSettings;
import io.nocopy.relay.config.MountTable;
import io.nocopy.relay.config.Relaying;
import io.nocopy.relay.config.Station;

/**
 * The relay's settings, parsed from the command line ({@link CommandLine#parse(String...)}) or
 * built in code. Immutable.
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
 * {@link CommandLine#parse(String...)}; change a copy with {@link #toBuilder()}.
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
   * These settings, read again for a reload, over the {@code running} ones: what only a restart can
   * change (the listen sockets, the engine, the memory cap, the recording directory, the logs'
   * places, the pid file, the status line, the connection cap) keeps its running value, and a
   * password that was generated again (none given) keeps the one generated at the start. The log
   * level is the one read again, as Icecast applies its {@code <loglevel>} on a reload.
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
    b.logs = running.logs.withLevel(logs.level());
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
    if (!logs.withLevel(next.logs.level()).equals(next.logs)) {
      changed.add("the logs' places (log directory, access log, error log)");
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

}
