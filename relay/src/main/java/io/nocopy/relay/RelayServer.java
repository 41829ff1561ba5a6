package io.nocopy.relay;

import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import io.nocopy.pipe.Fanout;
import io.nocopy.pipe.Transfer;
import io.nocopy.relay.http.HttpHead;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The relay server: accepts connections, reads each request head under a size cap and a deadline,
 * and serves sources ({@code PUT}/{@code SOURCE}), listeners ({@code GET} of a mount) and the
 * status page. Each connection runs on its own virtual thread; one platform thread accepts.
 *
 * <p>Lifetime: {@link #start(RelayConfig)} binds and starts serving; {@link #close()} stops
 * accepting, ends every source (recordings are closed complete), disconnects everyone, and frees
 * the pooled memory.
 */
public final class RelayServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RelayServer.class.getName());
  private static final int MAX_SLICE = 64 * 1024;
  private static final long COALESCE_BELOW_BYTES_PER_SECOND = 8L << 20;
  /** A publish that leaves fewer bytes than this pending in the source counts as having drained it. */
  private static final long COALESCE_DRAINED_BELOW = 16 << 10;
  private static final long RECORDING_BACKLOG = 16L << 20;
  private static final DateTimeFormatter FILE_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private final RelayConfig config;
  private final Allocator allocator;
  private final BasicAuth auth;
  private final ServerSocketChannel server;
  private final InetSocketAddress address;
  private final Instant started = Instant.now();
  private final ConcurrentHashMap<String, Mount> mounts = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, SocketChannel> sources = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<InetAddress, AtomicInteger> perIp = new ConcurrentHashMap<>();
  private final AtomicInteger listenerTotal = new AtomicInteger();
  private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
  private final Set<Thread> workers = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService watchdog;
  private final Thread acceptor;
  private final AtomicLong connections = new AtomicLong();
  private final boolean spliceAvailable;
  private final int spliceBound; // per-sink pipe size: --queue-size, at most pipe-max-size
  private volatile boolean closed;

  private RelayServer(RelayConfig config) throws IOException {
    this.config = config;
    this.allocator = Allocator.builder().maxBytes(config.memoryCap()).build();
    this.auth = new BasicAuth(config.sourcePassword());
    if (config.recordDir() != null) {
      Files.createDirectories(config.recordDir());
    }
    this.server = ServerSocketChannel.open();
    server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
    server.bind(config.listen(), 1024);
    this.address = (InetSocketAddress) server.getLocalAddress();
    this.spliceAvailable = Transfer.accelerated(server, server);
    int pipeMax = io.nocopy.pipe.Pipe.maxSize();
    this.spliceBound = Math.max(4096, Math.min(config.queueSize(), pipeMax));
    if (spliceAvailable && config.engine() != RelayConfig.Engine.USERSPACE
        && spliceBound < config.queueSize()) {
      LOG.log(System.Logger.Level.INFO, "splice engine: a listener queue is its kernel pipe, at most"
          + " {0} bytes here (/proc/sys/fs/pipe-max-size), not --queue-size {1}", spliceBound,
          config.queueSize());
    }
    if (config.engine() == RelayConfig.Engine.SPLICE && !spliceAvailable) {
      server.close();
      allocator.close();
      throw new IOException("--engine splice: splice(2) is not available here (it needs Linux and"
          + " --add-opens java.base/sun.nio.ch=io.nocopy, which ./nocopy passes); use --engine auto");
    }
    this.watchdog =
        Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("relay-watchdog").unstarted(r));
    this.acceptor = Thread.ofPlatform().name("relay-accept").unstarted(this::acceptLoop);
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
    s.acceptor.start();
    for (URI upstream : config.relays()) {
      s.spawn("relay-pull " + upstream, () -> s.pullLoop(upstream));
    }
    return s;
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
      out.add(m.snapshot());
    }
    out.sort((a, b) -> a.mount().compareTo(b.mount()));
    return out;
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
   * The engine raw-body sources get: {@code splice} unless the userspace engine was chosen or
   * splice is unavailable. Chunked sources always use the userspace engine (their framing is parsed
   * in userspace; the chunk data still moves as slices of the blocks it was read into).
   */
  String engineName() {
    return useSplice() ? "splice" : "userspace";
  }

  private boolean useSplice() {
    return config.engine() != RelayConfig.Engine.USERSPACE && spliceAvailable;
  }

  // --- accepting and routing ----------------------------------------------------------------

  private void acceptLoop() {
    while (!closed) {
      SocketChannel ch;
      try {
        ch = server.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!closed) {
          LOG.log(System.Logger.Level.WARNING, "accept failed: " + e.getMessage());
          sleepQuietly(10);
        }
        continue;
      }
      connections.incrementAndGet();
      open.add(ch);
      try {
        spawn("relay-conn", () -> handle(ch));
      } catch (RuntimeException e) {
        closeQuietly(ch);
      }
    }
  }

  private void spawn(String name, Runnable task) {
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

  private void handle(SocketChannel ch) {
    String peer = peer(ch);
    ScheduledFuture<?> deadline =
        watchdog.schedule(() -> closeQuietly(ch), config.headerTimeout().toMillis(), TimeUnit.MILLISECONDS);
    BufReader in = BufReader.of(ch, allocator);
    boolean handedOver = false;
    try {
      HttpHead.Request head;
      try {
        head = HttpHead.readRequest(in::readLine);
      } catch (HttpHead.Malformed e) {
        reply(ch, e.status(), e.getMessage());
        return;
      }
      if (!deadline.cancel(false) || head == null) {
        return; // slowloris: the watchdog closed it, or the client left without a request
      }
      String path = head.path();
      switch (head.method()) {
        case "GET" -> {
          if (path.equals("/status-json.xsl")) {
            String json = StatusJson.render(hostName(), hostName() + ":" + address.getPort(), started, mounts());
            write(ch, Responses.simple(200, "application/json; charset=utf-8", json,
                "Access-Control-Allow-Origin: *"));
          } else if (path.equals("/admin/metadata")) {
            updateMetadata(ch, head);
          } else if (path.equals("/admin/nocopy-stats.json")) {
            write(ch, Responses.simple(200, "application/json; charset=utf-8", statsJson()));
          } else if (path.equals("/")) {
            write(ch, Responses.simple(200, "text/plain; charset=utf-8", indexPage()));
          } else {
            in.close();
            handedOver = true;
            serveListener(ch, peer, path);
          }
        }
        case "PUT", "SOURCE" -> {
          handedOver = true;
          serveSource(ch, peer, head, in);
        }
        default -> reply(ch, 405, "method " + head.method() + " is not allowed");
      }
    } catch (IOException e) {
      if (!closed) {
        LOG.log(System.Logger.Level.DEBUG, peer + ": " + e.getMessage());
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, peer + ": unexpected failure", e);
    } finally {
      deadline.cancel(false);
      if (!handedOver) {
        in.close();
      }
      open.remove(ch);
      closeQuietly(ch);
    }
  }

  // --- listeners ----------------------------------------------------------------------------

  private void serveListener(SocketChannel ch, String peer, String path) throws IOException {
    String mountName;
    try {
      mountName = MountName.validate(path);
    } catch (IllegalArgumentException e) {
      reply(ch, 400, "bad mount: " + e.getMessage());
      return;
    }
    Mount mount = mounts.get(mountName);
    if (mount == null) {
      reply(ch, 404, "no source on " + mountName);
      return;
    }
    InetAddress ip = ((InetSocketAddress) ch.getRemoteAddress()).getAddress();
    if (!reserveListener(ip)) {
      reply(ch, 503, "too many listeners");
      return;
    }
    try {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      if (mount.spliced()) {
        CountDownLatch done;
        try {
          done = mount.addSink(peer, ch, Responses.listenerOk(mount.snapshot()), true);
        } catch (IllegalStateException e) {
          reply(ch, 404, "no source on " + mountName);
          return;
        } catch (IOException e) {
          LOG.log(System.Logger.Level.WARNING, "{0}: cannot add listener {1}: {2}", mountName, peer,
              e.getMessage());
          reply(ch, 503, "cannot serve another listener now");
          return;
        }
        LOG.log(System.Logger.Level.INFO, "{0}: listener {1} joined (splice)", mountName, peer);
        awaitUninterruptibly(done);
        LOG.log(System.Logger.Level.INFO, "{0}: listener {1} left", mountName, peer);
        return;
      }
      Subscriber sub = new Subscriber(peer, true, ch,
          Responses.listenerOk(mount.snapshot()), config.queueSize(), allocator);
      if (!mount.join(sub)) {
        reply(ch, 404, "no source on " + mountName);
        return;
      }
      LOG.log(System.Logger.Level.INFO, "{0}: listener {1} joined", mountName, peer);
      try {
        sub.run();
      } finally {
        mount.leave(sub);
        sub.releaseQueued();
        LOG.log(System.Logger.Level.INFO, "{0}: listener {1} left after {2} bytes{3}", mountName,
            peer, sub.bytesWritten(), sub.dropped ? " (dropped: too slow)" : "");
      }
    } finally {
      releaseListener(ip);
    }
  }

  private boolean reserveListener(InetAddress ip) {
    if (listenerTotal.incrementAndGet() > config.maxListeners()) {
      listenerTotal.decrementAndGet();
      return false;
    }
    AtomicInteger n = perIp.computeIfAbsent(ip, k -> new AtomicInteger());
    if (n.incrementAndGet() > config.maxListenersPerIp()) {
      n.decrementAndGet();
      listenerTotal.decrementAndGet();
      return false;
    }
    return true;
  }

  private void releaseListener(InetAddress ip) {
    listenerTotal.decrementAndGet();
    perIp.computeIfPresent(ip, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
  }

  // --- sources ------------------------------------------------------------------------------

  private void serveSource(SocketChannel ch, String peer, HttpHead.Request head, BufReader in)
      throws IOException {
    try {
      String mountName;
      try {
        mountName = MountName.validate(head.path());
      } catch (IllegalArgumentException e) {
        reply(ch, 400, "bad mount: " + e.getMessage());
        return;
      }
      if (!auth.accepts(head.header("Authorization"))) {
        LOG.log(System.Logger.Level.WARNING, "{0}: source refused for {1}: wrong or missing password",
            peer, mountName);
        reply(ch, 401, "authentication required");
        return;
      }
      long contentLength = -1;
      String cl = head.header("Content-Length");
      if (cl != null && !head.chunked()) {
        try {
          contentLength = Long.parseLong(cl.strip());
        } catch (NumberFormatException e) {
          contentLength = -2;
        }
        if (contentLength < 0) {
          reply(ch, 400, "malformed Content-Length");
          return;
        }
      }
      String type = head.header("Content-Type");
      boolean splice = useSplice() && !head.chunked() && contentLength < 0;
      Mount mount = new Mount(mountName, type == null || type.isBlank() ? "audio/mpeg" : type.strip(),
          head.header("ice-name"), head.header("ice-description"), head.header("ice-genre"),
          config.burstSize(), splice ? "splice" : "userspace");
      // The splice engine is attached before the mount is visible, so no listener can join it as
      // a userspace subscriber in between.
      Fanout fanout = splice ? openFanout(mount, ch, in) : null;
      if (mounts.putIfAbsent(mountName, mount) != null) {
        if (fanout != null) {
          fanout.close();
        }
        reply(ch, 403, "mountpoint in use");
        return;
      }
      sources.put(mountName, ch);
      try {
        if ("100-continue".equalsIgnoreCase(String.valueOf(head.header("Expect")).strip())) {
          write(ch, Responses.CONTINUE);
        }
        write(ch, Responses.SOURCE_OK);
        LOG.log(System.Logger.Level.INFO, "{0}: source {1} connected ({2}{3}, {4} engine)", mountName,
            peer, mount.contentType, head.chunked() ? ", chunked" : "", splice ? "splice" : "userspace");
        if (fanout != null) {
          spliceSource(mount, fanout, peer);
        } else {
          startRecording(mount);
          pump(mount, new SourceBody(in, head.chunked(), contentLength, MAX_SLICE), pending(ch, in),
              peer);
        }
      } finally {
        mounts.remove(mountName, mount);
        sources.remove(mountName, ch);
        mount.end();
      }
    } finally {
      in.close();
    }
  }

  /**
   * Splice engine: the fan-out takes over the source socket (bytes read ahead with the request
   * head go first); this thread waits for the source to end, frees the mount name, then waits for
   * every sink to drain.
   */
  private void spliceSource(Mount mount, Fanout fanout, String peer) {
    try (Fanout f = fanout) {
      startRecording(mount);
      f.start();
      try {
        mount.awaitSourceEnd();
        mounts.remove(mount.name, mount);
        LOG.log(System.Logger.Level.INFO, "{0}: source {1} ended after {2} bytes", mount.name, peer,
            mount.bytesIn());
        f.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Builds the splice engine's fan-out over the source socket and attaches it to the mount. */
  private Fanout openFanout(Mount mount, SocketChannel ch, BufReader in) throws IOException {
    ByteBuffer leading = null;
    long ahead = in.buffered();
    if (ahead > 0) {
      try (Slice s = in.readSlice(ahead)) {
        leading = ByteBuffer.wrap(s.toByteArray()); // once per source: what came with the head
      }
    }
    in.close(); // from here on the fan-out alone reads the socket
    Fanout f = Fanout.builder()
        .sinkBound(spliceBound)
        // at most half a listener's pipe, so a new listener has room for the live stream
        .burst(Math.min(config.burstSize(), spliceBound / 2))
        .leading(leading)
        .coalesce(config.coalesce())
        .listener(mount)
        // one platform thread per mount does the steady work (see Fanout.Builder)
        .sourceThreadFactory(Thread.ofPlatform().daemon().name("nocopy-mount-", 0).factory())
        .open(ch);
    mount.attach(f);
    return f;
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Moves the body into the mount until it ends, on a platform thread of its own (this thread waits
   * for it): the mount's steady work, one read and one write per idle listener per chunk, then
   * waits for the source in poll(2) directly, without the virtual-thread scheduler and poller in
   * between (measured: less CPU per chunk). Errors end the source, never the server.
   */
  /**
   * Bytes of a source waiting to be read, in the reader and in the socket (FIONREAD through the
   * socket adaptor's {@code available()}), or -1 when the socket cannot tell.
   */
  private static java.util.function.LongSupplier pending(SocketChannel ch, BufReader in) {
    java.io.InputStream socket;
    try {
      socket = ch.socket().getInputStream(); // used only for available(), never read or closed
    } catch (IOException e) {
      return () -> -1;
    }
    return () -> {
      try {
        return in.buffered() + socket.available();
      } catch (IOException e) {
        return -1;
      }
    };
  }

  private void pump(Mount mount, SourceBody body, java.util.function.LongSupplier pending,
      String peer) {
    CountDownLatch done = new CountDownLatch(1);
    Thread.ofPlatform().daemon().name("nocopy-mount-" + mount.name).start(() -> {
      try {
        pumpHere(mount, body, pending, peer);
      } finally {
        done.countDown();
      }
    });
    awaitUninterruptibly(done); // the pump ends when its source is closed (server close does that)
  }

  private void pumpHere(Mount mount, SourceBody body, java.util.function.LongSupplier pending,
      String peer) {
    String why = "end of stream";
    long coalesceNanos = config.coalesce().toNanos();
    long windowStart = System.nanoTime();
    long windowBytes = 0;
    boolean slow = true;
    try {
      while (true) {
        long t0 = System.nanoTime();
        Slice s = body.next();
        if (s == null) {
          break;
        }
        long t1 = System.nanoTime();
        boolean waited = t1 - t0 > 200_000; // the read blocked: nothing was waiting
        try {
          mount.publish(s);
        } finally {
          s.close();
        }
        long now = System.nanoTime();
        if (now - windowStart >= 100_000_000L) {
          long in = mount.bytesIn();
          slow = (in - windowBytes) * 1_000_000_000L / (now - windowStart) < COALESCE_BELOW_BYTES_PER_SECOND;
          windowStart = now;
          windowBytes = in;
        }
        if (slow && coalesceNanos > 0) {
          // A packet-paced source: let a window's worth gather so the next read, and each
          // listener's next write, carries it in one system call (--coalesce-ms). After a read
          // that blocked, or a publish that left the source drained (with many listeners a
          // publish takes milliseconds, and the source would otherwise be moved a packet or two
          // at a time), wait out the window from this slice's arrival. Never while more is
          // pending: a source that is ahead is not held back. The splice engine's rule too
          // (Fanout.Builder.coalesce).
          boolean gather = waited;
          if (!gather) {
            long p = pending.getAsLong();
            gather = p >= 0 && p < COALESCE_DRAINED_BELOW;
          }
          long wait = t1 + coalesceNanos - System.nanoTime();
          if (gather && wait > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(wait);
          }
        }
      }
    } catch (ProtocolException e) {
      why = "malformed body: " + e.getMessage();
      LOG.log(System.Logger.Level.WARNING, "{0}: closing source {1}: {2}", mount.name, peer, why);
    } catch (IOException e) {
      why = closed ? "server shutting down" : e.getMessage();
    }
    LOG.log(System.Logger.Level.INFO, "{0}: source {1} ended ({2}) after {3} bytes", mount.name, peer,
        why, mount.bytesIn());
  }

  private void startRecording(Mount mount) {
    Path dir = config.recordDir();
    if (dir == null) {
      return;
    }
    Path file = dir.resolve(MountName.fileStem(mount.name) + "-" + FILE_TIME.format(Instant.now()) + "."
        + MountName.extension(mount.name, mount.contentType)).normalize();
    if (!file.getParent().equals(dir.normalize())) {
      LOG.log(System.Logger.Level.ERROR, "{0}: refusing to record outside {1}", mount.name, dir);
      return;
    }
    FileChannel fc;
    try {
      fc = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.ERROR, "{0}: cannot record to {1}: {2}", mount.name, file, e.getMessage());
      return;
    }
    if (mount.spliced()) {
      CountDownLatch done;
      try {
        done = mount.addSink(file.getFileName().toString(), fc, new byte[0], false);
      } catch (IOException | IllegalStateException e) {
        LOG.log(System.Logger.Level.ERROR, "{0}: cannot record to {1}: {2}", mount.name, file, e.getMessage());
        closeQuietly(fc);
        return;
      }
      LOG.log(System.Logger.Level.INFO, "{0}: recording to {1} (splice)", mount.name, file);
      spawn("relay-record " + mount.name, () -> {
        awaitUninterruptibly(done);
        closeQuietly(fc);
      });
      return;
    }
    Subscriber rec = new Subscriber(file.getFileName().toString(), false, fc, new byte[0],
        Math.max(config.queueSize(), RECORDING_BACKLOG), allocator);
    if (!mount.join(rec)) {
      closeQuietly(fc);
      return;
    }
    LOG.log(System.Logger.Level.INFO, "{0}: recording to {1}", mount.name, file);
    spawn("relay-record " + mount.name, () -> {
      try {
        rec.run();
      } catch (IOException e) {
        LOG.log(System.Logger.Level.ERROR, "{0}: recording {1} failed: {2}", mount.name, file, e.getMessage());
      } finally {
        mount.leave(rec);
        rec.releaseQueued();
      }
    });
  }

  // --- cascading ----------------------------------------------------------------------------

  /** Pulls {@code upstream} and serves it under the same mount name, reconnecting until closed. */
  private void pullLoop(URI upstream) {
    String mountName;
    try {
      mountName = MountName.validate(upstream.getPath());
    } catch (IllegalArgumentException e) {
      LOG.log(System.Logger.Level.ERROR, "--relay {0}: {1}", upstream, e.getMessage());
      return;
    }
    long backoff = 500;
    while (!closed) {
      boolean gotStream = false;
      try (SocketChannel ch = SocketChannel.open()) {
        open.add(ch);
        try {
          int port = upstream.getPort() < 0 ? 80 : upstream.getPort();
          ch.connect(new InetSocketAddress(upstream.getHost(), port));
          write(ch, ("GET " + upstream.getRawPath() + " HTTP/1.0\r\nHost: " + upstream.getHost() + ":"
              + port + "\r\nUser-Agent: " + Responses.SERVER + "\r\nIcy-MetaData: 0\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          try (BufReader in = BufReader.of(ch, allocator)) {
            HttpHead.Response answer = HttpHead.readResponse(in::readLine);
            if (answer.status() != 200) {
              throw new IOException("upstream answered '" + answer.statusLine() + "'");
            }
            String type = answer.header("Content-Type");
            Mount mount = new Mount(mountName, type == null ? "audio/mpeg" : type,
                answer.header("icy-name"), answer.header("icy-description"), answer.header("icy-genre"),
                config.burstSize(), engineName());
            if (mounts.putIfAbsent(mountName, mount) != null) {
              throw new IOException("mount " + mountName + " is already served by a local source");
            }
            gotStream = true;
            backoff = 500;
            LOG.log(System.Logger.Level.INFO, "{0}: relaying {1}", mountName, upstream);
            try {
              startRecording(mount);
              pump(mount, new SourceBody(in, false, -1, MAX_SLICE), pending(ch, in),
                  upstream.toString());
            } finally {
              mounts.remove(mountName, mount);
              mount.end();
            }
          }
        } finally {
          open.remove(ch);
        }
      } catch (IOException | RuntimeException e) {
        if (!closed) {
          LOG.log(System.Logger.Level.WARNING, "--relay {0}: {1}; retrying in {2} ms", upstream,
              e.getMessage(), backoff);
        }
      }
      if (!gotStream) {
        sleepQuietly(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      } else {
        sleepQuietly(200);
      }
    }
  }

  // --- helpers ------------------------------------------------------------------------------

  /**
   * Icecast's metadata update, as libshout, ezstream and butt send it: {@code GET
   * /admin/metadata?mode=updinfo&mount=/m&song=Title} with the source's credentials. The title
   * shows in the status page; it is not interleaved into the stream (no icy-metaint).
   */
  private void updateMetadata(SocketChannel ch, HttpHead.Request head) throws IOException {
    if (!auth.accepts(head.header("Authorization"))) {
      reply(ch, 401, "authentication required");
      return;
    }
    java.util.Map<String, String> q = head.query();
    Mount mount = q.get("mount") == null ? null : mounts.get(q.get("mount"));
    if (!"updinfo".equals(q.get("mode")) || mount == null) {
      reply(ch, mount == null ? 404 : 400, mount == null ? "no such mount" : "mode must be updinfo");
      return;
    }
    String song = q.getOrDefault("song", "");
    mount.title = song.length() > 512 ? song.substring(0, 512) : song;
    write(ch, Responses.simple(200, "text/xml", "<?xml version=\"1.0\"?>\n<iceresponse><message>Metadata"
        + " update successful</message><return>1</return></iceresponse>\n"));
  }

  /** The process's costs and the relay's totals, for the demo and benchmark harness. */
  private String statsJson() {
    ProcessStats.Reading r = ProcessStats.read();
    long in = 0;
    long out = 0;
    int listeners = 0;
    for (MountSnapshot m : mounts()) {
      in += m.bytesIn();
      out += m.bytesOut();
      listeners += m.listeners();
    }
    return "{\"cpu_ns\":" + r.cpuNanos() + ",\"allocated_bytes\":" + r.allocatedBytes()
        + ",\"gc_count\":" + r.gcCount() + ",\"gc_ms\":" + r.gcMillis() + ",\"rss_bytes\":"
        + r.rssBytes() + ",\"pool_blocks_in_use\":" + allocator.inUse() + ",\"pool_reserved_bytes\":"
        + allocator.reservedBytes() + ",\"mounts\":" + mounts.size() + ",\"listeners\":" + listeners
        + ",\"bytes_in\":" + in + ",\"bytes_out\":" + out + ",\"engine\":\"" + engineName() + "\"}";
  }

  private String indexPage() {
    StringBuilder b = new StringBuilder("nocopy relay\n\n");
    List<MountSnapshot> ms = mounts();
    if (ms.isEmpty()) {
      b.append("no mounts yet: publish with PUT or SOURCE (see ./nocopy relay --help)\n");
    }
    for (MountSnapshot m : ms) {
      b.append(m.mount()).append("  ").append(m.contentType()).append("  listeners ")
          .append(m.listeners()).append('\n');
    }
    return b.toString();
  }

  private String hostName() {
    return address.getAddress().isAnyLocalAddress() ? "127.0.0.1" : address.getHostString();
  }

  /**
   * Answers with an error and ends the connection gracefully: output is shut down first and unread
   * request bytes are drained for a moment, so that the kernel does not answer them with a reset
   * that could destroy the response before the client reads it.
   */
  private void reply(SocketChannel ch, int status, String message) throws IOException {
    write(ch, Responses.error(status, message));
    ch.shutdownOutput();
    ScheduledFuture<?> cut = watchdog.schedule(() -> closeQuietly(ch), 1, TimeUnit.SECONDS);
    try {
      ByteBuffer sink = ByteBuffer.allocate(4096); // error path only
      long drained = 0;
      while (drained < (1 << 20)) {
        sink.clear();
        int n = ch.read(sink);
        if (n < 0) {
          break;
        }
        drained += n;
      }
    } catch (IOException ignored) {
      // closed by the cut-off, or reset by the peer: either way we are done
    } finally {
      cut.cancel(false);
    }
  }

  private static void write(SocketChannel ch, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      ch.write(b);
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

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // closing is best effort
    }
  }

  private static void sleepQuietly(long ms) {
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
    closeQuietly(server);
    for (SocketChannel src : sources.values()) {
      closeQuietly(src);
    }
    for (Mount m : mounts.values()) {
      m.end();
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    // let recordings drain, then cut everyone else off
    for (Thread t : workers) {
      if (t.getName().startsWith("relay-record")) {
        joinUntil(t, deadline);
      }
    }
    for (Mount m : mounts.values()) {
      m.dropAll();
    }
    for (SocketChannel ch : open) {
      closeQuietly(ch);
    }
    for (Thread t : workers) {
      joinUntil(t, deadline);
    }
    try {
      acceptor.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    watchdog.shutdownNow();
    allocator.close();
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
