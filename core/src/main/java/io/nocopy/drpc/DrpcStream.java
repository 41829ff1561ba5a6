package io.nocopy.drpc;

import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;

/**
 * One rpc on a DRPC connection: messages in both directions, multiplexed with the connection's
 * other streams.
 *
 * <h2>Receiving</h2>
 *
 * The connection's reader reads each incoming message's bytes into pooled blocks (the one copy)
 * and queues them, as chunks of those blocks, on this stream's bounded receive queue ({@link
 * DrpcOptions#queueCapacity()} messages, {@link DrpcOptions#overflowPolicy()} when full); no
 * object is made per message. Two ways to take the next one:
 *
 * <ul>
 *   <li>{@link #receive(MessageHandler)} lends it to a handler and releases the blocks when the
 *       handler returns: nothing is allocated, which is what a consumer that finishes with each
 *       message at once (decodes it, copies it, echoes it) should use;
 *   <li>{@link #receive()} hands it over as a {@link Slice}, which the caller owns and closes when
 *       finished, even after the stream ended: the way to keep a message or forward it without
 *       copying. The slice's handle is allocated for the caller (measured: 88 bytes for a message in
 *       one block, a few hundred for a chain of blocks); that is the caller's object, not a cost
 *       of the transport.
 * </ul>
 *
 * <h2>Sending</h2>
 *
 * {@code send} borrows the message: its bytes are written (split into frames of at most {@link
 * DrpcOptions#maxFrameSize()}) before the call returns, and the caller keeps ownership. {@code
 * write} is the corked form: the message waits in the connection's writer until a {@link #flush()},
 * a {@code send}, the stream's end or 64 KiB of pending packets sends it, so a burst of small
 * messages costs one system call. One thread sends at a time (calls are serialised on the
 * connection's writer anyway).
 *
 * <h2>Ending</h2>
 *
 * {@link #closeSend()} tells the peer no more messages come; {@link #sendError} fails the rpc with
 * a code; {@link #cancel()} abandons it; {@link #close()} releases everything the stream still
 * holds and, if this side has not finished sending, tells the peer the stream is closed. Always
 * close a stream (try-with-resources); closing twice is harmless.
 *
 * <p>Thread safety: one receiving thread and one sending thread may use a stream concurrently (a
 * {@link #receive(MessageHandler)} while another is in its handler fails with {@link
 * IllegalStateException} rather than share its message);
 * {@code close}, {@code cancel} and {@code sendError} may be called from any thread.
 */
public final class DrpcStream implements AutoCloseable {
  private final Connection conn;
  private final StreamState state;

  DrpcStream(Connection conn, StreamState state) {
    this.conn = conn;
    this.state = state;
  }

  /**
   * The stream id on its connection.
   *
   * @return the id (unsigned)
   */
  public long id() {
    return state.id;
  }

  /**
   * The rpc name, e.g. {@code /nocopy.Echo/Stream}.
   *
   * @return the name
   */
  public String rpc() {
    return state.rpc();
  }

  /**
   * The metadata the client sent with the Invoke (drpcmetadata's InvokeMetadata packet).
   *
   * @return an unmodifiable map, empty if none was sent (always empty on a client stream)
   */
  public Map<String, String> metadata() {
    return state.metadata();
  }

  /**
   * The allocator of the stream's connection: where its received messages are read into, and
   * where an encoding may serialize a message to send (into a block the encoder owns and releases
   * after {@link #send(Slice)}).
   *
   * @return the connection's allocator, owned by whoever created the client or server; valid while
   *     the connection is open
   */
  public Allocator allocator() {
    return conn.allocator();
  }

  /**
   * The next message.
   *
   * @return a slice the caller owns and closes; null once the peer closed its side and every
   *     message was taken
   * @throws DrpcException the peer's error, a cancellation, or an overflow under {@link
   *     OverflowPolicy#CANCEL_STREAM}, once the queued messages are taken
   * @throws InterruptedIOException if the thread is interrupted while waiting (interrupt status
   *     kept)
   * @throws IOException the connection's failure
   */
  public Slice receive() throws IOException {
    try {
      return state.queue.receive();
    } catch (InterruptedException e) {
      throw interrupted();
    }
  }

  /**
   * Lends the next message to {@code handler}, without allocating: the message's chunks are views
   * of the pooled blocks its bytes were read into, valid during the call; the blocks are released
   * when the handler returns or throws (see {@link ReceivedMessage} for what may and may not be
   * kept).
   *
   * @param handler borrows the message; must not receive from this stream
   * @return true if a message was handled; false once the peer closed its side and every message
   *     was taken
   * @throws DrpcException the peer's error, a cancellation, or an overflow under {@link
   *     OverflowPolicy#CANCEL_STREAM}, once the queued messages are taken
   * @throws InterruptedIOException if the thread is interrupted while waiting (interrupt status
   *     kept)
   * @throws IOException the connection's failure, or what the handler throws
   * @throws IllegalStateException if called from inside a handler of this stream, or while another
   *     thread's receive on this stream is in its handler
   */
  public boolean receive(MessageHandler handler) throws IOException {
    try {
      return state.queue.receive(handler);
    } catch (InterruptedException e) {
      throw interrupted();
    }
  }

  private InterruptedIOException interrupted() {
    Thread.currentThread().interrupt();
    return new InterruptedIOException(
        "interrupted while receiving on stream " + Long.toUnsignedString(state.id));
  }

