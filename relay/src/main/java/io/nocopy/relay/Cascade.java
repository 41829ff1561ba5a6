package io.nocopy.relay;

import io.nocopy.buffer.BufReader;
import io.nocopy.relay.config.IcecastConfig.RelaySettings;
import io.nocopy.relay.http.HttpHead;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One relayed mount ({@code <relay>}, {@code --relay URL}, or a mount of this server's master):
 * pulls the upstream mount as a listener would and serves it here under its local mount name, with
 * the upstream's content type and {@code icy-*} metadata. The request is the one Icecast 2.4's
 * relays send ({@code User-Agent}, {@code Host}, {@code Icy-MetaData}, and Basic auth when the relay
 * has a user name). With {@code relay-shoutcast-metadata} (for a {@code --relay}: {@code
 * --relay-metadata}, on by default) it asks for ICY metadata; when the
 * upstream interleaves it, the blocks are stripped from the audio and their titles become this
 * mount's ({@link IcyDemux}). The pulled body is read into pooled slices and published to the
 * mount's fan-out (userspace transport).
 *
 * <p>Reconnects until {@link #stop} or the server closes: with a growing back-off (0.5 s to 10 s)
 * while the upstream cannot be reached or refuses, after 0.2 s when a stream ended. An on-demand
 * relay connects only when a listener asks for its mount ({@link #demand()}) and disconnects once
 * it has had no listener for two checks in a row (checked every second).
 *
 * <p>Thread-safety: {@link #run()} runs on a thread of its own; {@link #stop} and {@link
 * #demand()} may be called from any thread.
 */
final class Cascade {
  private static final System.Logger LOG = System.getLogger(Cascade.class.getName());
  /** How often an on-demand relay checks whether it still has listeners. */
  private static final long IDLE_CHECK_MS = 1000;

  private final RelayServer server;
  private final RelaySettings relay;
  private final URI upstream; // for logs and the status pages: no credentials
  private final String mountName;
  private final Semaphore wanted = new Semaphore(0);
  private volatile boolean stopped;
  private volatile SocketChannel current; // the upstream connection, while there is one

  /**
   * @param server the server that serves the mount
   * @param relay where to pull from and the local mount (a valid mount name)
   */
  Cascade(RelayServer server, RelaySettings relay) {
    this.server = server;
    this.relay = relay;
    this.upstream = URI.create("http://" + hostPort(relay) + relay.mount());
    this.mountName = relay.localMount();
  }

  /** The local mount this relay serves. */
  String mountName() {
    return mountName;
  }

  /** Whether it connects only while listeners want its mount. */
  boolean onDemand() {
    return relay.onDemand();
  }

  /** The upstream it pulls from, without credentials. */
  URI upstream() {
    return upstream;
  }

  /** Asks an on-demand relay to connect now (a listener wants its mount); no effect otherwise. */
  void demand() {
    wanted.release();
  }

  /** What it pulls and where it serves it. */
  RelaySettings settings() {
    return relay;
  }

  /**
   * Ends the relay: it does not connect again.
   *
   * @param cut whether a stream being pulled is cut now (its listeners are disconnected); if not,
   *     it is served to its end (its upstream ends it), so listeners get all the upstream sent
   */
  void stop(boolean cut) {
    stopped = true;
    wanted.release();
    SocketChannel ch = current;
    if (cut && ch != null) {
      RelayServer.closeQuietly(ch);
    }
  }

  private boolean running() {
    return !stopped && !server.closed();
  }

  /** Pulls and serves until {@link #stop} or the server closes (runs on a thread of its own). */
  void run() {
    long backoff = 500;
    while (running()) {
      if (relay.onDemand() && !awaitDemand()) {
        return;
      }
      boolean gotStream = false;
      try (SocketChannel ch = SocketChannel.open()) {
        current = ch;
        server.track(ch);
        try {
          if (!running()) {
            return; // stopped between the check above and the connection being visible to stop
          }
          gotStream = pull(ch);
          backoff = 500;
        } finally {
          server.untrack(ch);
          current = null;
        }
      } catch (IOException | RuntimeException e) {
        if (running()) {
          LOG.log(System.Logger.Level.WARNING, "relay {0} -> {1}: {2}; retrying in {3} ms", upstream,
              mountName, e.getMessage(), backoff);
        }
      }
      if (!running()) {
        return;
      }
      if (!gotStream) {
        RelayServer.sleepQuietly(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      } else if (!relay.onDemand()) {
        RelayServer.sleepQuietly(200);
      }
    }
  }

  /** Waits until a listener wants the mount; false if the relay or server ended meanwhile. */
  private boolean awaitDemand() {
    try {
      while (running()) {
        if (wanted.tryAcquire(500, TimeUnit.MILLISECONDS)) {
          wanted.drainPermits();
          return running();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }

  /** The request head Icecast 2.4's relays send. */
  byte[] request() {
    StringBuilder b = new StringBuilder(256)
        .append("GET ").append(relay.mount()).append(" HTTP/1.0\r\n")
        .append("User-Agent: ").append(Responses.SERVER).append("\r\n")
        .append("Host: ").append(relay.server()).append("\r\n")
        .append("Icy-MetaData: ").append(relay.relayShoutcastMetadata() ? 1 : 0).append("\r\n");
    if (relay.username() != null && relay.password() != null) {
      b.append("Authorization: Basic ").append(Base64.getEncoder().encodeToString(
          (relay.username() + ":" + relay.password()).getBytes(StandardCharsets.UTF_8))).append("\r\n");
    }
    return b.append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
  }

  /** One pull: connects, asks, serves the answer's body until it ends. True if a stream was served. */
  private boolean pull(SocketChannel ch) throws IOException {
    ch.connect(new InetSocketAddress(relay.server(), relay.port()));
    Responses.send(ch, request());
    try (BufReader in = BufReader.of(ch, server.allocator())) {
      HttpHead.Response answer = HttpHead.readResponse(in::readLine);
      if (answer.status() != 200) {
        throw new IOException("upstream answered '" + answer.statusLine() + "'");
      }
      String type = answer.header("Content-Type");
      int metaint = metaint(answer.header("icy-metaint"));
      IcyDemux icy = metaint > 0 ? new IcyDemux(in, metaint, MountFanout.MAX_SLICE) : null;
      Mount mount = new Mount(mountName, type == null ? "audio/mpeg" : type,
          SourceInfo.fromSource(answer.headers()),
          m -> {
            if (icy != null) {
              icy.titlesFor(m);
            }
            return MountFanout.ofBody(m, upstream.toString(),
                icy != null ? icy : new SourceBody(in, false, -1, MountFanout.MAX_SLICE)::next, in, ch,
                server.config(), server.allocator());
          });
      if (!server.live().publish(mount, ch)) {
        mount.fanout.close();
        throw new IOException("mount " + mountName + " is already served by a local source");
      }
      server.countSource(true);
      mount.sourceIp = upstream.getHost();
      LOG.log(System.Logger.Level.INFO, "{0}: relaying {1} ({2}{3})", mountName, upstream,
          mount.fanout.describe(), relay.onDemand() ? ", on demand" : "");
      Thread idle = relay.onDemand() ? Thread.ofVirtual().name("relay-idle " + mountName)
          .start(() -> closeWhenIdle(mount, ch)) : null;
      try {
        server.fallbacks().sourceStarted(mount); // fallback-override applies to relayed mounts too
        server.recorder().start(mount);
        CodecProbe.watch(mount);
        mount.fanout.run(() -> server.live().unpublish(mount, ch));
      } finally {
        server.live().unpublish(mount, ch);
        if (idle != null) {
          idle.interrupt();
        }
      }
      return true;
    }
  }

  /**
   * An on-demand relay's watch: closes the upstream connection once the mount has had no listener
   * at two checks in a row, which ends the mount; returns when interrupted (the pull ended).
   */
  private void closeWhenIdle(Mount mount, SocketChannel ch) {
    int idleChecks = 0;
    try {
      while (idleChecks < 2) {
        Thread.sleep(IDLE_CHECK_MS);
        idleChecks = mount.listeners() == 0 ? idleChecks + 1 : 0;
      }
      LOG.log(System.Logger.Level.INFO, "{0}: no listeners, on-demand relay disconnects from {1}",
          mountName, upstream);
      RelayServer.closeQuietly(ch);
    } catch (InterruptedException e) {
      // the pull ended first
    }
  }

  private static String hostPort(RelaySettings r) {
    String host = r.server().indexOf(':') >= 0 ? "[" + r.server() + "]" : r.server();
    return host + ":" + r.port();
  }

  /** The upstream's {@code icy-metaint}, or 0 when it interleaves no metadata. */
  static int metaint(String header) {
    if (header == null) {
      return 0;
    }
    try {
      int n = Integer.parseInt(header.strip());
      return n > 0 ? n : 0;
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
