package io.nocopy.relay;

import io.nocopy.buffer.BufReader;
import io.nocopy.relay.http.HttpHead;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;

/**
 * One source's connection, after its {@code PUT} or {@code SOURCE} head: the checks (mount name,
 * password, {@code Content-Length}), the mount's fan-out, its registration, Icecast's answers
 * ({@code 100 Continue} when asked, then {@code 200 OK}; none for a SHOUTcast v1 source, which
 * its handshake answered with {@code OK2}, as Icecast does), the recording, and the stream itself
 * until the source ends. Runs on the connection's own thread; the caller closes the connection
 * afterwards.
 *
 * <p>A raw body (no chunked coding, no {@code Content-Length}) is the fan-out's socket source, on
 * the kernel transport when splice is available and not turned off; any other body is parsed here
 * and published as slices of the blocks it was read into (userspace transport). See {@link
 * MountFanout}.
 */
final class SourceConnection {
  private static final System.Logger LOG = System.getLogger(SourceConnection.class.getName());

  private final RelayServer server;
  private final SocketChannel ch;
  private final String peer;
  private final boolean shoutcast; // answered by its handshake already

  /**
   * @param server the server
   * @param ch the source's connection
   * @param peer its address, for the log
   * @param shoutcast whether it is a SHOUTcast v1 source, whose handshake answered it ({@link
   *     ShoutcastSource}): it gets no HTTP answer when it is taken
   */
  SourceConnection(RelayServer server, SocketChannel ch, String peer, boolean shoutcast) {
    this.server = server;
    this.ch = ch;
    this.peer = peer;
    this.shoutcast = shoutcast;
  }

  /**
   * Serves the source whose head is {@code head}, or answers why not (400, 401, 403). Pooled
   * memory is taken only once the source has authenticated.
   *
   * @param head the request head
   * @param ahead the bytes read past the head (the body's first bytes), owned by this call
   * @throws IOException if the source went away before it was answered
   */
  void serve(HttpHead.Request head, ByteBuffer ahead) throws IOException {
    String mountName;
    try {
      mountName = MountName.validate(head.path());
    } catch (IllegalArgumentException e) {
      server.refuse(ch, 400, "bad mount: " + e.getMessage());
      return;
    }
    if (!server.logins().sources().auth(mountName).accepts(head.header("Authorization"))) {
      LOG.log(System.Logger.Level.WARNING, "{0}: source refused for {1}: wrong or missing password",
          peer, mountName);
      server.refuse(ch, BasicAuth.adminChallenge()); // Icecast's 401, the same for sources
      return;
    }
    if (!server.reserveSource()) {
      LOG.log(System.Logger.Level.WARNING, "{0}: source refused for {1}: --max-sources {2} reached",
          peer, mountName, server.config().maxSources());
      server.refuseAsIcecast(ch, 403, "too many sources connected");
      return;
    }
    try {
      serveAuthenticated(head, ahead, mountName);
    } finally {
      server.releaseSource();
    }
  }

  private void serveAuthenticated(HttpHead.Request head, ByteBuffer ahead, String mountName)
      throws IOException {
    long contentLength;
    try {
      contentLength = head.chunked() ? -1 : head.contentLength();
    } catch (IllegalArgumentException e) {
      server.refuse(ch, 400, e.getMessage());
      return;
    }
    BufReader in = BufReader.of(new AheadChannel(ahead, ch), server.allocator());
    try {
      if (ahead.hasRemaining()) {
        in.peek(ahead.remaining(), chunk -> { }); // the reader holds them, as if read with the head
      }
      String type = head.header("Content-Type");
      boolean raw = !head.chunked() && contentLength < 0;
      long length = contentLength;
      RelayConfig config = server.mountConfig(mountName);
      int spliceBound = server.transports().spliceBound(config.queueSize());
      // The fan-out is opened before the mount is visible: every listener is its sink.
      Mount mount = new Mount(mountName, type == null || type.isBlank() ? "audio/mpeg" : type.strip(),
          SourceInfo.fromSource(head.headers()),
          m -> raw
              ? MountFanout.ofSocket(m, peer, ch, in, server.transports().spliceForRawSources(), config,
                  spliceBound, server.allocator())
              : MountFanout.ofBody(m, peer,
                  new SourceBody(in, head.chunked(), length, MountFanout.MAX_SLICE)::next, in, ch, config,
                  server.allocator()));
      if (!server.live().publish(mount, ch)) {
        mount.fanout.close();
        server.refuseAsIcecast(ch, 403, "Mountpoint in use");
        return;
      }
      try {
        server.countSource(false);
        mount.sourceIp = ((InetSocketAddress) ch.getRemoteAddress()).getAddress().getHostAddress();
        mount.sourceAgent = head.header("User-Agent");
        if (!shoutcast) {
          if ("100-continue".equalsIgnoreCase(String.valueOf(head.header("Expect")).strip())) {
            server.send(ch, Responses.CONTINUE);
          }
          server.send(ch, Responses.SOURCE_OK);
        }
        LOG.log(System.Logger.Level.INFO, "{0}: source {1} connected ({2}{3}, {4})", mountName,
            peer, mount.contentType, head.chunked() ? ", chunked" : "", mount.fanout.describe());
        server.fallbacks().sourceStarted(mount); // fallback-override: its listeners come back
        server.recorder().start(mount);
        java.nio.file.Path dumpFile = server.mountSettings(mountName).dumpFile();
        if (dumpFile != null) {
          server.recorder().dump(mount, dumpFile.toString());
        }
        CodecProbe.watch(mount);
        mount.fanout.run(() -> server.live().unpublish(mount, ch));
      } finally {
        server.live().unpublish(mount, ch);
      }
    } finally {
      in.close();
    }
  }

  /** The bytes read ahead with the head, then the socket: what a source's reader reads. */
  private static final class AheadChannel implements ReadableByteChannel {
    private final ByteBuffer ahead;
    private final SocketChannel ch;

    AheadChannel(ByteBuffer ahead, SocketChannel ch) {
      this.ahead = ahead;
      this.ch = ch;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      if (!ahead.hasRemaining()) {
        return ch.read(dst);
      }
      int n = Math.min(dst.remaining(), ahead.remaining());
      dst.put(dst.position(), ahead, ahead.position(), n);
      dst.position(dst.position() + n);
      ahead.position(ahead.position() + n);
      return n;
    }

    @Override
    public boolean isOpen() {
      return ch.isOpen();
    }

    @Override
    public void close() {
      // the socket is the connection's, closed by its owner
    }
  }
}
