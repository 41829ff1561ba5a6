package io.nocopy.relay;

import io.nocopy.fanout.Fanout;
import io.nocopy.memory.Allocator;
import io.nocopy.pipe.Pipe;
import io.nocopy.pipe.Transfer;
import io.nocopy.relay.http.HeadReader;
import io.nocopy.relay.http.HttpHead;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
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
 * The relay server: accepts connections, reads each request head under a size cap and a deadline,
 * and routes it: sources ({@code PUT}/{@code SOURCE}) to a {@link SourceConnection}, listeners
 * ({@code GET} of a mount) to a {@link ListenerConnection}, the status and admin pages to {@link
 * AdminPages}. Each connection runs on its own virtual thread; one platform thread accepts. It
 * also owns what the connections share: the live mounts by name, the listener limits, the recorder,
 * the pooled memory, and the cascades ({@code --relay}) it starts.
 *
 * <h2>Admission</h2>
 *
 * A connection is closed at once beyond {@code --max-connections}, or when its address already has
 * {@code --max-pending-per-ip} connections still sending their head. A head is read into a small
 * heap buffer ({@link HeadReader}) within a shared byte budget, under {@code --header-timeout}:
 * pooled memory is taken only by authenticated sources and by listeners. Each cap logs when it
 * bites, at most every 10 seconds. A watchdog drops sources silent for {@code --source-timeout}
 * (their mount is freed) and listeners that took no byte for {@code --client-timeout} while bytes
 * waited for them.
 *
 * <p>Lifetime: {@link #start(RelayConfig)} binds and starts serving; {@link #close()} stops
 * accepting, ends every source (recordings are closed complete), disconnects everyone, and frees
 * the pooled memory.
 */
public final class RelayServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RelayServer.class.getName());
  /** The bytes all request heads being read may hold together (heap, not pooled memory). */
  static final long HEAD_BUDGET = 16L << 20;

  private volatile RelayConfig config; // replaced whole by a reload
  private final Allocator allocator;
  private volatile SourceLogins sourceLogins;
  private volatile BasicAuth adminAuth;
  private volatile BasicAuth relayAuth; // null: no relay-password, no slave may log in
  private final Relays relays = new Relays(this);
  private final HeadReader.Budget heads = new HeadReader.Budget(HEAD_BUDGET);
  private final ConcurrentHashMap<InetAddress, Integer> pending = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicInteger clients = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger sourceCount = new java.util.concurrent.atomic.AtomicInteger();
  private final CapLog connectionCap = new CapLog();
  private final CapLog pendingCap = new CapLog();
  private final CapLog headCap = new CapLog();
  private final ListenerLimits listenerLimits;
  private final Recorder recorder;
  private final AdminPages admin = new AdminPages(this);
  private final ListenerRegistry listenerRegistry = new ListenerRegistry();
  private final AccessLog accessLog; // null: none
  private final Runnable reopenLogs;
  private final ConcurrentHashMap<SocketChannel, AccessLog.Exchange> exchanges = new ConcurrentHashMap<>();
  private final AtomicLong connectionsAccepted = new AtomicLong();
  private final AtomicLong listenersServed = new AtomicLong();
  private final AtomicLong sourcesAccepted = new AtomicLong();
  private final AtomicLong relaysStarted = new AtomicLong();
  private final Fallbacks fallbacks = new Fallbacks(this);
  private final List<Listening> sockets = new ArrayList<>(); // the first is --listen
  private final InetSocketAddress address;
  private final Instant started = Instant.now();
  private final ConcurrentHashMap<String, Mount> mounts = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timeouts.Live> sources = new ConcurrentHashMap<>();
  private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
  private final Set<Thread> workers = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService watchdog;
  private final List<Thread> acceptors = new ArrayList<>();
  private final boolean spliceAvailable;
  private final boolean ioUring; // userspace mounts batch their sends through io_uring
  private final int spliceBound; // per-sink pipe size: --queue-size, at most pipe-max-size
  private volatile boolean closed;

  private RelayServer(RelayConfig config) throws IOException {
    java.util.List<String> loop = config.mounts().fallbackLoop();
    if (!loop.isEmpty()) {
      throw new IOException("the fallback mounts loop: " + String.join(" -> ", loop));
    }
    this.config = config;
    this.allocator = Allocator.builder().maxBytes(config.memoryCap()).build();
    this.sourceLogins = new SourceLogins(config);
    this.adminAuth = new BasicAuth(config.adminUser(), config.adminPassword());
    this.relayAuth = config.relaying().password() == null ? null
        : new BasicAuth(config.relaying().user(), config.relaying().password());
    this.listenerLimits = new ListenerLimits(config.maxListeners(), config.maxListenersPerIp());
    this.recorder = new Recorder(this, config.recordDir());
    try {
      this.accessLog = config.logs().accessLogPath() == null ? null : AccessLog.open(config.logs().accessLogPath());
    } catch (IOException e) {
      allocator.close();
      throw e;
    }
    this.reopenLogs = accessLog == null ? null : accessLog::reopen;
    List<RelayConfig.ListenSocket> wanted = new ArrayList<>();
    wanted.add(new RelayConfig.ListenSocket(config.listen(), null));
    wanted.addAll(config.extraSockets());
    try {
      for (RelayConfig.ListenSocket w : wanted) {
        sockets.add(Listening.bind(w));
      }
    } catch (IOException e) {
      for (Listening l : sockets) {
        closeQuietly(l.ch);
      }
      allocator.close();
      if (accessLog != null) {
        accessLog.close();
      }
      throw e;
    }
    ServerSocketChannel server = sockets.get(0).ch;
    this.address = sockets.get(0).address;
    this.spliceAvailable = Transfer.accelerated(server, server);
    this.ioUring = MountFanout.ioUring(config);
    if (config.ioUring() == RelayConfig.IoUring.AUTO && !ioUring) {
      // the one line that says why: the fan-outs are then opened without io_uring and stay quiet
      LOG.log(System.Logger.Level.INFO, "io_uring is off, the userspace engine writes each listener"
          + " with its own system call{0}: {1}", config.engine() == RelayConfig.Engine.AUTO
              ? " and --engine auto picks splice where available" : "", Fanout.whyNoIoUring());
    }
    this.spliceBound = Math.max(4096, Math.min(config.queueSize(), Pipe.maxSize()));
    if (spliceForRawSources() && spliceBound < config.queueSize()) {
      LOG.log(System.Logger.Level.INFO, "splice engine: a listener queue is its kernel pipe, at most"
          + " {0} bytes here (/proc/sys/fs/pipe-max-size), not --queue-size {1}", spliceBound,
          config.queueSize());
    }
    String refused = null;
    if (config.engine() == RelayConfig.Engine.SPLICE && !spliceAvailable) {
      refused = "--engine splice: splice(2) is not available here (it needs Linux and"
          + " --add-opens java.base/sun.nio.ch=io.nocopy, which ./nocopy passes); use --engine auto";
    } else if (config.ioUring() == RelayConfig.IoUring.ON && Fanout.whyNoIoUring() != null) {
      refused = "--io-uring on: " + Fanout.whyNoIoUring() + "; use --io-uring auto";
    }
    if (refused != null) {
      for (Listening l : sockets) {
        closeQuietly(l.ch);
      }
      allocator.close();
      if (accessLog != null) {
        accessLog.close();
      }
      throw new IOException(refused);
    }
    this.watchdog =
        Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("relay-watchdog").unstarted(r));
    for (Listening l : sockets) {
      acceptors.add(Thread.ofPlatform().name("relay-accept " + l.address).unstarted(() -> acceptLoop(l)));
    }
    long period = Math.max(100, Math.min(1000, config.sourceTimeout().toMillis() / 4));
    Timeouts timeouts = new Timeouts(this::config, mounts, sources);
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
    for (Thread t : s.acceptors) {
      t.start();
    }
    s.relays.start(config.relaying());
    return s;
  }

  /**
   * Applies a reloaded configuration (SIGHUP) without dropping anyone: per-mount settings, source,
   * admin and relay passwords, limits, timeouts, the station's settings and the relays take effect
   * for what comes next (connected listeners and sources stay; a limit lowered below the current
   * count refuses newcomers until enough leave). What needs a restart (the listen sockets, the
   * engine, the memory cap, the recording directory, the logs' places) keeps its running value,
   * and a warning names it when the file changed it.
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
    sourceLogins = new SourceLogins(applied);
    adminAuth = new BasicAuth(applied.adminUser(), applied.adminPassword());
    relayAuth = applied.relaying().password() == null ? null
        : new BasicAuth(applied.relaying().user(), applied.relaying().password());
    listenerLimits.limits(applied.maxListeners(), applied.maxListenersPerIp());
    config = applied;
    relays.reload(applied.relaying());
    LOG.log(System.Logger.Level.INFO, "reloaded {0}: {1} mounts configured, {2} live",
        applied.configFile() == null ? "the settings" : applied.configFile(),
        applied.mounts().named().size(), mounts.size());
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
    for (Listening l : sockets) {
      out.add(l.address);
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
    for (Mount m : mounts.values()) {
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

  /**
   * The transport raw-body sources get: {@code splice} if chosen, or with {@code --engine auto}
   * where splice is available and io_uring is not used; {@code userspace} otherwise. Parsed bodies
   * (chunked, cascaded) always use the userspace transport; each mount reports its own in the
   * status page.
   */
  String engineName() {
    return spliceForRawSources() ? "splice" : "userspace";
  }

  /**
   * Whether the userspace engine's mounts send each chunk to every idle listener with one io_uring
   * submission ({@code --io-uring} on, or auto where io_uring works).
   *
   * @return true if they do
   */
  boolean ioUring() {
    return ioUring;
  }

  /** The engine and whether io_uring is on, as the startup line names them. */
  String engineSummary() {
    String engine = engineName();
    if (!ioUring) {
      return engine + ", io_uring off";
    }
    return engine.equals("userspace") ? engine + ", io_uring on"
        : engine + " (chunked and relayed mounts: userspace, io_uring on)";
  }

  // --- what the connections share ----------------------------------------------------------------

  RelayConfig config() {
    return config;
  }

  /** Who may publish to which mount. */
  SourceLogins sourceLogins() {
    return sourceLogins;
  }

  /**
   * Whether a request may see its page: any path outside {@code /admin/}; an {@code /admin/} path
   * with the admin credentials, and {@code /admin/metadata} also with the source credentials (as
   * encoders send them), as in Icecast; {@code /admin/streamlist.txt} with the relay login only
   * (Icecast refuses the admin's there too).
   *
   * @param head the request
   * @return true if it may be answered
   */
  boolean adminAllowed(HttpHead.Request head) {
    String p = head.path();
    if (!p.equals("/admin") && !p.startsWith("/admin/")) {
      return true;
    }
    String a = head.header("Authorization");
    if (p.equals("/admin/streamlist.txt")) {
      return relayAuth != null && relayAuth.accepts(a);
    }
    return adminAuth.accepts(a)
        || (p.equals("/admin/metadata") && sourceLogins.auth(head.query().get("mount")).accepts(a));
  }

  /**
   * Connections closed at once because of {@code --max-connections}, {@code
   * --max-pending-per-ip}, or the heads' memory budget, since the start.
   *
   * @return the three counts in that order
   */
  long[] refusals() {
    return new long[] {connectionCap.total(), pendingCap.total(), headCap.total()};
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
    return heads.inUse();
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
    return new Counts(connectionsAccepted.get(), listenersServed.get(), sourcesAccepted.get(),
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
    Timeouts.Live live = sources.get(name);
    if (live == null) {
      return false;
    }
    LOG.log(System.Logger.Level.INFO, "{0}: source removed by an admin request", name);
    Mount mount = mount(name);
    if (mount != null) {
      mount.fanout.endSource(); // a source that goes on sending would keep a paced reader busy
    }
    try {
      live.ch.shutdownInput(); // wakes a reader waiting for a quiet source
    } catch (IOException e) {
      closeQuietly(live.ch);
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

  /**
   * Whether a raw-body source gets the kernel transport (splice): asked for, or with {@code
   * --engine auto} where it is available and the userspace engine does not use io_uring (io_uring
   * sends cost less per delivered byte than splice, see BENCHMARKS.md).
   */
  boolean spliceForRawSources() {
    return switch (config.engine()) {
      case SPLICE -> spliceAvailable;
      case USERSPACE -> false;
      case AUTO -> spliceAvailable && !ioUring;
    };
  }

  /** Each kernel sink's pipe size: {@code --queue-size}, at most the pipe size limit. */
  int spliceBound() {
    return spliceBound;
  }

  /** A kernel sink's pipe size for a mount whose listeners may fall {@code queueSize} bytes behind. */
  int spliceBound(int queueSize) {
    return queueSize == config.queueSize() ? spliceBound : Math.max(4096, Math.min(queueSize, Pipe.maxSize()));
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
    return mounts.get(name);
  }

  /**
   * Makes a mount visible to listeners.
   *
   * @param source the socket the mount's bytes come from (a source's, or a cascade's upstream),
   *     closed first by {@link #close()} so that the mount ends with everything it received
   * @return false if the name is taken (nothing changed)
   */
  boolean publish(Mount mount, SocketChannel source) {
    if (mounts.putIfAbsent(mount.name, mount) != null) {
      return false;
    }
    sources.put(mount.name, new Timeouts.Live(mount, source, System.nanoTime()));
    return true;
  }

  /** Frees the mount's name (its source ended); idempotent. */
  void unpublish(Mount mount, SocketChannel source) {
    mounts.remove(mount.name, mount);
    sources.computeIfPresent(mount.name, (k, v) -> v.ch == source ? null : v);
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
    byte[] all = Responses.withHeaders(answer, config.station().httpHeaders());
    AccessLog.Exchange ex = exchanges.get(ch);
    if (ex != null) {
      ex.sent(all);
    }
    Responses.send(ch, all);
  }

  /** Counts a stream the fan-out sent on {@code ch} (a listener's head included) for the access log. */
  void streamed(SocketChannel ch, int status, long bytes) {
    AccessLog.Exchange ex = exchanges.get(ch);
    if (ex != null) {
      ex.streamed(status, bytes);
    }
  }

  /** Sends a complete answer and ends the connection gracefully (see {@link Responses#refuse}). */
  void refuse(SocketChannel ch, byte[] answer) throws IOException {
    byte[] all = Responses.withHeaders(answer, config.station().httpHeaders());
    AccessLog.Exchange ex = exchanges.get(ch);
    if (ex != null) {
      ex.sent(all);
    }
    Responses.refuse(ch, all, watchdog);
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

  // --- accepting and routing ------------------------------------------------------------------

  /**
   * One socket the server accepts on.
   *
   * @param ch the bound channel, closed by {@link #close()}
   * @param address the address actually bound
   * @param shoutcastMount the mount of the SHOUTcast sources this socket takes, or null
   */
  private record Listening(ServerSocketChannel ch, InetSocketAddress address, String shoutcastMount) {
    static Listening bind(RelayConfig.ListenSocket s) throws IOException {
      ServerSocketChannel ch = ServerSocketChannel.open();
      try {
        ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        ch.bind(s.address(), 1024);
        return new Listening(ch, (InetSocketAddress) ch.getLocalAddress(), s.shoutcastMount());
      } catch (IOException e) {
        closeQuietly(ch);
        java.net.BindException b = new java.net.BindException("cannot listen on " + s.address()
            + (s.shoutcastMount() != null ? " (SHOUTcast sources for " + s.shoutcastMount() + ")" : "")
            + ": " + e.getMessage());
        b.initCause(e);
        throw b;
      }
    }
  }

  private void acceptLoop(Listening socket) {
    while (!closed) {
      SocketChannel ch;
      try {
        ch = socket.ch.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!closed) {
          LOG.log(System.Logger.Level.WARNING, "accept failed: " + e.getMessage());
          sleepQuietly(10);
        }
        continue;
      }
      if (open.size() >= config.maxConnections()) {
        connectionCap.bite("--max-connections " + config.maxConnections()
            + " reached: closing new connections at once");
        closeQuietly(ch);
        continue;
      }
      InetAddress ip = ip(ch);
      if (ip == null) {
        closeQuietly(ch);
        continue;
      }
      if (pending.merge(ip, 1, Integer::sum) > config.maxPendingPerIp()) {
        releasePending(ip);
        pendingCap.bite(ip.getHostAddress() + " has --max-pending-per-ip "
            + config.maxPendingPerIp() + " connections still sending their request head: closing"
            + " its new ones at once");
        closeQuietly(ch);
        continue;
      }
      open.add(ch);
      connectionsAccepted.incrementAndGet();
      try {
        spawn("relay-conn", () -> handle(ch, ip, socket.shoutcastMount));
      } catch (RuntimeException e) {
        open.remove(ch);
        releasePending(ip);
        closeQuietly(ch);
      }
    }
  }

  private void releasePending(InetAddress ip) {
    pending.computeIfPresent(ip, (k, v) -> v == 1 ? null : v - 1);
  }

  private static InetAddress ip(SocketChannel ch) {
    try {
      return ((InetSocketAddress) ch.getRemoteAddress()).getAddress();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Logs when a cap bites: at once the first time, then at most every 10 seconds with the number
   * of connections refused in between, so that a flood cannot flood the log too.
   */
  private static final class CapLog {
    private long total;
    private long since;
    private long lastLog;

    synchronized void bite(String what) {
      total++;
      since++;
      long now = System.nanoTime();
      if (total == 1 || now - lastLog >= TimeUnit.SECONDS.toNanos(10)) {
        LOG.log(System.Logger.Level.WARNING, what + " (" + since + " refused since the last report)");
        since = 0;
        lastLog = now;
      }
    }

    synchronized long total() {
      return total;
    }
  }

  private void handle(SocketChannel ch, InetAddress ip, String shoutcastMount) {
    String peer = peer(ch);
    ScheduledFuture<?> deadline =
        watchdog.schedule(() -> closeQuietly(ch), config.headerTimeout().toMillis(), TimeUnit.MILLISECONDS);
    HeadReader reader = new HeadReader(ch, heads);
    boolean stillPending = true;
    HttpHead.Request head = null;
    exchanges.put(ch, new AccessLog.Exchange());
    boolean counted = false; // under --max-clients
    try {
      try {
        head = shoutcastMount == null
            ? HttpHead.readRequest(reader)
            : ShoutcastSource.readHead(reader, ch, shoutcastMount, sourceLogins.auth(shoutcastMount),
                sourceLogins.user(shoutcastMount));
      } catch (HttpHead.Malformed e) {
        releasePending(ip);
        stillPending = false;
        refuse(ch, e.status(), e.getMessage());
        return;
      } catch (HeadReader.OverBudget e) {
        headCap.bite("request heads hold their whole memory budget (" + HEAD_BUDGET
            + " bytes): closing connections whose head does not fit");
        return;
      }
      releasePending(ip);
      stillPending = false;
      ByteBuffer ahead = reader.leftover();
      reader.close();
      if (!deadline.cancel(false) || head == null) {
        return; // slowloris: the watchdog closed it, or the client left without a request
      }
      counted = true;
      if (clients.incrementAndGet() > config.maxClients()) {
        refuseAsIcecast(ch, 403, "Icecast connection limit reached");
        return;
      }
      try {
        head.contentLength();
      } catch (IllegalArgumentException e) {
        refuse(ch, 400, e.getMessage());
        return;
      }
      switch (head.method()) {
        case "GET" -> {
          if (!admin.serve(ch, head)) {
            new ListenerConnection(this, ch, peer).serve(head);
          }
        }
        case "PUT", "SOURCE" -> new SourceConnection(this, ch, peer).serve(head, ahead);
        default -> refuse(ch, 405, "method " + head.method() + " is not allowed");
      }
    } catch (IOException e) {
      if (!closed) {
        LOG.log(System.Logger.Level.DEBUG, peer + ": " + e.getMessage());
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, peer + ": unexpected failure", e);
    } finally {
      deadline.cancel(false);
      reader.close();
      if (stillPending) {
        releasePending(ip);
      }
      if (counted) {
        clients.decrementAndGet();
      }
      open.remove(ch);
      closeQuietly(ch);
      AccessLog.Exchange ex = exchanges.remove(ch);
      if (accessLog != null && head != null && ex != null) {
        accessLog.log(ip.getHostAddress(), head, ex);
      }
    }
  }

  private static String peer(SocketChannel ch) {
    try {
      InetSocketAddress a = (InetSocketAddress) ch.getRemoteAddress();
      return a.getAddress().getHostAddress() + ":" + a.getPort();
    } catch (IOException | RuntimeException e) {
      return "?";
    }
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
    for (Listening l : sockets) {
      closeQuietly(l.ch);
    }
    for (Timeouts.Live src : sources.values()) {
      closeQuietly(src.ch);
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    // let recordings drain, then cut everyone else off
    for (Thread t : workers) {
      if (t.getName().startsWith(Recorder.THREAD_PREFIX)) {
        joinUntil(t, deadline);
      }
    }
    for (Mount m : mounts.values()) {
      m.fanout.dropAll();
    }
    for (SocketChannel ch : open) {
      closeQuietly(ch);
    }
    for (Thread t : workers) {
      joinUntil(t, deadline);
    }
    for (Thread t : acceptors) {
      joinUntil(t, deadline);
    }
    watchdog.shutdownNow();
    allocator.close();
    if (accessLog != null) {
      Hangup.remove(reopenLogs);
      accessLog.close();
    }
  }

  private static void joinUntil(Thread t, long deadlineNanos) {
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
