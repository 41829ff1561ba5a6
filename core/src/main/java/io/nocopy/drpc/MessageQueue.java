package io.nocopy.drpc;

import io.nocopy.buffer.BlockConsumer;
import io.nocopy.buffer.Chunks;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Block;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One stream's bounded queue of received messages, kept as chains of block chunks so that
 * receiving allocates nothing: the transport's receive queue. Bounded, with an {@link
 * OverflowPolicy} for a full queue; close lets the queued messages drain, abort releases them; the
 * first error wins; messages that arrive after close are released and counted. It holds no object
 * per message.
 *
 * <h2>Layout</h2>
 *
 * Two rings under one lock. The chunk ring (a {@link Chunks}, each chunk owning one block
 * reference) holds first the chunks of the published messages, oldest first, then the chunks of
 * the <em>open</em> message the producer is still adding to. The message ring holds, per published
 * message, its chunk count and byte length; it has at most {@code capacity} entries. Both rings
 * start small and grow by doubling (the message ring up to capacity, the chunk ring up to {@link
 * Chunks#DEFAULT_MAX_COUNT} chunks, beyond which the queue is aborted with {@link
 * DrpcException#RESOURCE_EXHAUSTED}), so steady state allocates nothing.
 *
 * <h2>Producer (the connection's reader)</h2>
 *
 * {@link #accept} stages a chunk of the current frame (it is a {@link BlockConsumer}, so
 * {@link io.nocopy.buffer.BufReader#readBlocks reader.readBlocks(n, queue)} reads a frame's data straight into it); staging takes no
 * lock. {@link #endFrame()} moves the staged chunks into the open message, {@link #publish()}
 * moves them and makes the open message one queued message, each under one lock acquisition, and
 * {@link #discard()} releases the staged and open chunks (a partial packet a higher message id
 * superseded). Ownership of every reference passes to the queue on {@code accept}, whatever
 * happens after; after close, staged chunks are released by the next {@code endFrame}, {@code
 * publish} or {@code discard}. Every frame's chunks must be followed by one of those three, on the
 * producer's thread: staged chunks belong to the producer, so {@link #close} and {@link #abort}
 * (any thread) cannot release them.
 *
 * <h2>Consumer</h2>
 *
 * {@link #receive(MessageHandler)} lends the oldest message to a handler and releases its blocks
 * when the handler returns: nothing is allocated. {@link #receive()} hands it over as a {@link
 * Slice} instead, which the caller owns and closes (allocating the handle, the caller's object).
 * The taken message's chunk entries are moved out under the lock into a consumer-side list, so the
 * producer can go on while the handler runs. That list (and the {@link ReceivedMessage} over it) is
 * one per queue: a {@code receive(MessageHandler)} while another is inside its handler (nested, or
 * from another thread) throws {@link IllegalStateException} instead of sharing it. {@code
 * receive()} uses no shared state and may be called from any thread, also from a handler.
 *
 * <p>Thread safety: one producer thread ({@code accept}, {@code endFrame}, {@code publish}, {@code
 * discard}), one consumer, and {@code close}/{@code abort} from any thread.
 * Blocking waits use lock conditions, so virtual threads park without pinning a carrier.
 *
 * <p>One file: the two rings, the waiting and the receive guard all live under the one lock, and
 * its discipline is easier to check in one place than across classes; the chunk storage itself is
 * {@link Chunks}.
 */
final class MessageQueue implements BlockConsumer {
  /** What {@link #publish()} did with the open message. */
  public enum Offer {
    /** Queued; the consumer will get it. */
    QUEUED,
    /** The queue was closed: the message was released and counted. */
    CLOSED,
    /**
     * The queue was full under {@link OverflowPolicy#CANCEL_STREAM}: the message was released and
     * the queue aborted with a {@link DrpcException} ({@link DrpcException#RESOURCE_EXHAUSTED}).
     */
    OVERFLOW
  }

  private static final int INITIAL_MESSAGES = 4;

  private final int capacity;
  private final OverflowPolicy policy;
  private final ReentrantLock lock = new ReentrantLock();
  // Waiting: one waiting consumer and one waiting producer park themselves (LockSupport) and are
  // named in these fields, so a wait allocates nothing (a Condition allocates a node per await);
  // a second thread waiting on the same side at the same time (allowed, rare) uses the condition.
  private final Condition notEmpty = lock.newCondition();
  private final Condition notFull = lock.newCondition();
  private Thread parkedConsumer; // guarded by lock
  private Thread parkedProducer; // guarded by lock

  // chunk ring: published chunks, then the open message's (guarded by lock)
  private final Chunks chunks = new Chunks();
  private int openChunks;
  private long openBytes;

  // message ring: chunk count and bytes per published message
  private int[] msgChunks;
  private long[] msgBytes;
  private int msgHead;
  private int msgCount;

  private boolean closed;
  private IOException error;
  private long droppedAfterClose;
  private long releasedOnAbort;

  // producer side: the current frame's chunks, not yet in the ring (producer thread only)
  private final Chunks staged = new Chunks();

  // consumer side: the taken message (consumer thread only, between take and release)
  private final Chunks taken = new Chunks();
  private final ReceivedMessage view = new ReceivedMessage(taken);
  // true from take() to the end of the handler call: set under the lock, cleared with a release
  // store (no fence: a receive that happens after the clear sees it; only a concurrent or nested
  // receive can see true, and that is the misuse it reports)
  private boolean receiving;
  private static final java.lang.invoke.VarHandle RECEIVING;

  static {
    try {
      RECEIVING = java.lang.invoke.MethodHandles.lookup()
          .findVarHandle(MessageQueue.class, "receiving", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * A queue.
   *
   * @param capacity the most published messages held, at least 1
   * @param policy what {@link #publish()} does when the queue is full
   * @throws IllegalArgumentException if capacity is below 1
   */
  public MessageQueue(int capacity, OverflowPolicy policy) {
    if (capacity < 1) {
      throw new IllegalArgumentException("queue capacity must be at least 1, got " + capacity);
    }
    this.capacity = capacity;
    this.policy = Objects.requireNonNull(policy, "policy");
    int m = Math.min(capacity, INITIAL_MESSAGES);
    this.msgChunks = new int[m];
    this.msgBytes = new long[m];
  }

  // --- producer ---------------------------------------------------------------------------------

  /**
   * Stages a chunk of the current frame, without locking: it joins the open message at the next
   * {@link #endFrame()} or {@link #publish()}. Producer thread only.
   *
   * @param block the chunk's block; the queue takes over the caller's reference in every case
   * @param offset the chunk's first byte in the block's segment
   * @param length the chunk's bytes, at least 1
   */
  @Override
  public void accept(Block block, int offset, int length) {
    staged.accept(block, offset, length);
  }

  /**
   * Ends a frame that does not end its message: the staged chunks join the open message (or are
   * released, if the queue is closed). Producer thread only.
   */
  public void endFrame() {
    if (staged.isEmpty()) {
      return;
    }
    lock.lock();
    try {
      if (!closed) {
        moveStaged();
        return;
      }
    } finally {
      lock.unlock();
    }
    staged.release();
  }

  /**
   * Under the lock, queue open: appends the staged chunks to the open message. If the chunk ring
   * is full they are released instead and the queue is aborted.
   */
  private void moveStaged() {
    int n = staged.count();
    long bytes = staged.length();
    try {
      chunks.moveFrom(staged, n);
    } catch (IllegalStateException full) {
      staged.release();
      abortLocked(new DrpcException(DrpcException.RESOURCE_EXHAUSTED,
          "receive queue holds too many chunks (" + full.getMessage() + "): stream cancelled"));
      return;
    }
    openChunks += n;
    openBytes += bytes;
  }

  /**
   * Ends a message: the staged chunks join the open message, which (possibly empty) becomes one
   * queued message. Producer thread only. Under {@link OverflowPolicy#BLOCK}
   * a full queue makes the caller wait for a free slot or for close; under {@link
   * OverflowPolicy#CANCEL_STREAM} it aborts the queue instead.
   *
   * @return {@link Offer#QUEUED}; {@code CLOSED} if the queue was closed (the message
   *     was released and counted); {@code OVERFLOW} if it was full under CANCEL_STREAM (released,
   *     and the queue aborted with {@link DrpcException#RESOURCE_EXHAUSTED})
   * @throws InterruptedException if interrupted while waiting (the open message was released)
   */
  public Offer publish() throws InterruptedException {
    boolean overflow;
    lock.lock();
    try {
      if (closed) {
        staged.release(); // under the lock only here: rare, and release never blocks
      } else if (!staged.isEmpty()) {
        moveStaged();
      }
      if (msgCount == msgChunks.length && msgChunks.length < capacity) {
        growMessages();
      }
      while (!closed && msgCount == capacity && policy == OverflowPolicy.BLOCK) {
        try {
          awaitNotFull();
        } catch (InterruptedException e) {
          releaseOpen();
          throw e;
        }
      }
      if (closed) {
        releaseOpen();
        droppedAfterClose++;
        return Offer.CLOSED;
      }
      overflow = msgCount == capacity;
      if (!overflow) {
        int slot = wrap(msgHead + msgCount);
        msgChunks[slot] = openChunks;
        msgBytes[slot] = openBytes;
        msgCount++;
        openChunks = 0;
        openBytes = 0;
        wake(parkedConsumer, notEmpty);
        return Offer.QUEUED;
      }
      releaseOpen();
    } finally {
      lock.unlock();
    }
    abort(
        new DrpcException(
            DrpcException.RESOURCE_EXHAUSTED,
            "receive queue full (capacity " + capacity + " messages): stream cancelled"));
    return Offer.OVERFLOW;
  }

  private void growMessages() {
    int n = Math.min(capacity, msgChunks.length * 2);
    int[] c = new int[n];
    long[] b = new long[n];
    for (int i = 0; i < msgCount; i++) {
      int s = (msgHead + i) % msgChunks.length;
      c[i] = msgChunks[s];
      b[i] = msgBytes[s];
    }
    msgChunks = c;
    msgBytes = b;
    msgHead = 0;
  }

  /**
   * Releases the staged and open chunks (a superseded or abandoned partial packet). Producer
   * thread only.
   */
  public void discard() {
    staged.release();
    lock.lock();
    try {
      releaseOpen();
    } finally {
      lock.unlock();
    }
  }

  /** Under the lock: releases the open message, the last openChunks entries of the chunk ring. */
  private void releaseOpen() {
    chunks.releaseLast(openChunks);
    openChunks = 0;
    openBytes = 0;
  }

  // --- consumer ---------------------------------------------------------------------------------

  /**
   * Lends the oldest message to {@code handler}, waiting until one arrives or the queue closes,
   * and releases its blocks when the handler returns or throws. Allocates nothing.
   *
   * @param handler borrows the message for the call; must not receive from this queue
   * @return true if a message was handled; false at a clean end of stream once every queued
   *     message was taken
   * @throws IOException the close error once drained, or what the handler throws
   * @throws InterruptedException if interrupted while waiting (nothing taken)
   * @throws IllegalStateException if another receive is inside its handler (nested or concurrent
   *     use)
   */
  public boolean receive(MessageHandler handler) throws IOException, InterruptedException {
    Objects.requireNonNull(handler, "handler");
    if (!take()) {
      return false;
    }
    try {
      view.open();
      handler.onMessage(view);
    } finally {
      view.invalidate();
      taken.release();
      RECEIVING.setRelease(this, false);
    }
    return true;
  }

  /**
   * Hands the oldest message over as a slice, waiting until one arrives or the queue closes.
   *
   * @return a slice the caller owns and closes (its handle is allocated here); null at a clean end
   *     of stream once every queued message was taken
   * @throws IOException the close error once drained
   * @throws InterruptedException if interrupted while waiting (nothing taken)
   */
  public Slice receive() throws IOException, InterruptedException {
    lock.lock();
    try {
      while (msgCount == 0 && !closed) {
        awaitNotEmpty();
      }
      if (msgCount == 0) {
        if (error != null) {
          throw error;
        }
        return null;
      }
      Slice s = Slice.of(chunks, msgChunks[msgHead]); // one chunk (the common case): no table
      dropHeadMessage();
      return s;
    } finally {
      lock.unlock();
    }
  }

  /** An index into the message ring from one below twice its length (no division). */
  private int wrap(int i) {
    int n = msgChunks.length;
    return i >= n ? i - n : i;
  }

  /** Under the lock: the oldest message's chunks were moved out; free its slot. */
  private void dropHeadMessage() {
    msgHead = wrap(msgHead + 1);
    msgCount--;
    wake(parkedProducer, notFull);
  }

  /**
   * Moves the oldest message's chunks into {@code taken} and sets receiving; false at a clean end.
   */
  private boolean take() throws IOException, InterruptedException {
    lock.lock();
    try {
      checkNotReceiving();
      while (msgCount == 0 && !closed) {
        awaitNotEmpty();
      }
      checkNotReceiving();
      if (msgCount == 0) {
        if (error != null) {
          throw error;
        }
        return false;
      }
      taken.moveFrom(chunks, msgChunks[msgHead]);
      dropHeadMessage();
      receiving = true;
      return true;
    } finally {
      lock.unlock();
    }
  }

  private void checkNotReceiving() {
    if ((boolean) RECEIVING.getAcquire(this)) {
      throw new IllegalStateException(
          "receive while another receive of this queue is in its handler (one receiving thread"
              + " at a time, no receive from inside a MessageHandler)");
    }
  }

  // --- waiting --------------------------------------------------------------------------------

  /** Under the lock: waits once for a publish or close (the caller loops). */
  private void awaitNotEmpty() throws InterruptedException {
    if (parkedConsumer != null) {
      notEmpty.await();
      return;
    }
    Thread me = Thread.currentThread();
    parkedConsumer = me;
    try {
      parkUnlocked();
    } finally {
      if (parkedConsumer == me) {
        parkedConsumer = null;
      }
    }
  }

  /** Under the lock: waits once for a free slot or close (the caller loops). */
  private void awaitNotFull() throws InterruptedException {
    if (parkedProducer != null) {
      notFull.await();
      return;
    }
    Thread me = Thread.currentThread();
    parkedProducer = me;
    try {
      parkUnlocked();
    } finally {
      if (parkedProducer == me) {
        parkedProducer = null;
      }
    }
  }

  /**
   * Releases the lock, parks until unparked (or spuriously), takes the lock again; throws if
   * interrupted, clearing the status as {@link Condition#await()} does. A wake-up given between the
   * unlock and the park is not lost: it leaves a permit that makes the park return at once.
   */
  private void parkUnlocked() throws InterruptedException {
    lock.unlock();
    try {
      LockSupport.park(this);
    } finally {
      lock.lock();
    }
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
  }

  /** Under the lock: wakes the parked thread of one side and one condition waiter. */
  private static void wake(Thread parked, Condition c) {
    if (parked != null) {
      LockSupport.unpark(parked);
    }
    c.signal();
  }

  /** Under the lock: wakes every waiter (close, abort). */
  private void wakeAll() {
    if (parkedConsumer != null) {
      LockSupport.unpark(parkedConsumer);
    }
    if (parkedProducer != null) {
      LockSupport.unpark(parkedProducer);
    }
    notEmpty.signalAll();
    notFull.signalAll();
  }

  // --- ending -----------------------------------------------------------------------------------

  /**
   * Closes the queue: the open message is released, later chunks and publishes are refused
   * (released, and a refused publish counted), a waiting producer returns {@code CLOSED}, queued
   * messages still drain, then the consumer sees the end (false / null) or {@code error}.
   * Idempotent: the first close (or abort) decides the error.
   *
   * @param error the error the consumer gets after draining, or null for a clean end of stream
   * @return true if this call closed the queue
   */
  public boolean close(IOException error) {
    lock.lock();
    try {
      if (closed) {
        return false;
      }
      closed = true;
      this.error = error;
      releaseOpen();
      wakeAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Closes the queue and releases every queued message and the open one at once: for
   * cancellation and connection failure, where nobody will consume them. The consumer gets the
   * error on its next receive (if the queue was already closed, the first error is kept but the
   * queued messages still go). A message lent to a handler right now is not affected.
   *
   * @param error the error the consumer gets; not null
   * @return true if this call closed the queue
   */
  public boolean abort(IOException error) {
    Objects.requireNonNull(error, "error");
    lock.lock();
    try {
      return abortLocked(error);
    } finally {
      lock.unlock();
    }
  }

  /** Under the lock: {@link #abort}. */
  private boolean abortLocked(IOException error) {
    boolean first = !closed;
    if (first) {
      closed = true;
      this.error = error;
    }
    chunks.release();
    releasedOnAbort += msgCount;
    openChunks = 0;
    openBytes = 0;
    msgHead = 0;
    msgCount = 0;
    wakeAll();
    return first;
  }

  // --- state ------------------------------------------------------------------------------------

  /**
   * The most published messages held.
   *
   * @return the capacity
   */
  public int capacity() {
    return capacity;
  }

  /**
   * The policy for a full queue.
   *
   * @return the policy
   */
  public OverflowPolicy policy() {
    return policy;
  }

  /**
   * Published messages waiting now (a snapshot).
   *
   * @return the count
   */
  public int size() {
    lock.lock();
    try {
      return msgCount;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Block references the queue holds now: chunks of queued messages and of the open one, not those
   * staged for the producer's current frame (a snapshot, for tests and diagnostics).
   *
   * @return the count
   */
  public int heldChunks() {
    lock.lock();
    try {
      return chunks.count();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether the queue has been closed or aborted.
   *
   * @return true once closed
   */
  public boolean isClosed() {
    lock.lock();
    try {
      return closed;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The error the queue was closed with.
   *
   * @return the error, or null if open or closed cleanly
   */
  public IOException closeError() {
    lock.lock();
    try {
      return error;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Messages published after close, released unseen.
   *
   * @return the count since creation
   */
  public long droppedAfterClose() {
    lock.lock();
    try {
      return droppedAfterClose;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Queued messages released by {@link #abort} without being delivered.
   *
   * @return the count since creation
   */
  public long releasedOnAbort() {
    lock.lock();
    try {
      return releasedOnAbort;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    return "MessageQueue[" + size() + "/" + capacity + " messages, " + policy + "]";
  }
}
