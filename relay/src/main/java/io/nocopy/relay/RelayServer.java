package io.nocopy.relay;

import io.nocopy.memory.Allocator;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The relay server: the hub its connections share. {@link Admission} accepts connections, reads
 * each request head under its caps and routes it to a {@link SourceConnection}, a {@link
 * ListenerConnection} or the {@link AdminPages}; each connection runs on its own virtual thread.
 * The server owns what they share: the settings (swapped whole by {@link #reload}), the {@link
 * Logins}, the {@link LiveMounts}, the listener limits, the recorder, the pooled memory, the
 * cascades ({@code --relay}) it starts, and the watchdog thread, whose {@link Timeouts} drop
 * sources silent for {@code --source-timeout} (their mount is freed) and listeners that took no
 * byte for {@code --client-timeout} while bytes waited for them. It also writes the answers that
 * are not streams ({@link #send}, {@link #refuse}), counted for the access log.
 *
 * <p>Lifetime: {@link #start(RelayConfig)} binds and starts serving; {@link #close()} stops
 * accepting, ends every source (recordings are closed complete), disconnects everyone, and frees
 * the pooled memory.
 */
public final class RelayServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RelayServer.class.getName());

  private volatile RelayConfig config; // replaced whole by a reload
  private final Allocator allocator;
  private volatile Logins logins; // replaced whole by a reload
  private final Relays relays = new Relays(this);
  private final java.util.concurrent.atomic.AtomicInteger sourceCount = new java.util.concurrent.atomic.AtomicInteger();
  private final ListenerLimits listenerLimits;
  private final Recorder recorder;
  private final ListenerRegistry listenerRegistry = new ListenerRegistry();
  private final AccessLog accessLog; // null: none
  private final Runnable reopenLogs;
  private final Admission admission;
  private final AtomicLong listenersServed = new AtomicLong();
  private final AtomicLong sourcesAccepted = new AtomicLong();
  private final AtomicLong relaysStarted = new AtomicLong();
  private final Fallbacks fallbacks = new Fallbacks(this);
  private final InetSocketAddress address;
  private final Instant started = Instant.now();
  private final LiveMounts live = new LiveMounts();
  private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
  private final Set<Thread> workers = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService watchdog;
  private final Transports transports;
  private volatile boolean closed;

  private RelayServer(RelayConfig config) throws IOException {
    java.util.List<String> loop = config.mounts().fallbackLoop();
    if (!loop.isEmpty()) {
      throw new IOException("the fallback mounts loop: " + String.join(" -> ", loop));
    }
    this.config = config;
    this.allocator = Allocator.builder().maxBytes(config.memoryCap()).build();
    this.logins = Logins.of(config);
    this.listenerLimits = new ListenerLimits(config.maxListeners(), config.maxListenersPerIp());
    this.recorder = new Recorder(this, config.recordDir());
    try {
      this.accessLog = config.logs().accessLogPath() == null ? null : AccessLog.open(config.logs().accessLogPath());
    } catch (IOException e) {
      allocator.close();
      throw e;
    }
    this.reopenLogs = accessLog == null ? null : accessLog::reopen;
    this.admission = new Admission(this, open, accessLog);
    List<RelayConfig.ListenSocket> wanted = new ArrayList<>();
    wanted.add(new RelayConfig.ListenSocket(config.listen(), null));
    wanted.addAll(config.extraSockets());
    try {
      admission.bind(wanted);
      this.transports = Transports.check(config, admission.sockets().get(0).ch());
    } catch (IOException e) {
      admission.closeSockets();
      allocator.close();
      if (accessLog != null) {
        accessLog.close();
      }
      throw e;
    }
    this.address = admission.sockets().get(0).address();
    this.watchdog =
        Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("relay-watchdog").unstarted(r));
    long period = Math.max(100, Math.min(1000, config.sourceTimeout().toMillis() / 4));
    Timeouts timeouts = live.timeouts(this::config);
    watchdog.scheduleWithFixedDelay(timeouts::check, period, period, TimeUnit.MILLISECONDS);
  }

  /**
   * Binds the listen address and starts serving.
   *
   * @param config the settings
   * @return the running server; the caller closes it
   * @throws IOException if the address cannot be bound
   */
  public static RelayServer start(RelayConfig config) throws IOException {
    RelayServer s = new RelayServer(config);
    if (s.reopenLogs != null) {
      Hangup.onSignal(s.reopenLogs);
    }
    s.admission.start();
    s.relays.start(config.relaying());
    return s;
  }

  /**
   * Applies a reloaded configuration (SIGHUP) without dropping anyone: per-mount settings, source,
   * admin and relay passwords, limits, timeouts, the station's settings and the relays take effect
   * for what comes next (connected listeners and sources stay; a limit lowered below the current
   * count refuses newcomers until enough leave). What needs a restart (the listen sockets, the
   * engine, the memory cap, the recording directory, the logs' places) keeps its running value,
   * and a warning names it when the file changed it. The log level is the process's: {@link
   * Reload} applies it.
   *
   * @param next the settings read again from the same flags and file
   * @throws IllegalArgumentException if they cannot be applied (a fallback loop): nothing changed
   */
  synchronized void reload(RelayConfig next) {
    java.util.List<String> loop = next.mounts().fallbackLoop();
    if (!loop.isEmpty()) {
      throw new IllegalArgumentException("the fallback mounts loop: " + String.join(" -> ", loop));
    }
    RelayConfig running = config;
    RelayConfig applied = next.reloadedOver(running);
    java.util.List<String> kept = running.restartOnly(next);
    if (!kept.isEmpty()) {
      LOG.log(System.Logger.Level.WARNING, "reload: {0} changed; that takes a restart, the running"
          + " values stay", String.join(", ", kept));
    }
    logins = Logins.of(applied);
    listenerLimits.limits(applied.maxListeners(), applied.maxListenersPerIp());
    config = applied;
    relays.reload(applied.relaying());
    LOG.log(System.Logger.Level.INFO, "reloaded {0}: {1} mounts configured, {2} live",
        applied.configFile() == null ? "the settings" : applied.configFile(),
        applied.mounts().named().size(), live.size());
  }

  /**
   * The address actually bound (useful with port 0).
   *
   * @return the local address
   */
  public InetSocketAddress address() {
    return address;
  }

  /**
   * Every address the server accepts on, in the order of {@link RelayConfig#listen()} and then
   * {@link RelayConfig#extraSockets()} (ports actually bound, useful with port 0).
   *
   * @return the addresses; the first is {@link #address()}
   */
  public List<InetSocketAddress> addresses() {
    List<InetSocketAddress> out = new ArrayList<>();
    for (Admission.Listening l : admission.sockets()) {
      out.add(l.address());
    }
    return out;
  }

  /**
   * The pooled memory the server reads into; tests check {@code inUse()} returns to zero.
   *
   * @return the server's allocator (owned by the server)
   */
  public Allocator allocator() {
    return allocator;
  }

  /**
   * Snapshots of every live mount, in name order.
   *
   * @return the mounts
   */
  public List<MountSnapshot> mounts() {
    List<MountSnapshot> out = new ArrayList<>();
    for (Mount m : live.all()) {
      out.add(m.snapshot().shownAs(mountSettings(m.name)));
    }
    out.sort((a, b) -> a.mount().compareTo(b.mount()));
    return out;
  }

  /**
   * The mounts the public status pages list: {@link #mounts()} without the {@code hidden} ones
   * (the admin pages still show those, as Icecast's do).
   *
   * @return the listed mounts, in name order
   */
  List<MountSnapshot> listedMounts() {
    List<MountSnapshot> out = new ArrayList<>();
    for (MountSnapshot m : mounts()) {
      if (!Boolean.TRUE.equals(mountSettings(m.mount()).hidden())) {
        out.add(m);
      }
    }
    return out;
  }

  /**
   * A mount's settings from the configuration: its {@code <mount>} over the {@code <mount
   * type="default">}; all unset for a relay started from flags.
   *
   * @param mount a mount name
   * @return the settings (unset fields take the global ones)
   */
  io.nocopy.relay.config.MountSettings mountSettings(String mount) {
    return config.mounts().settings(mount);
  }

  /**
   * The sums over every live mount.
   *
   * @param mounts live mounts
   * @param listeners listeners connected now
   * @param bytesIn bytes received from the mounts' sources
   * @param bytesOut stream bytes sent to the mounts' listeners
   */
  record Totals(int mounts, int listeners, long bytesIn, long bytesOut) {}

  /** Sums the snapshots of every live mount (for the status line and the stats page). */
  Totals totals() {
    List<MountSnapshot> ms = mounts();
    int listeners = 0;
    long in = 0;
    long out = 0;
    for (MountSnapshot m : ms) {
      listeners += m.listeners();
      in += m.bytesIn();
      out += m.bytesOut();
    }
    return new Totals(ms.size(), listeners, in, out);
  }

  /**
   * Connections open right now (sources, listeners, and requests being read).
   *
   * @return the count
   */
  public int openConnections() {
    return open.size();
  }

  // --- what the connections share ----------------------------------------------------------------

  RelayConfig config() {
    return config;
  }

  /** Who may do what, as the settings say now. */
  Logins logins() {
    return logins;
  }

  /**
   * Connections closed at once because of {@code --max-connections}, {@code
   * --max-pending-per-ip}, or the heads' memory budget, since the start.
   *
   * @return the three counts in that order
   */
  long[] refusals() {
    return admission.refusals();
  }

  /**
   * Each live mount's listeners per transport, as a JSON object: {@code {"/m.mp3":{"splice":128,
   * "userspace":872}}} (listeners beyond the user's pipe page budget are served in userspace).
   */
  String listenersByTransport() {
    StringBuilder b = new StringBuilder("{");
    for (MountSnapshot m : mounts()) {
      b.append(b.length() > 1 ? "," : "").append('"').append(m.mount()).append("\":{\"splice\":")
          .append(m.splicedListeners()).append(",\"userspace\":")
          .append(m.listeners() - m.splicedListeners()).append('}');
    }
    return b.append('}').toString();
  }

  /** Heap bytes held by request heads being read now. */
  long headBytes() {
    return admission.headBytes();
  }

  /** Fallback mounts and listener moves. */
  Fallbacks fallbacks() {
    return fallbacks;
  }

  ListenerLimits listenerLimits() {
    return listenerLimits;
  }

  /** The listeners connected now, by the ids the admin API names them with. */
  ListenerRegistry listenerRegistry() {
    return listenerRegistry;
  }

  /**
   * Counts since the start, for the admin statistics and the metrics page.
   *
   * @param connections connections accepted
   * @param listeners listeners served (their sink attached)
   * @param sources sources accepted (authenticated and published)
   * @param relays cascaded mounts published
   */
  record Counts(long connections, long listeners, long sources, long relays) {}

  Counts counts() {
    return new Counts(admission.accepted(), listenersServed.get(), sourcesAccepted.get(),
        relaysStarted.get());
  }

  /** Counts a listener served ({@code listener_connections}). */
  void countListener() {
    listenersServed.incrementAndGet();
  }

  /** Counts a published mount: an accepted source, or a cascade's pull when {@code relay}. */
  void countSource(boolean relay) {
    (relay ? relaysStarted : sourcesAccepted).incrementAndGet();
  }

  /**
   * Ends a mount's source as {@code /admin/killsource} asks: its fan-out ends the stream at the next
   * chunk boundary and its input is shut down, and the mount ends as if the source had left.
   *
   * @param name the mount
   * @return false if no source serves that mount
   */
  boolean killSource(String name) {
    Timeouts.Live source = live.source(name);
    if (source == null) {
      return false;
    }
    LOG.log(System.Logger.Level.INFO, "{0}: source removed by an admin request", name);
    Mount mount = mount(name);
    if (mount != null) {
      mount.fanout.endSource(); // a source that goes on sending would keep a paced reader busy
    }
    try {
      source.ch.shutdownInput(); // wakes a reader waiting for a quiet source
    } catch (IOException e) {
      closeQuietly(source.ch);
    }
    return true;
  }

  /** The relayed mounts ({@code <relay>}, {@code --relay}, a master's). */
  Relays relays() {
    return relays;
  }

  Recorder recorder() {
    return recorder;
  }

  Instant started() {
    return started;
  }

  boolean closed() {
    return closed;
  }

  /** The fan-out transports this server uses. */
  Transports transports() {
    return transports;
  }

  /**
   * The settings a mount's fan-out is made with: the global ones, with the mount's own {@code
   * burst-size} and {@code queue-size} where set (a burst larger than the queue is cut to it).
   *
   * @param mount a mount name
   * @return the settings for that mount's fan-out
   */
  RelayConfig mountConfig(String mount) {
    RelayConfig c = config;
    io.nocopy.relay.config.MountSettings s = c.mounts().settings(mount);
    if (s.burstSize() == null && s.queueSize() == null) {
      return c;
    }
    RelayConfig.Builder b = c.toBuilder();
    if (s.queueSize() != null && s.queueSize() > 0) {
      b.queueSize = s.queueSize();
    }
    if (s.burstSize() != null) {
      b.burstSize = s.burstSize();
    }
    b.burstSize = Math.min(b.burstSize, b.queueSize);
    return b.build();
  }

  /**
   * Runs {@code task} once after {@code delay} on the server's timer (it must return soon).
   *
   * @return the scheduled task, to cancel
   */
  ScheduledFuture<?> schedule(Runnable task, Duration delay) {
    return watchdog.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The live mount of that name, or null. */
  Mount mount(String name) {
    return live.get(name);
  }

  /** The mounts being served now, by name: cascades and sources publish theirs there. */
  LiveMounts live() {
    return live;
  }

  /** Counts a connection the server did not accept (a cascade's) as open, so close() closes it. */
  void track(SocketChannel ch) {
    open.add(ch);
  }

  void untrack(SocketChannel ch) {
    open.remove(ch);
  }

  /** Answers with an error and ends the connection gracefully (see {@link Responses#refuse}). */
  void refuse(SocketChannel ch, int status, String message) throws IOException {
    refuse(ch, Responses.error(status, message));
  }

  /**
   * Writes an answer to a client, with the server's {@code http-headers} added as Icecast adds them
   * to every answer, counted for the access log (its status line sets the status).
   *
   * @param ch the connection
   * @param answer the bytes
   * @throws IOException if the peer went away
   */
  void send(SocketChannel ch, byte[] answer) throws IOException {
    Responses.send(ch, counted(ch, answer));
  }

  /** The answer with the server's {@code http-headers} added, counted for the access log. */
  private byte[] counted(SocketChannel ch, byte[] answer) {
    byte[] all = Responses.withHeaders(answer, config.station().httpHeaders());
    AccessLog.Exchange ex = admission.exchange(ch);
    if (ex != null) {
      ex.sent(all);
    }
    return all;
  }

  /** Counts a stream the fan-out sent on {@code ch} (a listener's head included) for the access log. */
  void streamed(SocketChannel ch, int status, long bytes) {
    AccessLog.Exchange ex = admission.exchange(ch);
    if (ex != null) {
      ex.streamed(status, bytes);
    }
  }

  /** Sends a complete answer and ends the connection gracefully (see {@link Responses#refuse}). */
  void refuse(SocketChannel ch, byte[] answer) throws IOException {
    Responses.refuse(ch, counted(ch, answer), watchdog);
  }

  /** Answers with an error in Icecast's own shape ({@link Responses#icecastError}) and ends the connection. */
  void refuseAsIcecast(SocketChannel ch, int status, String message) throws IOException {
    refuse(ch, Responses.icecastError(status, message));
  }

  /**
   * The head of a listener's stream response on {@code m}: the server's {@code http-headers}, then
   * the mount's, and the mount's {@code stream-name} over the source's (see {@link
   * Responses#listenerOk(MountSnapshot, int, String, java.util.Map)}).
   *
   * @param m the mount as its source describes it ({@code Mount.snapshot()})
   * @param metaint the ICY metadata interval the listener gets, or 0 for none
   */
  byte[] listenerHead(MountSnapshot m, int metaint) {
    io.nocopy.relay.config.MountSettings s = mountSettings(m.mount());
    java.util.Map<String, String> headers = config.station().httpHeaders();
    if (!s.httpHeaders().isEmpty()) {
      headers = new java.util.LinkedHashMap<>(headers);
      headers.putAll(s.httpHeaders());
    }
    return Responses.listenerOk(m, metaint, s.streamName(), headers);
  }

  /**
   * Takes a place for a source under {@code --max-sources}.
   *
   * @return false if the limit is reached (nothing was taken)
   */
  boolean reserveSource() {
    if (sourceCount.incrementAndGet() > config.maxSources()) {
      sourceCount.decrementAndGet();
      return false;
    }
    return true;
  }

  /** Gives back a place taken by {@link #reserveSource()}. */
  void releaseSource() {
    sourceCount.decrementAndGet();
  }

  /** Runs a task on a virtual thread of its own, which {@link #close()} waits for. */
  void spawn(String name, Runnable task) {
    Thread t =
        Thread.ofVirtual()
            .name(name)
            .unstarted(
                () -> {
                  try {
                    task.run();
                  } finally {
                    workers.remove(Thread.currentThread());
                  }
                });
    workers.add(t);
    t.start();
  }

  /**
   * The host name the status pages give ({@code host}, the listen URLs): {@code <hostname>} of a
   * configuration file, else the address listened on.
   */
  String statusHost() {
    return config.configFile() != null ? config.station().hostname() : hostName();
  }

  String hostName() {
    return address.getAddress().isAnyLocalAddress() ? "127.0.0.1" : address.getHostString();
  }

  static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // closing is best effort
    }
  }

  static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops the server: no new connections; every source is closed, so its mount ends and its
   * recording is written out complete; listeners are disconnected; then the pooled memory is freed.
   * Waits up to 5 seconds for connection threads to finish. Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    admission.closeSockets();
    for (Timeouts.Live src : live.sources()) {
      closeQuietly(src.ch);
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    // let recordings drain, then cut everyone else off
    for (Thread t : workers) {
      if (t.getName().startsWith(Recorder.THREAD_PREFIX)) {
        joinUntil(t, deadline);
      }
    }
    for (Mount m : live.all()) {
      m.fanout.dropAll();
    }
    for (SocketChannel ch : open) {
      closeQuietly(ch);
    }
    for (Thread t : workers) {
      joinUntil(t, deadline);
    }
    admission.join(deadline);
    watchdog.shutdownNow();
    allocator.close();
    if (accessLog != null) {
      Hangup.remove(reopenLogs);
      accessLog.close();
    }
  }

  static void joinUntil(Thread t, long deadlineNanos) {
    long ms = (deadlineNanos - System.nanoTime()) / 1_000_000;
    if (ms <= 0) {
      return;
    }
    try {
      t.join(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
