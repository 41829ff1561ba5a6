package io.nocopy.relay;

import io.nocopy.relay.http.HeadReader;
import io.nocopy.relay.http.HttpHead;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's way in: the sockets it accepts on (one platform thread accepting on each), the caps
 * a connection meets before it is served, and the reading and routing of its request head. Each
 * connection then runs on a virtual thread of its own ({@link RelayServer#spawn}): sources ({@code
 * PUT}/{@code SOURCE}, or a SHOUTcast v1 socket's) to a {@link SourceConnection}, listeners ({@code
 * GET} of a mount) to a {@link ListenerConnection}, the status and admin pages to {@link
 * AdminPages}. When the connection ends, its line goes to the access log.
 *
 * <h2>Caps</h2>
 *
 * A connection is closed at once beyond {@code --max-connections}, or when its address already has
 * {@code --max-pending-per-ip} connections still sending their head. A head is read into a small
 * heap buffer ({@link HeadReader}) within a shared byte budget ({@link #HEAD_BUDGET}), under
 * {@code --header-timeout}: pooled memory is taken only by authenticated sources and by listeners.
 * Each of these caps logs when it bites, at most every 10 seconds. A client whose head has arrived
 * beyond {@code --max-clients} gets Icecast's 403.
 *
 * <p>Lifetime: made by the server's constructor, which then {@link #bind}s the sockets; {@link
 * #start} starts accepting; the server's close calls {@link #closeSockets} and then {@link #join}.
 * Thread-safe: the counters and maps are concurrent, the socket list is fixed once bound.
 */
final class Admission {
  private static final System.Logger LOG = System.getLogger(Admission.class.getName());
  /** The bytes all request heads being read may hold together (heap, not pooled memory). */
  static final long HEAD_BUDGET = 16L << 20;

  private final RelayServer server;
  private final Set<SocketChannel> open; // the server's open connections
  private final AccessLog accessLog; // null: none
  private final AdminPages admin;
  private final HeadReader.Budget heads = new HeadReader.Budget(HEAD_BUDGET);
  private final ConcurrentHashMap<InetAddress, Integer> pending = new ConcurrentHashMap<>();
  private final AtomicInteger clients = new AtomicInteger();
  private final CapLog connectionCap = new CapLog("refused");
  private final CapLog acceptFailures = new CapLog("failed");
  private final CapLog pendingCap = new CapLog("refused");
  private final CapLog headCap = new CapLog("refused");
  private final ConcurrentHashMap<SocketChannel, AccessLog.Exchange> exchanges = new ConcurrentHashMap<>();
  private final AtomicLong accepted = new AtomicLong();
  private final List<Listening> sockets = new ArrayList<>(); // the first is --listen
  private final List<Thread> acceptors = new ArrayList<>();

  /**
   * @param server the server the connections are served by
   * @param open the server's set of open connections: accepted ones are added, ended ones removed
   * @param accessLog where each finished request is logged, or null for nowhere (owned by the
   *     server)
   */
  Admission(RelayServer server, Set<SocketChannel> open, AccessLog accessLog) {
    this.server = server;
    this.open = open;
    this.accessLog = accessLog;
    this.admin = new AdminPages(server);
  }

  /**
   * One socket the server accepts on.
   *
   * @param ch the bound channel, closed by {@link #closeSockets()}
   * @param address the address actually bound
   * @param shoutcastMount the mount of the SHOUTcast sources this socket takes, or null
   */
  record Listening(ServerSocketChannel ch, InetSocketAddress address, String shoutcastMount) {
    static Listening bind(RelayConfig.ListenSocket s) throws IOException {
      ServerSocketChannel ch = ServerSocketChannel.open();
      try {
        ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        ch.bind(s.address(), 1024);
        return new Listening(ch, (InetSocketAddress) ch.getLocalAddress(), s.shoutcastMount());
      } catch (IOException e) {
        RelayServer.closeQuietly(ch);
        java.net.BindException b = new java.net.BindException("cannot listen on " + s.address()
            + (s.shoutcastMount() != null ? " (SHOUTcast sources for " + s.shoutcastMount() + ")" : "")
            + ": " + e.getMessage());
        b.initCause(e);
        throw b;
      }
    }
  }

  /**
   * Binds every socket (not accepting yet), or none.
   *
   * @param wanted {@code --listen} first, then the others
   * @throws IOException naming the address that cannot be bound (those bound before are closed)
   */
  void bind(List<RelayConfig.ListenSocket> wanted) throws IOException {
    try {
      for (RelayConfig.ListenSocket w : wanted) {
        sockets.add(Listening.bind(w));
      }
    } catch (IOException e) {
      closeSockets();
      throw e;
    }
    for (Listening l : sockets) {
      acceptors.add(Thread.ofPlatform().name("relay-accept " + l.address).unstarted(() -> acceptLoop(l)));
    }
  }

  /** The sockets bound, {@code --listen}'s first. */
  List<Listening> sockets() {
    return sockets;
  }

  /** Starts accepting on every socket. */
  void start() {
    for (Thread t : acceptors) {
      t.start();
    }
  }

  /** Stops accepting: closes every socket (the accepting threads then end). */
  void closeSockets() {
    for (Listening l : sockets) {
      RelayServer.closeQuietly(l.ch);
    }
  }

  /** Waits for the accepting threads to end, until {@code deadlineNanos} ({@link System#nanoTime}). */
  void join(long deadlineNanos) {
    for (Thread t : acceptors) {
      RelayServer.joinUntil(t, deadlineNanos);
    }
  }

  /** Connections accepted since the start. */
  long accepted() {
    return accepted.get();
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

  /** Heap bytes held by request heads being read now. */
  long headBytes() {
    return heads.inUse();
  }

  /** The access log's record of the request on {@code ch} being answered, or null. */
  AccessLog.Exchange exchange(SocketChannel ch) {
    return exchanges.get(ch);
  }

  private void acceptLoop(Listening socket) {
    while (!server.closed()) {
      SocketChannel ch;
      try {
        ch = socket.ch.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!server.closed()) {
          // out of descriptors (EMFILE) fails every accept until a connection ends: said once,
          // then every 10 s with the count, not every 10 ms
          acceptFailures.bite("accept failed: " + e.getMessage());
          RelayServer.sleepQuietly(10);
        }
        continue;
      }
      RelayConfig config = server.config();
      if (open.size() >= config.maxConnections()) {
        connectionCap.bite("--max-connections " + config.maxConnections()
            + " reached: closing new connections at once");
        RelayServer.closeQuietly(ch);
        continue;
      }
      InetAddress ip = ip(ch);
      if (ip == null) {
        RelayServer.closeQuietly(ch);
        continue;
      }
      if (pending.merge(ip, 1, Integer::sum) > config.maxPendingPerIp()) {
        releasePending(ip);
        pendingCap.bite(ip.getHostAddress() + " has --max-pending-per-ip "
            + config.maxPendingPerIp() + " connections still sending their request head: closing"
            + " its new ones at once");
        RelayServer.closeQuietly(ch);
        continue;
      }
      open.add(ch);
      accepted.incrementAndGet();
      try {
        server.spawn("relay-conn", () -> handle(ch, ip, socket.shoutcastMount));
      } catch (RuntimeException e) {
        open.remove(ch);
        releasePending(ip);
        RelayServer.closeQuietly(ch);
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
   * Logs when a cap bites (or an accept fails): at once the first time, then at most every 10
   * seconds with the number of connections refused (or accepts failed) in between, so that a
   * flood cannot flood the log too.
   */
  private static final class CapLog {
    private final String counted;
    private long total;
    private long since;
    private long lastLog;

    CapLog(String counted) {
      this.counted = counted;
    }

    synchronized void bite(String what) {
      total++;
      since++;
      long now = System.nanoTime();
      if (total == 1 || now - lastLog >= TimeUnit.SECONDS.toNanos(10)) {
        LOG.log(System.Logger.Level.WARNING, what + " (" + since + " " + counted + " since the last report)");
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
        server.schedule(() -> RelayServer.closeQuietly(ch), server.config().headerTimeout());
    HeadReader reader = new HeadReader(ch, heads);
    boolean stillPending = true;
    HttpHead.Request head = null;
    AccessLog.Exchange exchange = new AccessLog.Exchange();
    exchanges.put(ch, exchange);
    boolean counted = false; // under --max-clients
    try {
      try {
        SourceLogins logins = server.logins().sources();
        head = shoutcastMount == null
            ? HttpHead.readRequest(reader)
            : ShoutcastSource.readHead(reader, ch, shoutcastMount, logins.auth(shoutcastMount),
                logins.user(shoutcastMount), exchange);
      } catch (HttpHead.Malformed e) {
        releasePending(ip);
        stillPending = false;
        server.refuse(ch, e.status(), e.getMessage());
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
      if (clients.incrementAndGet() > server.config().maxClients()) {
        server.refuseAsIcecast(ch, 403, "Icecast connection limit reached");
        return;
      }
      try {
        head.contentLength();
      } catch (IllegalArgumentException e) {
        server.refuse(ch, 400, e.getMessage());
        return;
      }
      switch (head.method()) {
        case "GET" -> {
          if (!admin.serve(ch, head)) {
            new ListenerConnection(server, ch, peer).serve(head);
          }
        }
        case "PUT", "SOURCE" ->
            new SourceConnection(server, ch, peer, shoutcastMount != null).serve(head, ahead);
        default -> server.refuse(ch, 405, "method " + head.method() + " is not allowed");
      }
    } catch (IOException e) {
      if (!server.closed()) {
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
      RelayServer.closeQuietly(ch);
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
}
