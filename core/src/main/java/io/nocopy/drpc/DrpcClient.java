package io.nocopy.drpc;

import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.util.Objects;

/**
 * A DRPC client connection: unary calls and streams, any number of them concurrently on one
 * connection (the CockroachDB fork's multiplexed mode). Against a storj.io/drpc peer that does not
 * multiplex, use one stream at a time per connection.
 *
 * <p>Responses are {@link Slice}s over the pooled blocks the bytes were read into; whoever gets one
 * closes it. Requests are borrowed for the duration of the call.
 *
 * <p>Thread safety: every method may be called from any thread; each stream is used as its class
 * documents.
 */
public final class DrpcClient implements AutoCloseable {
  private final Connection conn;
  private final Allocator ownedAllocator;

  private DrpcClient(Connection conn, Allocator ownedAllocator) {
    this.conn = conn;
    this.ownedAllocator = ownedAllocator;
  }

  /**
   * Connects with default options and an allocator of its own (closed with the client).
   *
   * @param address an {@link InetSocketAddress} or a {@link UnixDomainSocketAddress}
   * @return a connected client, owned by the caller
   * @throws IOException if connecting fails
   */
  public static DrpcClient connect(SocketAddress address) throws IOException {
    Allocator a = Allocator.create();
    try {
      return connect(address, a, DrpcOptions.DEFAULTS, a);
    } catch (IOException | RuntimeException e) {
      a.close();
      throw e;
    }
  }

  /**
   * Connects.
   *
   * @param address an {@link InetSocketAddress} or a {@link UnixDomainSocketAddress}
   * @param allocator where responses are read into; must outlive the client and every slice it
   *     returns; not closed by the client
   * @param opts connection settings
   * @return a connected client, owned by the caller
   * @throws IOException if connecting fails
   */
  public static DrpcClient connect(SocketAddress address, Allocator allocator, DrpcOptions opts)
      throws IOException {
    return connect(address, allocator, opts, null);
  }

