package io.nocopy.drpc;

import io.nocopy.buffer.Slice;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * One rpc on a DRPC connection: messages in both directions, multiplexed with the connection's
 * other streams.
 *
 * <h2>Receiving</h2>
 *
 * The connection's reader assembles each incoming message into a {@link Slice} over the pooled
 * blocks the bytes were read into (no copy) and puts it on this stream's bounded {@link
 * ReceiveQueue}. {@link #receive()} hands the next one over: the caller owns it and closes it when
 * finished, even after the stream ended.
 *
 * <h2>Sending</h2>
 *
 * {@code send} borrows the message: its bytes are written (split into frames of at most {@link
 * DrpcOptions#maxFrameSize()}) before the call returns, and the caller keeps ownership. One thread
 * sends at a time (calls are serialised on the connection's writer anyway).
 *
 * <h2>Ending</h2>
 *
 * {@link #closeSend()} tells the peer no more messages come; {@link #sendError} fails the rpc with
 * a code; {@link #cancel()} abandons it; {@link #close()} releases everything the stream still
 * holds and, if this side has not finished sending, tells the peer the stream is closed. Always
 * close a stream (try-with-resources); closing twice is harmless.
 *
 * <p>Thread safety: one receiving thread and one sending thread may use a stream concurrently;
 * {@code close}, {@code cancel} and {@code sendError} may be called from any thread.
 */
public final class DrpcStream implements AutoCloseable {
  private final Connection conn;
  private final long id;
  private volatile String rpc;
  final ReceiveQueue<Slice> queue;
  private final PacketAssembler<Slice> assembler; // used by the reader, under this monitor

  long nextMessageId = 1; // guarded by the connection's writer lock
  private boolean localDone; // we sent CloseSend, Close, Error or Cancel
  private boolean remoteDone; // the peer sent CloseSend, Close, Error or Cancel
  private boolean detached; // unregistered: frames are dropped, assembler cleared
  private IOException sendFailure; // why sending fails now
  boolean invoked; // reader thread only (server side)
  volatile Map<String, String> metadata; // set by the reader before the Invoke is dispatched

  DrpcStream(Connection conn, long id, String rpc, DrpcOptions opts) {
    this.conn = conn;
    this.id = id;
    this.rpc = rpc;
    this.queue = new ReceiveQueue<>(opts.queueCapacity(), opts.overflowPolicy(), Slice::close);
    this.assembler = new PacketAssembler<>(id, opts.maxPacketSize(), Slice::close);
  }

  /**
   * The stream id on its connection.
   *
   * @return the id (unsigned)
   */
  public long id() {
    return id;
  }

  /**
   * The rpc name, e.g. {@code /nocopy.Echo/Stream}.
   *
   * @return the name, or null on a server stream before its Invoke was read
   */
  public String rpc() {
    return rpc;
  }

  /**
   * The metadata the client sent with the Invoke (drpcmetadata's InvokeMetadata packet).
   *
   * @return an unmodifiable map, empty if none was sent (always empty on a client stream)
   */
  public Map<String, String> metadata() {
    Map<String, String> m = metadata;
    return m == null ? Map.of() : m;
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
      return queue.dequeue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while receiving on stream " + id);
    }
  }

  /**
   * Sends a message held in pooled memory.
   *
   * @param message borrowed: written before the call returns; the caller still owns it
   * @throws IOException if the stream or connection can no longer send (the peer closed or failed
   *     the stream, this side closed its send direction, or the connection failed)
   */
  public void send(Slice message) throws IOException {
    conn.sendMessage(this, message, null, false);
  }

  /**
   * Sends a message from a buffer (position..limit; position and limit are unchanged after).
   *
   * @param message borrowed for the duration of the call
   * @throws IOException as {@link #send(Slice)}
   */
  public void send(ByteBuffer message) throws IOException {
    conn.sendMessage(this, null, message, false);
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
    if (conn.sendEnd(this, Kind.CLOSE_SEND, false, null) && remoteDone()) {
      detach(null, false); // both sides done: finished
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
      conn.sendEnd(this, Kind.ERROR, false, DrpcException.encode(code, message));
    } finally {
      detach(new DrpcException(code, "stream terminated by sending error: " + message), true);
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
      conn.sendEnd(this, Kind.CANCEL, true, null);
    } finally {
      detach(new DrpcException(DrpcException.CANCELED, "stream " + id + " cancelled"), true);
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
      conn.sendEnd(this, Kind.CLOSE, false, null);
    } catch (IOException e) {
      // the connection failed: nothing to tell the peer
    } finally {
      detach(DrpcException.quiet(0, "stream closed"), true);
    }
  }

  /** Server unary: sends the response and CloseSend together. */
  void sendLast(Slice response) throws IOException {
    conn.sendMessage(this, response, null, true);
  }

  // --- state, called by the connection --------------------------------------------------------

  /** Under the writer lock: may this side still send a message? Throws the reason if not. */
  synchronized void checkSendable() throws IOException {
    if (sendFailure != null) {
      throw sendFailure;
    }
    if (localDone) {
      throw new DrpcException(0, "stream " + id + ": send after CloseSend");
    }
  }

  /**
   * Under the writer lock: claims the right to send an ending packet of this kind. CloseSend and
   * Close need this side still sending; Error and Cancel only need the stream not ended.
   */
  synchronized boolean claimEnd(Kind kind) {
    if (detached || sendFailure != null) {
      return false;
    }
    if (localDone && (kind == Kind.CLOSE_SEND || kind == Kind.CLOSE)) {
      return false;
    }
    localDone = true;
    return true;
  }

  synchronized boolean remoteDone() {
    return remoteDone;
  }

  void setRpc(String rpc) {
    this.rpc = rpc;
  }

  /** Reader: checks a frame header against the stream's packet rules. */
  synchronized void frame(FrameHeader h) throws DrpcProtocolException {
    if (!detached) {
      assembler.frame(h);
    }
  }

  /**
   * Reader: adds the frame's data; when {@code done}, returns the finished packet data through
   * {@code out[0]} (null for an empty packet) and returns true. Returns false if the packet is
   * unfinished or the stream is detached (the data is then released).
   */
  synchronized boolean append(Slice part, boolean done, Slice[] out) {
    if (detached) {
      if (part != null) {
        part.close();
      }
      return false;
    }
    if (part != null) {
      assembler.append(part);
    }
    if (!done) {
      return false;
    }
    out[0] = assembler.finish(conn.joiner());
    return true;
  }

  /** Reader: a message arrived. */
  void onMessage(Slice msg) throws InterruptedException {
    ReceiveQueue.Offer o = queue.enqueue(msg);
    if (o == ReceiveQueue.Offer.OVERFLOW) {
      conn.onOverflow(this);
    } else if (o == ReceiveQueue.Offer.CLOSED) {
      conn.countDropped();
    }
  }

  /** Reader: the peer sent CloseSend. */
  void onRemoteCloseSend() {
    boolean finished;
    synchronized (this) {
      remoteDone = true;
      finished = localDone;
    }
    queue.close(null);
    if (finished) {
      detach(null, false);
    }
  }

  /**
   * Reader: the peer sent Close, Error or Cancel. Sending fails with {@code sendErr} from now on;
   * the consumer gets {@code recvErr} (null: a clean end) after the queued messages, or at once if
   * {@code release}.
   */
  void onRemoteEnd(IOException sendErr, IOException recvErr, boolean release) {
    synchronized (this) {
      remoteDone = true;
      if (sendFailure == null) {
        sendFailure = sendErr;
      }
    }
    if (release) {
      queue.abort(recvErr);
    } else {
      queue.close(recvErr);
    }
    detach(null, false);
  }

  /** The connection failed: sending fails, the consumer drains what arrived and then gets err. */
  void onConnectionFailure(IOException err) {
    synchronized (this) {
      if (sendFailure == null) {
        sendFailure = err;
      }
    }
    queue.close(err);
  }

  /**
   * Unregisters the stream: later frames for it are dropped and the partial packet is released.
   * With {@code abort} the queue is aborted with {@code err} (queued messages released); otherwise
   * it is closed with {@code err} (null: clean end) and drains.
   */
  void detach(IOException err, boolean abort) {
    synchronized (this) {
      if (sendFailure == null) {
        sendFailure = err != null ? err : DrpcException.quiet(0, "stream finished");
      }
      if (!detached) {
        detached = true;
        assembler.clear();
      }
    }
    if (abort) {
      queue.abort(err);
    } else {
      queue.close(err);
    }
    conn.unregister(this);
  }

  /** Reader, at connection end: releases the partial packet. */
  synchronized void clearAssembler() {
    assembler.clear();
  }

  @Override
  public String toString() {
    return "DrpcStream[" + Long.toUnsignedString(id) + " " + rpc + "]";
  }
}
