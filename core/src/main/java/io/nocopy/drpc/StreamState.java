package io.nocopy.drpc;

import io.nocopy.buffer.BlockConsumer;
import io.nocopy.buffer.Chunks;
import io.nocopy.memory.Block;
import java.io.IOException;
import java.util.Map;

/**
 * Everything one stream's three parties share: the connection's reader (frames in), the
 * connection's writer (packets out) and the stream's user ({@link DrpcStream}).
 *
 * <h2>The one lock</h2>
 *
 * Every field below is guarded by this object's monitor, and every method that reads or writes one
 * holds it; nothing under it blocks or calls out (no I/O, no waiting for queue room, no listener).
 * Lock order: the connection's writer lock, then this monitor, then the {@link MessageQueue}'s own
 * lock; never the reverse. The queue is a separate object with its own discipline (one producer,
 * the reader, stages frame data into it without locking); this object only discards, closes and
 * aborts it.
 *
 * <h2>Life</h2>
 *
 * A client stream starts invoked (it has its rpc name); a server stream waits for the peer's
 * Invoke, optionally preceded by InvokeMetadata, and no other packet is allowed before it. Each
 * side's sending ends once ({@code localDone}: this side sent CloseSend, Close, Error or Cancel;
 * {@code remoteDone}: the peer did). The stream is <em>detached</em> when it is finished for this
 * side (both directions done, an error or cancel either way, or {@link DrpcStream#close()}): from
 * then on its frames are dropped, its partial control packet is released, and sending fails with
 * {@code sendFailure}.
 *
 * <h2>Message ids</h2>
 *
 * Outgoing packets are numbered by {@link #claimSend()} and {@link #claimEnd}, which the
 * connection calls with its writer lock held and keeps held until the packet is written: ids go on
 * the wire in the order they are taken.
 */
final class StreamState {
  final long id;
  /** Received messages: the reader stages and publishes, the user receives. Its own lock. */
  final MessageQueue queue;

  /**
   * Server: the direct task of a unary call, run by the reader once the request is queued (see
   * {@link Connection.InvokeListener}); null if none or already run. Reader thread only.
   */
  Runnable direct;

  private final PacketRules rules;
  private final Chunks control = new Chunks(); // a control packet's data so far
  private final BlockConsumer controlSink = this::addControl;

  private String rpc; // null on a server stream until its Invoke
  private Map<String, String> metadata = Map.of();
  private long nextMessageId = 1;
  private boolean localDone;
  private boolean remoteDone;
  private boolean detached;
  private IOException sendFailure; // why sending fails now; null while it may go on

  /**
   * A stream's state.
   *
   * @param id the stream id
   * @param rpc the rpc name on a client stream; null on a server stream, until its Invoke
   * @param opts the connection's settings (queue and packet limits)
   */
  StreamState(long id, String rpc, DrpcOptions opts) {
    this.id = id;
    this.rpc = rpc;
    this.queue = new MessageQueue(opts.queueCapacity(), opts.overflowPolicy());
    this.rules = new PacketRules(id, opts.maxPacketSize());
  }

  synchronized String rpc() {
    return rpc;
  }

  synchronized Map<String, String> metadata() {
    return metadata;
  }

  synchronized boolean remoteDone() {
    return remoteDone;
  }

  // --- the reader -------------------------------------------------------------------------------

  /**
   * A frame header arrived: checks it against the stream's packet rules and drops the data of a
   * partial packet it abandons.
   *
   * @return false if the stream is detached: the caller skips the frame's data
   * @throws DrpcProtocolException if the frame breaks a rule, or is not an Invoke (or its
   *     metadata) on a server stream still waiting for one
   */
  synchronized boolean frame(FrameHeader h) throws DrpcProtocolException {
    Kind kind = h.kind();
    if (rpc == null && kind != Kind.INVOKE && kind != Kind.INVOKE_METADATA) {
      throw new DrpcProtocolException(
          "stream " + Long.toUnsignedString(id) + ": " + kind + " before Invoke");
    }
    if (detached) {
      return false;
    }
    if (rules.frame(h)) {
      queue.discard();
      control.release();
    }
    return true;
  }

  /** Where the reader puts the data of a control packet's frames. */
  BlockConsumer controlSink() {
    return controlSink;
  }

  private synchronized void addControl(Block block, int offset, int length) {
    if (detached) {
      block.release();
    } else {
      control.accept(block, offset, length);
    }
  }

  /**
   * The last frame of a control packet was read.
   *
   * @return a copy of its data (empty if none), or null if the stream was detached meanwhile; the
   *     blocks are released either way
   */
  synchronized byte[] controlDone() {
    try {
      if (detached) {
        return null;
      }
      rules.complete();
      return control.toByteArray();
    } finally {
      control.release();
    }
  }

