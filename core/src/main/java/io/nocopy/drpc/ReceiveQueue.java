package io.nocopy.drpc;

import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A bounded queue of received message objects: a ring of {@code capacity} slots between a
 * producer (a connection's reader) and a consumer. The transport itself queues messages without an
 * object per message in a {@link MessageQueue}, which has these semantics; this generic form is
 * for callers with message objects of their own (and the benchmarks' reference). This is the drpc
 * ring buffer with the
 * shared pool, taken further: messages are owned objects (pooled {@code Slice}s in the transport),
 * never copied in or out.
 *
 * <h2>Ownership</h2>
 *
 * <ul>
 *   <li>{@link #enqueue} always takes ownership of the message, whatever it returns: queued, it
 *       belongs to the queue; refused (closed or overflowed), it is released at once with the
 *       release function given to the constructor.
 *   <li>{@link #dequeue} hands ownership to the consumer, who releases it whenever finished, even
 *       after the queue closed (drpc's Done). The slot is free for the producer as soon as dequeue
 *       returns.
 *   <li>{@link #close} lets queued messages drain: the consumer gets them all, then end-of-stream
 *       (null) or the close error. {@link #abort} releases queued messages at once.
 *   <li>A message that arrives after close is released at once and counted ({@link
 *       #droppedAfterClose()}); drpc drops it without a word.
 * </ul>
 *
 * <p>Thread safety: any number of producers and consumers; in the transport there is one of each.
 * Blocking operations wait on a lock condition, so virtual threads park without pinning a carrier.
 *
 * @param <T> the message type
 */
public final class ReceiveQueue<T> {
  /** What {@link #enqueue} did with a message. */
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

  private static final Object[] NONE = new Object[0];

  private static final int INITIAL_SLOTS = 4;

  private final int capacity;
  private Object[] ring; // grows by doubling up to capacity: most streams hold a message or two
  private final Consumer<? super T> release;
  private final OverflowPolicy policy;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition();
  private final Condition notFull = lock.newCondition();

  private int head; // next slot to dequeue
  private int count;
  private boolean closed;
  private IOException error; // null: clean end of stream
  private long droppedAfterClose;
  private long released;

  /**
   * A queue.
   *
   * @param capacity the number of slots, at least 1
   * @param policy what a full queue does to an enqueue
   * @param release releases a message the queue owns and will not deliver; called without the
   *     queue's lock held, must not throw
   * @throws IllegalArgumentException if capacity is below 1
   */
  public ReceiveQueue(int capacity, OverflowPolicy policy, Consumer<? super T> release) {
    if (capacity < 1) {
      throw new IllegalArgumentException("queue capacity must be at least 1, got " + capacity);
    }
    this.capacity = capacity;
    this.ring = new Object[Math.min(capacity, INITIAL_SLOTS)];
    this.policy = Objects.requireNonNull(policy, "policy");
    this.release = Objects.requireNonNull(release, "release");
  }

  /**
   * Hands a message to the queue. Under {@link OverflowPolicy#BLOCK} a full queue makes the caller
   * wait for a free slot (or for close); under {@link OverflowPolicy#CANCEL_STREAM} it aborts the
   * queue instead.
   *
   * @param msg the message; ownership passes to the queue in every outcome
   * @return what happened to it
   * @throws InterruptedException if interrupted while waiting (the message has been released)
   */
  public Offer enqueue(T msg) throws InterruptedException {
    Objects.requireNonNull(msg, "msg");
    Offer result;
    lock.lock();
    try {
      if (count == ring.length && ring.length < capacity) {
        grow();
      }
      while (!closed && count == capacity && policy == OverflowPolicy.BLOCK) {
        try {
          notFull.await();
        } catch (InterruptedException e) {
          lock.unlock();
          try {
            release.accept(msg);
          } finally {
            lock.lock();
          }
          throw e;
        }
      }
      if (closed) {
        droppedAfterClose++;
        result = Offer.CLOSED;
      } else if (count == capacity) {
        result = Offer.OVERFLOW;
      } else {
        ring[(head + count) % ring.length] = msg;
        count++;
        notEmpty.signal();
        return Offer.QUEUED;
      }
    } finally {
      lock.unlock();
    }
    release.accept(msg);
    if (result == Offer.OVERFLOW) {
      abort(
          new DrpcException(
              DrpcException.RESOURCE_EXHAUSTED,
              "receive queue full (capacity " + capacity + " messages): stream cancelled"));
    }
    return result;
  }

  /** Doubles the ring (up to capacity), keeping the queued messages in order from slot 0. */
  private void grow() {
    Object[] bigger = new Object[Math.min(capacity, ring.length * 2)];
    for (int i = 0; i < count; i++) {
      bigger[i] = ring[(head + i) % ring.length];
    }
    ring = bigger;
    head = 0;
  }

  /**
   * Takes the oldest message, waiting until one arrives or the queue closes.
   *
   * @return the message, now owned by the caller (who releases it); null at a clean end of stream
   *     once every queued message was taken
   * @throws IOException the error the queue was closed or aborted with, once drained
   * @throws InterruptedException if interrupted while waiting
   */
  public T dequeue() throws IOException, InterruptedException {
    lock.lock();
    try {
      while (count == 0 && !closed) {
        notEmpty.await();
      }
      return takeOrEnd();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Takes the oldest message, waiting at most the given time.
   *
   * @param timeout how long to wait
   * @param unit its unit
   * @return the message (owned by the caller), or null at a clean end of stream
   * @throws IOException the close error once drained
   * @throws InterruptedException if interrupted while waiting
   * @throws java.util.concurrent.TimeoutException if nothing arrived in time
   */
  public T dequeue(long timeout, TimeUnit unit)
      throws IOException, InterruptedException, java.util.concurrent.TimeoutException {
    long nanos = unit.toNanos(timeout);
    lock.lock();
    try {
      while (count == 0 && !closed) {
        if (nanos <= 0) {
          throw new java.util.concurrent.TimeoutException(
              "no message within " + unit.toMillis(timeout) + " ms");
        }
        nanos = notEmpty.awaitNanos(nanos);
      }
      return takeOrEnd();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Takes the oldest message if there is one, without waiting.
   *
   * @return the message (owned by the caller), or null if the queue is empty (open or closed; see
   *     {@link #isDrained()})
   */
  public T poll() {
    lock.lock();
    try {
      return count == 0 ? null : take();
    } finally {
      lock.unlock();
    }
  }

  private T takeOrEnd() throws IOException {
    if (count > 0) {
      return take();
    }
    if (error != null) {
      throw error;
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private T take() {
    T msg = (T) ring[head];
    ring[head] = null; // the slot is reused by the producer; keep no stale reference
    head = (head + 1) % ring.length;
    count--;
    notFull.signal();
    return msg;
  }

  /**
   * Closes the queue: later enqueues are refused, waiting producers return {@link Offer#CLOSED},
   * queued messages still drain, then the consumer sees the end (null) or {@code error}.
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
      notEmpty.signalAll();
      notFull.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Closes the queue and releases every queued message at once: for cancellation and connection
   * failure, where nobody will consume them. The consumer gets the error on its next dequeue (if
   * the queue was already closed, the first error is kept but the queued messages still go).
   *
   * @param error the error the consumer gets; not null
   * @return true if this call closed the queue
   */
  public boolean abort(IOException error) {
    Objects.requireNonNull(error, "error");
    Object[] drop;
    int n;
    boolean first;
    lock.lock();
    try {
      first = !closed;
      if (first) {
        closed = true;
        this.error = error;
      }
      n = count;
      drop = n == 0 ? NONE : new Object[n];
      for (int i = 0; i < n; i++) {
        int slot = (head + i) % ring.length;
        drop[i] = ring[slot];
        ring[slot] = null;
      }
      head = 0;
      count = 0;
      released += n;
      notEmpty.signalAll();
      notFull.signalAll();
    } finally {
      lock.unlock();
    }
    for (Object o : drop) {
      @SuppressWarnings("unchecked")
      T msg = (T) o;
      release.accept(msg);
    }
    return first;
  }

  /**
   * The number of slots.
   *
   * @return the capacity
   */
  public int capacity() {
    return capacity;
  }

  /**
   * Messages waiting now (a snapshot).
   *
   * @return the count
   */
  public int size() {
    lock.lock();
    try {
      return count;
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
   * Whether the queue is closed and empty: the consumer has seen or will see the end at once.
   *
   * @return true once closed and drained
   */
  public boolean isDrained() {
    lock.lock();
    try {
      return closed && count == 0;
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
   * Messages that arrived after close and were released unseen.
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
      return released;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The policy for a full queue.
   *
   * @return the policy
   */
  public OverflowPolicy policy() {
    return policy;
  }
}
