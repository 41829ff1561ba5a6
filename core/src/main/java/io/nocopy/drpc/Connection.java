package io.nocopy.drpc;

import io.nocopy.buffer.BlockConsumer;
import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.EOFException;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.GatheringByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * One DRPC connection: a reader thread that parses frames with a {@link BufReader} straight into
 * pooled blocks and routes them to streams, and a {@link FrameWriter} shared by the streams.
 *
 * <p>Stream ids: a client numbers its streams 1, 2, 3... in the order their Invoke goes on the wire
 * (allocated under the writer lock); a server accepts a new stream only with an Invoke (or
 * InvokeMetadata) and an id above every id seen before. A frame for an id at or below those marks
 * whose stream has ended on this side is dropped without a word to the peer (it may not know yet,
 * as in drpc), and a message among such frames is counted ({@link #droppedMessages()}); a frame
 * for a higher id that does not start a stream is a protocol error.
 *
 * <p>Each stream's state is a {@link StreamState}, kept in a map by id; the reader hands a stream
 * to its user as a {@link DrpcStream} when it is opened (client) or invoked (server).
 *
 * <p>Any protocol error, I/O error or end of input closes the connection: every stream fails with
 * the cause after draining what it received, partial packets are released, the reader's blocks go
 * back to the allocator, the channel is closed.
 */
final class Connection implements AutoCloseable {
  enum Role {
    CLIENT,
    SERVER
  }

  /** Server side: a stream was invoked. Called on the reader thread; must not block. */
  interface InvokeListener {
    /**
     * A stream was invoked.
     *
     * @return null if the listener serves the stream itself (on a thread of its own); otherwise a
     *     task the reader runs on its own thread once the stream's first message is queued or the
     *     peer ends its side, whichever comes first (a direct unary call)
     */
    Runnable onInvoke(DrpcStream stream, String rpc);
  }

  /** Bytes a corked stream write may leave pending in the writer before they are sent anyway. */
  static final int CORK_LIMIT = 64 << 10;

  private static final System.Logger LOG = System.getLogger("io.nocopy.drpc");

  private final ByteChannel channel;
  private final Allocator allocator;
  private final DrpcOptions opts;
  private final Role role;
  private final InvokeListener listener;
  private final LongMap<StreamState> streams = new LongMap<>();
  private final FrameWriter writer;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final LongAdder dropped = new LongAdder();
  private final LongAdder overflows = new LongAdder();
  private final Thread readerThread;
  private volatile IOException failure;
  private long lastLocalId; // client: guarded by the writer lock
  private volatile long lastLocalIdPublished;
  private long highestRemote; // server: reader thread only
  private Runnable onClosed;

  Connection(
      ByteChannel channel, Allocator allocator, DrpcOptions opts, Role role, InvokeListener listener)
      throws IOException {
    if (!(channel instanceof GatheringByteChannel g)) {
      throw new IllegalArgumentException("channel must be a GatheringByteChannel: " + channel);
    }
    this.channel = channel;
    this.allocator = allocator;
    this.opts = opts;
    this.role = role;
    this.listener = listener;
    this.writer = new FrameWriter(g, allocator, opts.maxFrameSize());
    Thread.Builder threads =
        opts.virtualReaders() ? Thread.ofVirtual() : Thread.ofPlatform().daemon(true);
    this.readerThread =
        threads.name("drpc-reader-" + role.name().toLowerCase()).unstarted(this::readLoop);
  }

  void start(Runnable onClosed) {
    this.onClosed = onClosed;
    readerThread.start();
  }

  // --- reading -----------------------------------------------------------------------------------

  private void readLoop() {
    BufReader in = BufReader.of(channel, allocator, opts.readTier(), opts.maxReadTier());
    FrameHeader h = new FrameHeader();
    IOException cause = null;
    try {
      while (h.readFrom(in)) {
        onFrame(in, h);
      }
    } catch (IOException e) {
      cause = e;
    } catch (InterruptedException e) {
      cause = new java.io.InterruptedIOException("reader interrupted");
    } catch (RuntimeException e) {
      cause = new IOException("reader failed: " + e, e);
    } finally {
      fail(cause != null ? cause : new DrpcException(0, "connection closed by peer"));
      for (StreamState s : streams.values()) {
        s.releasePartialPacket();
      }
      in.close();
    }
  }

  /**
   * One frame. A message's data is read straight into its stream's queue as references to the
   * blocks it was read into (no copy, no object per message); a control packet's data is
   * collected in the stream and decoded when the packet is complete.
   */
  private void onFrame(BufReader in, FrameHeader h) throws IOException, InterruptedException {
    long sid = h.streamId();
    long len = h.length();
    Kind kind = h.kind();
    if (sid == 0 || h.messageId() == 0) {
      throw new DrpcProtocolException("id monotonicity violation: zero id in " + h);
    }
    if (kind == null) {
      if (h.control()) { // forward compatibility: unknown control frames are ignored
        skip(in, len);
        return;
      }
      throw new DrpcProtocolException("unknown packet kind " + h.kindCode() + " in " + h);
    }
    if (Long.compareUnsigned(len, opts.maxPacketSize()) > 0) {
      throw new DrpcProtocolException(
          "data overflow: frame of " + Long.toUnsignedString(len) + " bytes exceeds the maximum"
              + " packet of " + opts.maxPacketSize() + " bytes in " + h);
    }
    StreamState s = streams.get(sid);
    if (s == null) {
      s = newRemoteStream(h);
    }
    if (s == null || !s.frame(h)) { // an ended stream: its frames are dropped
      skip(in, len);
      if (kind == Kind.MESSAGE && h.done()) {
        dropped.increment();
      }
      return;
    }
    if (kind == Kind.MESSAGE) {
      if (len > 0) {
        readBlocks(in, len, s.queue); // staged in the queue without locking
      }
      if (!h.done()) {
        s.queue.endFrame();
        return;
      }
      switch (s.messageDone()) {
        case QUEUED -> runDirect(s);
        case CLOSED -> dropped.increment();
        case OVERFLOW -> onOverflow(s);
      }
      return;
    }
    if (len > 0) {
      readBlocks(in, len, s.controlSink());
    }
    if (h.done()) {
      byte[] data = s.controlDone();
      if (data != null) {
        onControlPacket(s, kind, data);
      }
    }
  }

  private static void readBlocks(BufReader in, long len, BlockConsumer into)
      throws IOException {
    try {
      in.readBlocks(len, into);
    } catch (EOFException e) {
      throw new DrpcProtocolException(
          "peer disconnected in the middle of a frame (" + len + " data bytes expected)");
    }
  }

  private static void skip(BufReader in, long len) throws IOException {
    try {
      in.skip(len);
    } catch (EOFException e) {
      throw new DrpcProtocolException("peer disconnected in the middle of a skipped frame");
    }
  }

  /** A frame for an id with no live stream: a new server stream, or null to drop the frame. */
  private StreamState newRemoteStream(FrameHeader h) throws DrpcProtocolException {
    long sid = h.streamId();
    Kind kind = h.kind();
    if (role == Role.SERVER) {
      if (Long.compareUnsigned(sid, highestRemote) <= 0) {
        return null; // an ended stream
      }
      if (kind != Kind.INVOKE && kind != Kind.INVOKE_METADATA) {
        throw new DrpcProtocolException(
            "frame for unknown stream " + Long.toUnsignedString(sid) + ": the first packet of a"
                + " stream must be Invoke, got " + kind);
      }
      highestRemote = sid;
      StreamState s = new StreamState(sid, null, opts);
      streams.put(sid, s);
      return s;
    }
    if (Long.compareUnsigned(sid, lastLocalIdPublished) <= 0) {
      return null; // a stream this client already finished
    }
    throw new DrpcProtocolException(
        "frame for unknown stream " + Long.toUnsignedString(sid) + ": this client opened only "
            + lastLocalIdPublished + " streams");
  }

  private void onControlPacket(StreamState s, Kind kind, byte[] data) throws IOException {
    switch (kind) {
      case INVOKE -> {
        String rpc = new String(data, StandardCharsets.UTF_8);
        s.invoke(rpc);
        s.direct = listener.onInvoke(new DrpcStream(this, s), rpc);
      }
      case INVOKE_METADATA -> s.invokeMetadata(Metadata.decode(data));
      case ERROR -> {
        DrpcException err = DrpcException.decode(data);
        s.remoteEnd(err, err, false);
        detach(s, null, false);
      }
      case CANCEL -> {
        DrpcException err =
            new DrpcException(DrpcException.CANCELED, "stream " + Long.toUnsignedString(s.id) + " cancelled by peer");
        s.remoteEnd(err, err, true);
        detach(s, null, false);
      }
      case CLOSE -> {
        String msg = "stream " + Long.toUnsignedString(s.id) + " closed by peer";
        s.remoteEnd(new DrpcException(0, msg), null, false);
        detach(s, null, false);
      }
      case CLOSE_SEND -> {
        if (s.remoteCloseSend()) {
          detach(s, null, false);
        }
      }
      case MESSAGE -> throw new AssertionError(kind);
    }
    if (kind != Kind.INVOKE && kind != Kind.INVOKE_METADATA) {
      runDirect(s); // the peer ended its side: a direct call waiting for its request runs now
    }
  }

  /** Runs a stream's direct task, if it has one still to run, on this (the reader) thread. */
  private static void runDirect(StreamState s) {
    Runnable task = s.direct;
    if (task != null) {
      s.direct = null;
      task.run();
    }
  }

  // --- writing -----------------------------------------------------------------------------------

  /**
   * Client: opens a stream; its Invoke is written and flushed. With a request (a unary or
   * server-streaming call), the request and CloseSend follow in the same write.
   *
   * @param metadata sent as InvokeMetadata before the Invoke; null or empty for none
   * @param form the form of the one request; null for a stream whose requests follow
   * @param request the one request, borrowed
   */
  <T> DrpcStream open(String rpc, Map<String, String> metadata, Payload<T> form, T request)
      throws IOException {
    ByteBuffer meta =
        metadata == null || metadata.isEmpty() ? null : ByteBuffer.wrap(Metadata.encode(metadata));
    ByteBuffer name = ByteBuffer.wrap(rpc.getBytes(StandardCharsets.UTF_8));
    writer.lock();
    try {
      checkOpen();
      long sid = ++lastLocalId;
      StreamState s = new StreamState(sid, rpc, opts);
      streams.put(sid, s);
      lastLocalIdPublished = sid;
      try {
        if (meta != null) {
          writer.packet(sid, s.claimSend(), Kind.INVOKE_METADATA, false, Payload.BYTES, meta);
        }
        writer.packet(sid, s.claimSend(), Kind.INVOKE, false, Payload.BYTES, name);
        if (form != null) {
          writer.packet(sid, s.claimSend(), Kind.MESSAGE, false, form, request);
          long end = s.claimEnd(Kind.CLOSE_SEND);
          writer.packet(sid, end, Kind.CLOSE_SEND, false, Payload.BYTES, Payload.NONE);
        }
        writer.flush();
      } catch (IOException e) {
        fail(e);
        throw e;
      }
      return new DrpcStream(this, s);
    } finally {
      writer.unlock();
    }
  }

  /** The allocator the connection reads into (and its streams' encoders may write into). */
  Allocator allocator() {
    return allocator;
  }

  /**
   * Sends a message. With {@code last}, CloseSend follows in the same write (a server's unary
   * response).
   *
   * @param form the form of {@code data}
   * @param data the message, borrowed until the call returns
   * @param flush whether to write everything pending now; otherwise the packet waits in the
   *     writer (corked) for the next flush, unless the writer holds {@link #CORK_LIMIT} bytes
   */
  <T> void sendMessage(StreamState s, Payload<T> form, T data, boolean last, boolean flush)
      throws IOException {
    writer.lock();
    try {
      checkOpen();
      long mid = s.claimSend();
      try {
        writer.packet(s.id, mid, Kind.MESSAGE, false, form, data);
        long end = last ? s.claimEnd(Kind.CLOSE_SEND) : 0;
        if (end != 0) {
          writer.packet(s.id, end, Kind.CLOSE_SEND, false, Payload.BYTES, Payload.NONE);
        }
        if (flush || writer.pending() >= CORK_LIMIT) {
          writer.flush();
        }
      } catch (IOException e) {
        fail(e);
        throw e;
      }
    } finally {
      writer.unlock();
    }
  }

  /** Writes every packet pending in the writer (corked stream writes). */
  void flush() throws IOException {
    writer.lock();
    try {
      checkOpen();
      writer.flush();
    } catch (IOException e) {
      fail(e); // no-op if the connection had already failed (checkOpen's exception)
      throw e;
    } finally {
      writer.unlock();
    }
  }

  /**
   * Sends an ending packet (CloseSend, Close, Error or Cancel) if the stream's state allows it.
   *
   * @param body the packet's data, or null for none
   * @return true if it was written
   */
  boolean sendEnd(StreamState s, Kind kind, boolean control, byte[] body) throws IOException {
    writer.lock();
    try {
      if (closed.get()) {
        if (kind == Kind.CLOSE || kind == Kind.CANCEL) {
          return false; // nothing to tell a dead connection
        }
        throw failureOrClosed();
      }
      long mid = s.claimEnd(kind);
      if (mid == 0) {
        return false;
      }
      try {
        ByteBuffer data = body == null ? Payload.NONE : ByteBuffer.wrap(body);
        writer.packet(s.id, mid, kind, control, Payload.BYTES, data);
        writer.flush();
      } catch (IOException e) {
        fail(e);
        throw e;
      }
      return true;
    } finally {
      writer.unlock();
    }
  }

  private void checkOpen() throws IOException {
    if (closed.get()) {
      throw failureOrClosed();
    }
  }

  private IOException failureOrClosed() {
    IOException f = failure;
    return new DrpcException(
        0, "connection closed" + (f != null ? ": " + f.getMessage() : ""), f);
  }

  // --- stream events -----------------------------------------------------------------------------

  /** Reader: a stream's queue overflowed under CANCEL_STREAM; tell the peer, forget the stream. */
  private void onOverflow(StreamState s) {
    overflows.increment();
    IOException err = s.queue.closeError();
    String msg = err != null ? err.getMessage() : "receive queue full";
    try {
      sendEnd(s, Kind.ERROR, false, DrpcException.encode(DrpcException.RESOURCE_EXHAUSTED, msg));
    } catch (IOException e) {
      // the connection failed; the reader will see it
    }
    detach(s, err, true);
    LOG.log(System.Logger.Level.DEBUG, "stream {0} cancelled: {1}", s.id, msg);
  }

  /** Finishes a stream for this side (see {@link StreamState#detach}) and forgets it. */
  void detach(StreamState s, IOException err, boolean abort) {
    s.detach(err, abort);
    streams.remove(s.id, s);
  }

  // --- lifecycle ---------------------------------------------------------------------------------

  /** Closes the connection with a cause; idempotent. */
  void fail(IOException cause) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    failure = cause;
    try {
      channel.close();
    } catch (IOException e) {
      // closing anyway
    }
    IOException err =
        cause instanceof DrpcException d ? d : new DrpcException(0, "connection failed: " + cause, cause);
    for (StreamState s : streams.values()) {
      s.connectionFailed(err);
    }
    writer.lock();
    try {
      writer.release();
    } finally {
      writer.unlock();
    }
    if (!(cause instanceof DrpcException) && !(cause instanceof ClosedChannelException)) {
      LOG.log(System.Logger.Level.DEBUG, "drpc connection closed: {0}", cause.toString());
    }
    Runnable r = onClosed;
    if (r != null) {
      r.run();
    }
  }

  /** Closes the connection; streams fail with "connection closed". Waits for the reader to end. */
  @Override
  public void close() {
    fail(new DrpcException(0, "connection closed locally"));
    try {
      readerThread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  boolean isClosed() {
    return closed.get();
  }

  /** The cause the connection closed with, or null while open. */
  IOException failure() {
    return failure;
  }

  boolean isProtocolError() {
    return failure instanceof ProtocolException;
  }

  /**
   * Messages that arrived for streams already ended on this side (finished, closed, cancelled,
   * failed with an error, or with their receive queue closed) and were released unseen: one per
   * message, however many frames it had. Control packets are not counted.
   */
  long droppedMessages() {
    return dropped.sum();
  }

  long overflows() {
    return overflows.sum();
  }

  Thread readerThread() {
    return readerThread;
  }
}