  /**
   * The last frame of a message was read (its data is staged in the queue): publishes it. Called
   * without the monitor held, since publishing may wait for room under {@link
   * OverflowPolicy#BLOCK}.
   *
   * @return what the queue did with it; {@code CLOSED} also when the stream was detached (the data
   *     was released)
   * @throws InterruptedException if the reader was interrupted while waiting for room
   */
  MessageQueue.Offer messageDone() throws InterruptedException {
    synchronized (this) {
      if (detached) {
        queue.discard(); // the staged chunks; the queue released the rest when it closed
        return MessageQueue.Offer.CLOSED;
      }
      rules.complete();
    }
    return queue.publish();
  }

  /**
   * The peer's Invoke.
   *
   * @throws DrpcProtocolException if the stream was already invoked (or is a client stream)
   */
  synchronized void invoke(String name) throws DrpcProtocolException {
    if (rpc != null) {
      throw new DrpcProtocolException("invoke on existing stream " + Long.toUnsignedString(id));
    }
    rpc = name;
  }

  /**
   * The peer's InvokeMetadata, before its Invoke.
   *
   * @throws DrpcProtocolException if the stream was already invoked (or is a client stream)
   */
  synchronized void invokeMetadata(Map<String, String> m) throws DrpcProtocolException {
    if (rpc != null) {
      throw new DrpcProtocolException(
          "invoke metadata on existing stream " + Long.toUnsignedString(id));
    }
    metadata = m;
  }

  /**
   * The peer sent CloseSend: the consumer gets the end of stream after the queued messages.
   *
   * @return true if this side had finished sending too: the caller detaches the stream
   */
  boolean remoteCloseSend() {
    boolean finished;
    synchronized (this) {
      remoteDone = true;
      finished = localDone;
    }
    queue.close(null);
    return finished;
  }

  /**
   * The peer sent Close, Error or Cancel: sending fails with {@code sendErr} from now on; the
   * consumer gets {@code recvErr} (null: a clean end) after the queued messages, or at once with
   * {@code release}. The caller detaches the stream.
   */
  void remoteEnd(IOException sendErr, IOException recvErr, boolean release) {
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
  }

  /** The connection failed: sending fails, the consumer drains what arrived and then gets err. */
  void connectionFailed(IOException err) {
    synchronized (this) {
      if (sendFailure == null) {
        sendFailure = err;
      }
    }
    queue.close(err);
  }

  /** The reader ends: releases a partial packet, whatever state the stream is in. */
  synchronized void releasePartialPacket() {
    control.release();
    queue.discard();
  }

  // --- the writer (called with the connection's writer lock held) --------------------------------

  /**
   * Takes the id of a message (or of a client's Invoke) to send.
   *
   * @return the message id
   * @throws IOException why this side can no longer send: its send direction is closed, or the
   *     peer ended the stream, or the stream finished, or the connection failed
   */
  synchronized long claimSend() throws IOException {
    if (sendFailure != null) {
      throw sendFailure;
    }
    if (localDone) {
      throw new DrpcException(0, "stream " + Long.toUnsignedString(id) + ": send after CloseSend");
    }
    return nextMessageId++;
  }

  /**
   * Claims the right to send an ending packet and takes its id. CloseSend and Close need this side
   * still sending; Error and Cancel only need the stream not detached.
   *
   * @return the message id, or 0 if the packet must not be sent
   */
  synchronized long claimEnd(Kind kind) {
    if (detached || sendFailure != null) {
      return 0;
    }
    if (localDone && (kind == Kind.CLOSE_SEND || kind == Kind.CLOSE)) {
      return 0;
    }
    localDone = true;
    return nextMessageId++;
  }

  // --- any thread -------------------------------------------------------------------------------

  /**
   * Finishes the stream for this side: later frames are dropped, the partial control packet is
   * released, sending fails. With {@code abort} the queue is aborted with {@code err} (queued
   * messages released); otherwise it is closed with {@code err} (null: clean end) and drains.
   * Idempotent; the caller unregisters the stream from its connection.
   */
  void detach(IOException err, boolean abort) {
    synchronized (this) {
      if (sendFailure == null) {
        sendFailure = err != null ? err : DrpcException.quiet(0, "stream finished");
      }
      if (!detached) {
        detached = true;
        control.release();
      }
    }
    if (abort) {
      queue.abort(err);
    } else {
      queue.close(err);
    }
  }

  @Override
  public synchronized String toString() {
    return "stream " + Long.toUnsignedString(id) + " " + rpc;
  }
}
