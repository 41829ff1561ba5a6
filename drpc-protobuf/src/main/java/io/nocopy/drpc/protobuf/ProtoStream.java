package io.nocopy.drpc.protobuf;

import com.google.protobuf.MessageLite;
import io.nocopy.buffer.Slice;
import io.nocopy.drpc.DrpcException;
import io.nocopy.drpc.DrpcStream;
import io.nocopy.drpc.MessageHandler;
import io.nocopy.drpc.ReceivedMessage;
import java.io.IOException;
import java.util.Objects;

/**
 * A DRPC stream carrying protobuf messages: {@code S} sent, {@code R} received. Generated clients
 * return one for each streaming rpc; generated servers hand one to bidirectional handlers.
 *
 * <p>Receiving takes each message with {@link DrpcStream#receive(MessageHandler)} and parses it
 * from the pooled blocks in place ({@link ProtoCodec#decode(ReceivedMessage)}): per message, the
 * transport allocates nothing; decoding allocates the decoded objects, protobuf's decoder and a
 * buffer view per chunk (measured by {@code ProtoReceiveBenchmark} in the bench module). Sending
 * serializes into a pooled block of the connection's allocator and writes it by reference.
 *
 * <p>Ownership: the stream owns its {@link DrpcStream}; {@link #close()} closes it (always close,
 * try-with-resources). Thread safety as {@link DrpcStream}: one receiving and one sending thread
 * may use it concurrently; {@link #cancel()} and {@link #close()} from any thread.
 *
 * @param <S> the type of the messages sent
 * @param <R> the type of the messages received
 */
public final class ProtoStream<S extends MessageLite, R extends MessageLite>
    implements ProtoSender<S>, ProtoReceiver<R>, AutoCloseable {
  private final DrpcStream stream;
  private final ProtoCodec<S> out;
  private final ProtoCodec<R> in;
  // the receiving thread's parse of the message lent to 'parse'; read right after the receive
  private R received;
  private final MessageHandler parse = this::parse;

  /**
   * Wraps a stream.
   *
   * @param stream the stream; owned by this object from now on
   * @param out encodes what is sent
   * @param in decodes what is received
   */
  public ProtoStream(DrpcStream stream, ProtoCodec<S> out, ProtoCodec<R> in) {
    this.stream = Objects.requireNonNull(stream, "stream");
    this.out = Objects.requireNonNull(out, "out");
    this.in = Objects.requireNonNull(in, "in");
  }

  private void parse(ReceivedMessage message) throws IOException {
    received = in.decode(message);
  }

  @Override
  public void send(S message) throws IOException {
    try (Slice bytes = out.encode(message, stream.allocator())) {
      stream.send(bytes);
    }
  }

  @Override
  public void write(S message) throws IOException {
    try (Slice bytes = out.encode(message, stream.allocator())) {
      stream.write(bytes);
    }
  }

  @Override
  public void flush() throws IOException {
    stream.flush();
  }

  @Override
  public R receive() throws IOException {
    if (!stream.receive(parse)) {
      return null;
    }
    R r = received;
    received = null;
    return r;
  }

  /**
   * Receives the one message a unary response side sends and checks that nothing follows: the
   * client end of a client-streaming rpc after {@link #closeSend()}, or the server end of a
   * server-streaming rpc reading its request.
   *
   * @return the message
   * @throws DrpcException if the peer ended without a message, or sent a second one
   * @throws IOException as {@link #receive()}
   */
  public R receiveOne() throws IOException {
    R r = receive();
    if (r == null) {
      throw new DrpcException(0, "rpc " + stream.rpc() + " ended without a message");
    }
    return r;
  }

  /**
   * Client-streaming: tells the server no more requests come and waits for its response.
   *
   * @return the response
   * @throws DrpcException the server's error, or if it ended without a response
   * @throws IOException the connection's failure
   */
  public R closeAndReceive() throws IOException {
    closeSend();
    return receiveOne();
  }

  /**
   * Tells the peer this side sends no more messages; receiving goes on.
   *
   * @throws IOException if the connection failed
   */
  public void closeSend() throws IOException {
    stream.closeSend();
  }

  /**
   * Fails the rpc with a code and text (see {@link DrpcStream#sendError}).
   *
   * @param code drpc's error code
   * @param message the text for the peer
   * @throws IOException if the connection failed
   */
  public void sendError(long code, String message) throws IOException {
    stream.sendError(code, message);
  }

  /**
   * Abandons the rpc: the peer is told, queued messages are released, {@link #receive()} then fails
   * with {@link DrpcException#CANCELED}.
   *
   * @throws IOException if the connection failed
   */
  public void cancel() throws IOException {
    stream.cancel();
  }

  /**
   * The underlying transport stream, for its id, rpc name and metadata.
   *
   * @return the stream, still owned by this object
   */
  public DrpcStream raw() {
    return stream;
  }

  /** Closes the stream (see {@link DrpcStream#close()}); idempotent. */
  @Override
  public void close() {
    stream.close();
  }

  @Override
  public String toString() {
    return "ProtoStream[" + stream + "]";
  }
}
