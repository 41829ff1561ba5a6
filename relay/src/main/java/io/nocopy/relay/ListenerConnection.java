package io.nocopy.relay;

import io.nocopy.relay.http.HttpHead;
import io.nocopy.fanout.Reason;
import io.nocopy.relay.format.FormatScanner;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;

/**
 * One listener's connection, after its {@code GET} of a mount: admission (the mount exists, the
 * listener limits allow one more), the response head, then the socket is a sink of the mount's
 * fan-out until the source ends, the listener leaves, or it falls too far behind. Runs on the
 * connection's own thread; the connection is closed by the caller afterwards.
 *
 * <p>The listener starts where the mount's format allows (a frame or page boundary, with the Ogg
 * header pages first: {@link ListenerStream}); one that asks with {@code Icy-MetaData: 1} gets
 * {@code icy-metaint} and ICY metadata blocks, as Icecast gives them: for every format but Ogg,
 * whose titles travel in the stream's own comment headers.
 *
 * <p>Fallbacks ({@link Fallbacks}): a mount without a source serves its fallback's stream; when the
 * source ends, or an admin or a returning source moves the listener, its connection stays and it
 * goes on with the other mount's stream from a format boundary (the Ogg header pages first), its
 * ICY blocks still every {@code metaint} bytes. The response head is the first mount's.
 */
final class ListenerConnection {
  /** Icecast's answer for a mount without a source (and without a fallback that has one). */
  private static byte[] notFound() {
    return AdminXml.errorPage(404, "The file you requested could not be found");
  }

  private static final System.Logger LOG = System.getLogger(ListenerConnection.class.getName());

  private final RelayServer server;
  private static final byte[] NO_BYTES = new byte[0];

  private final SocketChannel ch;
  private final String peer;
  private volatile MountFanout.Attached current; // the sink serving it now, across moves
  private volatile boolean timeUp; // its mount's max-listener-duration has passed

  ListenerConnection(RelayServer server, SocketChannel ch, String peer) {
    this.server = server;
    this.ch = ch;
    this.peer = peer;
  }

  /**
   * Serves the mount at {@code path} to this listener, or answers why not (400, 404, 503).
   *
   * @param request the listener's request: its path, {@code Icy-MetaData} and {@code User-Agent}
   * @throws IOException if the listener went away
   */
  void serve(HttpHead.Request request) throws IOException {
    String path = request.path();
    String icyMetadata = request.header("Icy-MetaData");
    String mountName;
    try {
      mountName = MountName.validate(path);
    } catch (IllegalArgumentException e) {
      server.refuse(ch, 400, "bad mount: " + e.getMessage());
      return;
    }
    if (server.mount(mountName) == null) {
      server.relays().demand(mountName); // an on-demand relay of this mount connects now
    }
    Mount mount = server.fallbacks().forListener(mountName);
    if (mount == null) {
      server.refuse(ch, notFound());
      return;
    }
    InetAddress ip = ((InetSocketAddress) ch.getRemoteAddress()).getAddress();
    io.nocopy.relay.config.MountSettings settings = server.mountSettings(mount.name);
    boolean admitting = settings.maxListeners() != null; // until the first sink joins
    if (admitting && !mount.admit(settings.maxListeners())) {
      server.refuseAsIcecast(ch, 403, "max listeners reached");
      return;
    }
    if (!server.listenerLimits().reserve(ip)) {
      if (admitting) {
        mount.admissionEnded();
      }
      server.refuse(ch, 503, "too many listeners");
      return;
    }
    Mount admittedTo = mount;
    java.util.concurrent.ScheduledFuture<?> timeLimit = null;
    if (settings.maxListenerDuration() != null && !settings.maxListenerDuration().isZero()) {
      String first = mount.name;
      timeLimit = server.schedule(() -> {
        LOG.log(System.Logger.Level.INFO, "{0}: listener {1} reached max-listener-duration {2} s",
            first, peer, settings.maxListenerDuration().toSeconds());
        timeUp = true;
        MountFanout.Attached s = current;
        if (s != null) {
          s.drop();
        }
      }, settings.maxListenerDuration());
    }
    ListenerRegistry.Entry entry = null; // from the first attach on, across moves
    long id = server.listenerRegistry().nextId();
    long streamed = 0; // stream bytes of the sinks that ended
    byte[] head = null;
    try {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      boolean asked = wantsIcy(icyMetadata);
      boolean icy = asked && !"ogg".equals(mount.scanner.formatName());
      int metaint = server.config().icyMetaint();
      head = server.listenerHead(mount.snapshot(), icy ? metaint : 0);
      long phase = 0;
      boolean first = true;
      while (mount != null) {
        if (!first && !awaitBoundary(mount)) {
          mount = server.fallbacks().afterSourceEnd(mount);
          continue;
        }
        ListenerStream stream = new ListenerStream(mount.scanner, icy ? mount.icy : null, metaint, phase);
        MountFanout.Attached sink;
        try {
          sink = mount.fanout.attach(peer, ch, first ? head : NO_BYTES, MountFanout.Role.LISTENER,
              stream, stream.icy() ? stream : null);
        } catch (IOException e) {
          LOG.log(System.Logger.Level.WARNING, "{0}: cannot add listener {1}: {2}", mount.name, peer,
              e.getMessage());
          if (first) {
            server.refuse(ch, 503, "cannot serve another listener now");
          }
          return;
        }
        if (sink == null) { // the source ended before the listener was added
          if (first) {
            server.refuse(ch, notFound());
            return;
          }
          mount = server.fallbacks().afterSourceEnd(mount);
          continue;
        }
        first = false;
        current = sink;
        if (timeUp) { // max-listener-duration passed while it moved
          sink.drop();
        }
        if (entry == null) {
          entry = server.listenerRegistry().add(id, ip.getHostAddress(), request.header("User-Agent"), mount, sink);
          server.countListener();
        } else {
          entry.mount = mount;
          entry.sink = sink;
        }
        if (admitting) {
          admittedTo.listenerJoined(sink);
          admittedTo.admissionEnded();
          admitting = false;
          serveJoined(mount, sink);
        } else {
          serve(mount, sink);
        }
        streamed += sink.bytesWritten();
        mount = next(mount, sink);
        if (mount != null) {
          phase = stream.phaseAt(sink.endPosition());
        }
      }
    } finally {
      if (timeLimit != null) {
        timeLimit.cancel(false);
      }
      if (admitting) {
        admittedTo.admissionEnded();
      }
      server.listenerLimits().release(ip);
      if (entry != null) {
        server.listenerRegistry().remove(entry);
        server.streamed(ch, 200, head.length + streamed);
      }
    }
  }

