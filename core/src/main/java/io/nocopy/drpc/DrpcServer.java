package io.nocopy.drpc;

import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ByteChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A DRPC server: handlers registered by rpc name, connections accepted on TCP or Unix sockets,
 * each stream served on its own virtual thread (or, for unary calls under {@link
 * DrpcOptions#directUnary()}, on the connection's reader thread).
 *
 * <p>Per stream, as drpc does: an unknown rpc is answered with an Error ({@link
 * DrpcException#UNIMPLEMENTED}); a handler that returns ends the stream with CloseSend; a handler
 * that throws ends it with an Error carrying the {@link DrpcException} code (0 for other
 * exceptions). A connection that sends malformed input is closed with a protocol error; the
 * server goes on serving the others.
 *
 * <p>Memory: every connection reads into blocks of the server's {@link Allocator}, which all its
 * streams' receive queues share; the allocator's byte cap bounds what all clients together can
 * make the server hold. The server does not own the allocator.
 *
 * <p>Thread safety: register handlers before {@link #bind}; everything else may be called from any
 * thread.
 */
public final class DrpcServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("io.nocopy.drpc");

  private final Allocator allocator;
  private final DrpcOptions opts;
  private final Map<String, Object> handlers = new ConcurrentHashMap<>();
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final Map<ServerSocketChannel, SocketAddress> listeners = new ConcurrentHashMap<>();
  private final Set<Thread> acceptors = ConcurrentHashMap.newKeySet();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder protocolErrors = new LongAdder();
  private final LongAdder calls = new LongAdder();
  private volatile boolean closed;

  /**
   * A server.
   *
   * @param allocator where received bytes go; must outlive the server
   * @param opts connection settings
   */
  public DrpcServer(Allocator allocator, DrpcOptions opts) {
    this.allocator = Objects.requireNonNull(allocator, "allocator");
    this.opts = Objects.requireNonNull(opts, "opts");
  }

  /**
   * Registers a unary handler.
   *
   * @param rpc the rpc name, e.g. {@code /nocopy.Echo/Unary}
   * @param handler the handler
   * @return this server
   * @throws IllegalStateException if the name is already registered
   */
  public DrpcServer register(String rpc, UnaryHandler handler) {
    return add(rpc, handler);
  }

  /**
   * Registers a streaming handler.
   *
   * @param rpc the rpc name, e.g. {@code /nocopy.Echo/Stream}
   * @param handler the handler
   * @return this server
   * @throws IllegalStateException if the name is already registered
   */
  public DrpcServer register(String rpc, StreamHandler handler) {
    return add(rpc, handler);
  }

  private DrpcServer add(String rpc, Object handler) {
    Objects.requireNonNull(handler, "handler");
    if (handlers.putIfAbsent(Objects.requireNonNull(rpc, "rpc"), handler) != null) {
      throw new IllegalStateException("rpc already registered: " + rpc);
    }
    return this;
  }

  /**
   * Listens on an address and serves every connection accepted there, until {@link #close()}.
   *
   * @param address an {@link InetSocketAddress} (port 0 picks a free port) or a {@link
   *     UnixDomainSocketAddress}
   * @return the bound address (with the real port)
   * @throws IOException if binding fails
   */
  public SocketAddress bind(SocketAddress address) throws IOException {
    ServerSocketChannel ssc =
        address instanceof UnixDomainSocketAddress
            ? ServerSocketChannel.open(StandardProtocolFamily.UNIX)
            : ServerSocketChannel.open();
    try {
      ssc.bind(address);
    } catch (IOException e) {
      ssc.close();
      throw e;
    }
    SocketAddress bound = ssc.getLocalAddress();
    listeners.put(ssc, bound);
    Thread t = Thread.ofPlatform().name("drpc-accept").daemon().unstarted(() -> acceptLoop(ssc));
    acceptors.add(t);
    t.start();
    return bound;
  }

  private void acceptLoop(ServerSocketChannel ssc) {
    try {
      while (!closed) {
        SocketChannel ch = ssc.accept();
        if (ch.getRemoteAddress() instanceof InetSocketAddress) {
          ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
        }
        try {
          serve(ch);
        } catch (IOException e) {
          ch.close();
          LOG.log(System.Logger.Level.WARNING, "drpc: cannot serve a connection: {0}", e.toString());
        }
      }
    } catch (IOException e) {
      if (!closed) {
        LOG.log(System.Logger.Level.WARNING, "drpc: accept failed: {0}", e.toString());
      }
    }
  }

  /**
   * Serves one already connected channel (a socket, a pipe pair in tests) until it closes.
   * Returns at once; the connection runs on its own threads and the server closes the channel.
   *
   * @param channel the connection, a gathering and blocking channel; owned by the server now
   * @throws IOException if the server is closed or the connection cannot be set up
   */
  public void serve(ByteChannel channel) throws IOException {
    if (closed) {
      channel.close();
      throw new IOException("server is closed");
    }
    Connection[] self = new Connection[1];
    Connection c =
        new Connection(channel, allocator, opts, Connection.Role.SERVER, this::dispatch);
    self[0] = c;
    connections.add(c);
    accepted.increment();
    c.start(
        () -> {
          connections.remove(self[0]);
          if (self[0].isProtocolError()) {
            protocolErrors.increment();
            LOG.log(
                System.Logger.Level.INFO,
                "drpc: connection closed on protocol error: {0}",
                self[0].failure().getMessage());
          }
        });
    if (closed) {
      c.close();
    }
  }

  /**
   * A stream was invoked (on its connection's reader thread): a unary call under {@link
   * DrpcOptions#directUnary()} is served by the reader once its request arrives, every other
   * stream on a virtual thread of its own, started now.
   */
  private Runnable dispatch(DrpcStream stream, String rpc) {
    calls.increment();
    Runnable serve = () -> serveStream(stream, rpc);
    if (opts.directUnary() && handlers.get(rpc) instanceof UnaryHandler) {
      return serve;
    }
    Thread.ofVirtual().name("drpc-stream").start(serve);
    return null;
  }

  private void serveStream(DrpcStream s, String rpc) {
    try {
      Object h = handlers.get(rpc);
      if (h == null) {
        s.sendError(DrpcException.UNIMPLEMENTED, "unknown rpc: \"" + rpc + "\"");
      } else if (h instanceof UnaryHandler u) {
        Slice req = s.receive();
        if (req == null) {
          s.sendError(0, "unary rpc " + rpc + ": no request message");
          return;
        }
        Slice resp = u.handle(s, req);
        if (resp == null) {
          throw new DrpcException(0, "unary handler for " + rpc + " returned no response");
        }
        try {
          s.sendLast(resp);
        } finally {
          resp.close();
        }
      } else {
        ((StreamHandler) h).handle(s);
        s.closeSend();
      }
    } catch (DrpcException e) {
      trySendError(s, e.code(), e.getMessage());
    } catch (Throwable t) {
      trySendError(s, 0, t.getMessage() != null ? t.getMessage() : t.toString());
      if (t instanceof Error err && !(t instanceof AssertionError)) {
        throw err;
      }
    } finally {
      s.close(); // after the Error or CloseSend: sends nothing more, releases what is queued
    }
  }

  private static void trySendError(DrpcStream s, long code, String message) {
    try {
      s.sendError(code, message);
    } catch (IOException e) {
      // the connection is gone; nobody to tell
    }
  }

  /**
   * Connections currently open.
   *
   * @return the count
   */
  public int connections() {
    return connections.size();
  }

  /**
   * Connections closed because the peer sent malformed input, since start.
   *
   * @return the count
   */
  public long protocolErrors() {
    return protocolErrors.sum();
  }

  /**
   * Streams invoked since start.
   *
   * @return the count
   */
  public long calls() {
    return calls.sum();
  }

  /**
   * Stops accepting, closes every connection (their streams fail with "connection closed") and
   * waits for the connections' readers to finish. Idempotent. Handlers still running see their
   * streams fail; they are not interrupted.
   */
  @Override
  public void close() {
    closed = true;
    for (Map.Entry<ServerSocketChannel, SocketAddress> l : listeners.entrySet()) {
      try {
        l.getKey().close();
      } catch (IOException e) {
        // closing anyway
      }
      if (l.getValue() instanceof UnixDomainSocketAddress u) {
        try {
          java.nio.file.Files.deleteIfExists(u.getPath());
        } catch (IOException e) {
          // best effort
        }
      }
    }
    for (Thread t : acceptors) {
      joinQuietly(t);
    }
    for (Connection c : connections) {
      c.close();
    }
  }

  private static void joinQuietly(Thread t) {
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