  private static DrpcClient connect(
      SocketAddress address, Allocator allocator, DrpcOptions opts, Allocator owned)
      throws IOException {
    SocketChannel ch =
        address instanceof UnixDomainSocketAddress
            ? SocketChannel.open(StandardProtocolFamily.UNIX)
            : SocketChannel.open();
    try {
      ch.connect(address);
      if (address instanceof InetSocketAddress) {
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      }
      return over(ch, allocator, opts, owned);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * A client over an already connected channel (a socket, or a pipe pair in tests).
   *
   * @param channel a blocking channel that is also a {@link java.nio.channels.GatheringByteChannel};
   *     owned by the client from now on
   * @param allocator where responses are read into; not closed by the client
   * @param opts connection settings
   * @return the client
   * @throws IOException if the connection cannot be set up
   */
  public static DrpcClient over(ByteChannel channel, Allocator allocator, DrpcOptions opts)
      throws IOException {
    return over(channel, allocator, opts, null);
  }

  private static DrpcClient over(
      ByteChannel channel, Allocator allocator, DrpcOptions opts, Allocator owned)
      throws IOException {
    Connection c =
        new Connection(
            channel,
            Objects.requireNonNull(allocator, "allocator"),
            Objects.requireNonNull(opts, "opts"),
            Connection.Role.CLIENT,
            null);
    c.start(null);
    return new DrpcClient(c, owned);
  }

  /**
   * Calls a unary rpc with a request in pooled memory: Invoke, the request and CloseSend go out in
   * one write.
   *
   * @param rpc the rpc name
   * @param request borrowed for the call
   * @return the response, owned by the caller, who closes it
   * @throws DrpcException the server's error (with its code), or "ended without a response"
   * @throws IOException if the connection failed
   */
  public Slice invoke(String rpc, Slice request) throws IOException {
    Objects.requireNonNull(request, "request");
    return finishUnary(conn.open(rpc, null, Payload.POOLED, request));
  }

  /**
   * Calls a unary rpc with a request in pooled memory and decodes the response where it was
   * received: the response is lent to {@code out} ({@link Encoding#decode(ReceivedMessage)}) and
   * its blocks are released as soon as it returns, so no {@link Slice} handle is made for it.
   *
   * @param <O> the response type
   * @param rpc the rpc name
   * @param request borrowed for the call
   * @param out decodes the response
   * @return the decoded response
   * @throws DrpcException the server's error (with its code), or "ended without a response"
   * @throws IOException if the connection failed, or from the decoding
   */
  public <O> O invoke(String rpc, Slice request, Encoding<O> out) throws IOException {
    Objects.requireNonNull(request, "request");
    Decoded<O> response = new Decoded<>(Objects.requireNonNull(out, "out"));
    try (DrpcStream s = conn.open(rpc, null, Payload.POOLED, request)) {
      if (!s.receive(response)) {
        throw new DrpcException(0, "unary rpc " + rpc + " ended without a response");
      }
      return response.value;
    }
  }

  /** Decodes the one message it is lent and keeps the value. */
  private static final class Decoded<O> implements MessageHandler {
    private final Encoding<O> encoding;
    private O value;

    Decoded(Encoding<O> encoding) {
      this.encoding = encoding;
    }

    @Override
    public void onMessage(ReceivedMessage message) throws IOException {
      value = encoding.decode(message);
    }
  }

  /**
   * Calls a unary rpc with a request in a buffer (position..limit, unchanged after).
   *
   * @param rpc the rpc name
   * @param request borrowed for the call
   * @return the response, owned by the caller, who closes it
   * @throws IOException as {@link #invoke(String, Slice)}
   */
  public Slice invoke(String rpc, ByteBuffer request) throws IOException {
    Objects.requireNonNull(request, "request");
    return finishUnary(conn.open(rpc, null, Payload.BYTES, request));
  }

  /**
   * Calls a unary rpc on arrays.
   *
   * @param rpc the rpc name
   * @param request the request bytes
   * @return a copy of the response bytes
   * @throws IOException as {@link #invoke(String, Slice)}
   */
  public byte[] invoke(String rpc, byte[] request) throws IOException {
    try (Slice resp = invoke(rpc, ByteBuffer.wrap(request))) {
      return resp.toByteArray();
    }
  }

  /**
   * Calls a unary rpc with encoded values.
   *
   * @param <I> the request type
   * @param <O> the response type
   * @param rpc the rpc name
   * @param request the request
   * @param in encodes the request
   * @param out decodes the response
   * @return the decoded response
   * @throws IOException as {@link #invoke(String, Slice)}, or from the encoding
   */
  public <I, O> O invoke(String rpc, I request, Encoding<I> in, Encoding<O> out)
      throws IOException {
    try (Slice resp = invoke(rpc, in.encode(request))) {
      return out.decode(resp);
    }
  }

  private static Slice finishUnary(DrpcStream s) throws IOException {
    try (s) {
      Slice resp = s.receive();
      if (resp == null) {
        throw new DrpcException(0, "unary rpc " + s.rpc() + " ended without a response");
      }
      return resp;
    }
  }

  /**
   * Opens a stream: its Invoke is sent at once.
   *
   * @param rpc the rpc name
   * @return the stream, owned by the caller, who closes it
   * @throws IOException if the connection failed
   */
  public DrpcStream openStream(String rpc) throws IOException {
    return conn.open(rpc, null, null, null);
  }

  /**
   * Opens a server-streaming rpc: its Invoke, the one request and CloseSend go out in one write;
   * the caller then receives the responses.
   *
   * @param rpc the rpc name
   * @param request borrowed for the call
   * @return the stream, owned by the caller, who closes it
   * @throws IOException if the connection failed
   */
  public DrpcStream openStream(String rpc, Slice request) throws IOException {
    return conn.open(rpc, null, Payload.POOLED, Objects.requireNonNull(request, "request"));
  }

  /**
   * Opens a stream with metadata: an InvokeMetadata packet (drpcmetadata's encoding) precedes the
   * Invoke; the server reads it with {@link DrpcStream#metadata()}.
   *
   * @param rpc the rpc name
   * @param metadata keys and values to send
   * @return the stream, owned by the caller, who closes it
   * @throws IOException if the connection failed
   */
  public DrpcStream openStream(String rpc, java.util.Map<String, String> metadata)
      throws IOException {
    return conn.open(rpc, metadata, null, null);
  }

  /**
   * The allocator of the connection: where responses are read into, and where an encoding may
   * serialize a request (into a block the encoder owns and releases after the call).
   *
   * @return the allocator, owned by whoever passed it to {@link #connect} (or by this client if it
   *     made it); valid until the client is closed
   */
  public Allocator allocator() {
    return conn.allocator();
  }

  /**
   * Whether the connection is still open.
   *
   * @return false once closed or failed
   */
  public boolean isOpen() {
    return !conn.isClosed();
  }

  /**
   * Why the connection closed.
   *
   * @return the cause, or null while open
   */
  public IOException failure() {
    return conn.failure();
  }

  /**
   * Messages that arrived for streams already ended on this side (closed, cancelled, failed with
   * {@link DrpcStream#sendError}, or finished) and were released unseen, including those that
   * arrive after the stream was forgotten: one per message, however many frames it had.
   *
   * @return the count
   */
  public long droppedMessages() {
    return conn.droppedMessages();
  }

  /**
   * Streams cancelled because their receive queue overflowed ({@link
   * OverflowPolicy#CANCEL_STREAM}).
   *
   * @return the count
   */
  public long overflows() {
    return conn.overflows();
  }

  /**
   * Closes the connection: open streams fail with "connection closed". Waits for the reader.
   * Closes the allocator if the client created it.
   */
  @Override
  public void close() {
    conn.close();
    if (ownedAllocator != null) {
      ownedAllocator.close();
    }
  }
}
