package io.nocopy.relay;

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
 */
final class ListenerConnection {
  private static final System.Logger LOG = System.getLogger(ListenerConnection.class.getName());

  private final RelayServer server;
  private final SocketChannel ch;
  private final String peer;

  ListenerConnection(RelayServer server, SocketChannel ch, String peer) {
    this.server = server;
    this.ch = ch;
    this.peer = peer;
  }

  /**
   * Serves the mount at {@code path} to this listener, or answers why not (400, 404, 503).
   *
   * @param path the request's path
   * @param icyMetadata the request's {@code Icy-MetaData} header, or null
   * @throws IOException if the listener went away
   */
  void serve(String path, String icyMetadata) throws IOException {
    String mountName;
    try {
      mountName = MountName.validate(path);
    } catch (IllegalArgumentException e) {
      server.refuse(ch, 400, "bad mount: " + e.getMessage());
      return;
    }
    Mount mount = server.mount(mountName);
    if (mount == null) {
      mount = server.relays().demand(mountName); // an on-demand relay connects now
    }
    if (mount == null) {
      server.refuse(ch, 404, "no source on " + mountName);
      return;
    }
    InetAddress ip = ((InetSocketAddress) ch.getRemoteAddress()).getAddress();
    if (!server.listenerLimits().reserve(ip)) {
      server.refuse(ch, 503, "too many listeners");
      return;
    }
    try {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      MountFanout.Attached sink;
      boolean asked = wantsIcy(icyMetadata);
      boolean icy = asked && !"ogg".equals(mount.scanner.formatName());
      int metaint = server.config().icyMetaint();
      ListenerStream stream = new ListenerStream(mount.scanner, icy ? mount.icy : null, metaint);
      try {
        byte[] head = Responses.listenerOk(mount.snapshot(), asked, icy ? metaint : 0);
        sink = mount.fanout.attach(peer, ch, head, MountFanout.Role.LISTENER, stream,
            stream.icy() ? stream : null);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "{0}: cannot add listener {1}: {2}", mountName, peer,
            e.getMessage());
        server.refuse(ch, 503, "cannot serve another listener now");
        return;
      }
      if (sink == null) {
        server.refuse(ch, 404, "no source on " + mountName);
        return;
      }
      mount.listenerJoined(sink);
      LOG.log(System.Logger.Level.INFO, "{0}: listener {1} joined ({2})", mountName, peer,
          sink.transport());
      try {
        sink.awaitEnd();
      } finally {
        mount.listenerLeft(sink);
        LOG.log(System.Logger.Level.INFO, "{0}: listener {1} left after {2} bytes{3}", mountName,
            peer, sink.bytesWritten(), sink.droppedAsSlow() ? " (dropped: too slow)" : "");
      }
    } finally {
      server.listenerLimits().release(ip);
    }
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