  /**
   * Sends a message held in pooled memory.
   *
   * @param message borrowed: written before the call returns; the caller still owns it
   * @throws IOException if the stream or connection can no longer send (the peer closed or failed
   *     the stream, this side closed its send direction, or the connection failed)
   */
  public void send(Slice message) throws IOException {
    conn.sendMessage(
        state, Payload.POOLED, Objects.requireNonNull(message, "message"), false, true);
  }

  /**
   * Queues a message held in pooled memory without sending it yet (a corked write): it goes out
   * with the next {@link #flush()}, {@code send}, {@link #closeSend()} or other ending packet of
   * this stream, or with any flush of another stream of the connection, or as soon as the
   * connection holds {@value Connection#CORK_LIMIT} bytes of unsent packets. Many small messages
   * written this way and then flushed cost one system call instead of one each. A message left
   * unflushed is not seen by the peer: flush before waiting for an answer.
   *
   * @param message borrowed: the writer keeps its own references to the message's blocks until
   *     they are sent; the caller still owns it and may close it when the call returns
   * @throws IOException as {@link #send(Slice)}
   */
  public void write(Slice message) throws IOException {
    conn.sendMessage(
        state, Payload.POOLED, Objects.requireNonNull(message, "message"), false, false);
  }

  /**
   * Queues a message from a buffer without sending it yet (a corked write, as {@link
   * #write(Slice)}); the bytes are copied into the connection's pooled write blocks.
   *
   * @param message borrowed for the duration of the call (position and limit unchanged)
   * @throws IOException as {@link #send(Slice)}
   */
  public void write(ByteBuffer message) throws IOException {
    conn.sendMessage(
        state, Payload.BYTES, Objects.requireNonNull(message, "message"), false, false);
  }

  /**
   * Sends every message written ({@link #write(Slice)}) and not yet sent, with whatever else the
   * connection has pending, in as few system calls as the socket takes.
   *
   * @throws IOException if the connection failed
   */
  public void flush() throws IOException {
    conn.flush();
  }

  /**
   * Sends a received message (an echo, a relay), for example from inside a {@link MessageHandler}.
   * The bytes are copied into the connection's pooled write blocks (one copy, no allocation); to
   * forward without copying, take the message as a {@link Slice} ({@link #receive()} or {@link
   * ReceivedMessage#retain()}) and send that.
   *
   * @param message borrowed for the duration of the call; must be inside its handler call
   * @throws IOException as {@link #send(Slice)}
   * @throws IllegalStateException if the message's handler call has returned
   */
  public void send(ReceivedMessage message) throws IOException {
    conn.sendMessage(state, Payload.RECEIVED, message.chunks(), false, true);
  }

  /**
   * Sends a message from a buffer (position..limit; position and limit are unchanged after).
   *
   * @param message borrowed for the duration of the call
   * @throws IOException as {@link #send(Slice)}
   */
  public void send(ByteBuffer message) throws IOException {
    conn.sendMessage(
        state, Payload.BYTES, Objects.requireNonNull(message, "message"), false, true);
  }

  /**
   * Sends a message from an array.
   *
   * @param message borrowed for the duration of the call
   * @throws IOException as {@link #send(Slice)}
   */
  public void send(byte[] message) throws IOException {
    send(ByteBuffer.wrap(message));
  }

  /**
   * Tells the peer this side sends no more messages; receiving goes on. No-op if already done.
   *
   * @throws IOException if the connection failed
   */
  public void closeSend() throws IOException {
    if (conn.sendEnd(state, Kind.CLOSE_SEND, false, null) && state.remoteDone()) {
      conn.detach(state, null, false); // both sides done: finished
    }
  }

  /**
   * Fails the rpc: sends an Error with a code and text and ends the stream on this side (queued
   * messages are released). No-op if the stream already ended.
   *
   * @param code drpc's error code (unsigned)
   * @param message the text for the peer
   * @throws IOException if the connection failed
   */
  public void sendError(long code, String message) throws IOException {
    try {
      conn.sendEnd(state, Kind.ERROR, false, DrpcException.encode(code, message));
    } finally {
      conn.detach(
          state, new DrpcException(code, "stream terminated by sending error: " + message), true);
    }
  }

  /**
   * Abandons the rpc: sends a Cancel (with the control bit, so peers that predate it ignore it)
   * and releases everything queued; {@link #receive()} then fails with {@link
   * DrpcException#CANCELED}. No-op if the stream already ended.
   *
   * @throws IOException if the connection failed
   */
  public void cancel() throws IOException {
    try {
      conn.sendEnd(state, Kind.CANCEL, true, null);
    } finally {
      conn.detach(
          state,
          new DrpcException(
              DrpcException.CANCELED, "stream " + Long.toUnsignedString(state.id) + " cancelled"),
          true);
    }
  }

  /**
   * Ends the stream on this side and releases every message still queued (messages already
   * received stay valid until their owners close them). If this side had not finished sending,
   * the peer is sent a Close. Idempotent; never throws for a failed connection.
   */
  @Override
  public void close() {
    try {
      conn.sendEnd(state, Kind.CLOSE, false, null);
    } catch (IOException e) {
      // the connection failed: nothing to tell the peer
    } finally {
      conn.detach(state, DrpcException.quiet(0, "stream closed"), true);
    }
  }

  /** The receive queue (for tests and diagnostics). */
  MessageQueue queue() {
    return state.queue;
  }

  /** Server unary: sends the response and CloseSend together. */
  void sendLast(Slice response) throws IOException {
    conn.sendMessage(state, Payload.POOLED, response, true, true);
  }

  @Override
  public String toString() {
    return "DrpcStream[" + state + "]";
  }
}