  /**
   * A listener coming from another mount joins the stream on a boundary its burst still holds:
   * never before the stream's first boundary (an MP3 stream's ID3 tag would reach a decoder in the
   * middle of its stream), never in the middle of an Ogg page (the chain's header pages come first,
   * as a chained stream needs). Waits up to 10 seconds for such a boundary (an Ogg page can take a
   * second); a burst smaller than the stream's pages never holds one, and the listener then joins
   * as a new listener would, with a warning.
   *
   * @return false if the mount's source ended meanwhile
   */
  private boolean awaitBoundary(Mount mount) {
    if (mount.scanner.formatName().equals("opaque")) {
      return true;
    }
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    while (true) {
      FormatScanner.Start s = mount.scanner.startAtOrAfter(Math.max(0, mount.bytesIn() - mount.fanout.burst()));
      if (s != null && s.position() >= mount.bytesIn() - mount.fanout.burst()) {
        return true;
      }
      if (server.mount(mount.name) != mount || server.closed()) {
        return false;
      }
      if (System.nanoTime() > deadline) {
        LOG.log(System.Logger.Level.WARNING, "{0}: no {1} boundary within the burst ({2} bytes) for"
            + " listener {3}: it joins mid-frame (raise burst-size above the stream''s page size)",
            mount.name, mount.scanner.formatName(), mount.fanout.burst(), peer);
        return true;
      }
      RelayServer.sleepQuietly(10);
    }
  }

  /** Counts the listener on {@code mount} while its sink runs. */
  private void serve(Mount mount, MountFanout.Attached sink) {
    mount.listenerJoined(sink);
    serveJoined(mount, sink);
  }

  /** Runs the sink of a listener already counted on {@code mount}, and stops counting it. */
  private void serveJoined(Mount mount, MountFanout.Attached sink) {
    LOG.log(System.Logger.Level.INFO, "{0}: listener {1} joined ({2})", mount.name, peer,
        sink.transport());
    try {
      sink.awaitEnd();
    } finally {
      mount.listenerLeft(sink);
      LOG.log(System.Logger.Level.INFO, "{0}: listener {1} left after {2} bytes{3}", mount.name,
          peer, sink.bytesWritten(), sink.droppedAsSlow() ? " (dropped: too slow)"
              : sink.reason() == Reason.DETACHED ? " (moved)" : "");
    }
  }

  /**
   * Where a listener whose sink on {@code mount} ended goes on, its connection kept: the mount it
   * was moved to, or, when the source ended, the mount's fallback; null to disconnect it.
   */
  private Mount next(Mount mount, MountFanout.Attached sink) {
    Reason why = sink.reason();
    if ((why != Reason.DETACHED && why != Reason.FINISHED) || !ch.isOpen() || server.closed()) {
      return null;
    }
    Mount to = sink.movedTo();
    if (to == null || server.mount(to.name) != to) {
      to = server.fallbacks().afterSourceEnd(mount); // its destination ended too: this one's fallback
    }
    if (to != null) {
      LOG.log(System.Logger.Level.INFO, "{0}: listener {1} moves to {2}", mount.name, peer, to.name);
    }
    return to;
  }

  /** Icecast's test: the header's value is a positive number. */
  static boolean wantsIcy(String header) {
    if (header == null) {
      return false;
    }
    try {
      return Integer.parseInt(header.strip()) > 0;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
