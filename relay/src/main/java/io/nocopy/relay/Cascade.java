package io.nocopy.relay;

import io.nocopy.buffer.BufReader;
import io.nocopy.relay.http.HttpHead;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * Cascading ({@code --relay URL}): pulls a mount from another relay or an Icecast server as a
 * listener would and serves it here under the same name, with the upstream's content type and
 * {@code icy-*} metadata. It asks for ICY metadata ({@code Icy-MetaData: 1}; not with {@code
 * --relay-metadata 0}); when the upstream interleaves it, the blocks are stripped from the audio and
 * their titles become this mount's ({@link IcyDemux}). The pulled body is read into pooled slices and published to the mount's
 * fan-out (userspace transport). Reconnects until the server closes: with a growing back-off (0.5 s to 10 s)
 * while the upstream cannot be reached, after 0.2 s when a stream ended.
 */
final class Cascade {
  private static final System.Logger LOG = System.getLogger(Cascade.class.getName());

  private final RelayServer server;
  private final URI upstream;

  Cascade(RelayServer server, URI upstream) {
    this.server = server;
    this.upstream = upstream;
  }

  /** Pulls and serves until the server closes (runs on a thread of its own). */
  void run() {
    String mountName;
    try {
      mountName = MountName.validate(upstream.getPath());
    } catch (IllegalArgumentException e) {
      LOG.log(System.Logger.Level.ERROR, "--relay {0}: {1}", upstream, e.getMessage());
      return;
    }
    long backoff = 500;
    while (!server.closed()) {
      boolean gotStream = false;
      try (SocketChannel ch = SocketChannel.open()) {
        server.track(ch);
        try {
          gotStream = pull(ch, mountName);
          backoff = 500;
        } finally {
          server.untrack(ch);
        }
      } catch (IOException | RuntimeException e) {
        if (!server.closed()) {
          LOG.log(System.Logger.Level.WARNING, "--relay {0}: {1}; retrying in {2} ms", upstream,
              e.getMessage(), backoff);
        }
      }
      if (!gotStream) {
        RelayServer.sleepQuietly(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      } else {
        RelayServer.sleepQuietly(200);
      }
    }
  }

  /** One pull: connects, asks, serves the answer's body until it ends. True if a stream was served. */
  private boolean pull(SocketChannel ch, String mountName) throws IOException {
    int port = upstream.getPort() < 0 ? 80 : upstream.getPort();
    ch.connect(new InetSocketAddress(upstream.getHost(), port));
    Responses.send(ch, ("GET " + upstream.getRawPath() + " HTTP/1.0\r\nHost: " + upstream.getHost() + ":"
        + port + "\r\nUser-Agent: " + Responses.SERVER + "\r\nIcy-MetaData: "
        + (server.config().relayMetadata() ? 1 : 0) + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    try (BufReader in = BufReader.of(ch, server.allocator())) {
      HttpHead.Response answer = HttpHead.readResponse(in::readLine);
      if (answer.status() != 200) {
        throw new IOException("upstream answered '" + answer.statusLine() + "'");
      }
      String type = answer.header("Content-Type");
      int metaint = metaint(answer.header("icy-metaint"));
      IcyDemux icy = metaint > 0 ? new IcyDemux(in, metaint, MountFanout.MAX_SLICE) : null;
      Mount mount = new Mount(mountName, type == null ? "audio/mpeg" : type,
          SourceInfo.fromSource(answer::header),
          m -> {
            if (icy != null) {
              icy.titlesFor(m);
            }
            return MountFanout.ofBody(m, upstream.toString(),
                icy != null ? icy : new SourceBody(in, false, -1, MountFanout.MAX_SLICE)::next, in, ch,
                server.config(), server.allocator());
          });
      if (!server.publish(mount, ch)) {
        mount.fanout.close();
        throw new IOException("mount " + mountName + " is already served by a local source");
      }
      LOG.log(System.Logger.Level.INFO, "{0}: relaying {1} ({2} engine)", mountName, upstream,
          mount.fanout.name());
      try {
        server.recorder().start(mount);
        CodecProbe.watch(mount);
        mount.fanout.run(() -> server.unpublish(mount, ch));
      } finally {
        server.unpublish(mount, ch);
      }
      return true;
    }
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
