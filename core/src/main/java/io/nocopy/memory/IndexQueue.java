package io.nocopy.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded, lock-free, multi-producer multi-consumer FIFO of non-negative {@code int} indices:
 * the shared free list behind every {@link BlockPool}.
 *
 * <h2>Algorithm</h2>
 *
 * Dmitry Vyukov's bounded MPMC queue. A ring of {@code n} cells (a power of two), each holding a
 * value and a 64-bit sequence number; two 64-bit counters, {@code tail} (next ticket to fill) and
 * {@code head} (next ticket to empty), padded onto their own cache lines. Cell {@code i} starts
 * with sequence {@code i}. For ticket {@code t}, cell {@code t & (n-1)}:
 *
 * <ul>
 *   <li>is free for the producer holding ticket {@code t} when {@code seq == t};
 *   <li>is full for the consumer holding ticket {@code t} when {@code seq == t + 1};
 *   <li>after the consumer empties it, gets {@code seq = t + n}: free for ticket {@code t + n}.
 * </ul>
 *
 * A thread claims a ticket by CAS on the counter only after seeing the cell in the right state,
 * so it never waits for another thread inside a cell. The sequence numbers are what makes the
 * queue ABA-safe: a thread that stalls between reading a cell and its CAS fails the CAS, because
 * the counter has moved on, and a cell reused a lap later carries a sequence a whole lap larger.
 * Tickets are 64-bit and never wrap in practice.
 *
 * <h2>Memory ordering</h2>
 *
 * <ul>
 *   <li>{@code seq} is read with acquire and written with release: the value written before the
 *       producer's release store is visible to the consumer that acquires the sequence, and the
 *       consumer's read of the value happens before the producer of the next lap overwrites it.
 *   <li>The counters are read with acquire (volatile on x86 costs nothing) and advanced by CAS
 *       (full fence); the value slot itself is plain.
 * </ul>
 *
 * <h2>Progress</h2>
 *
 * Vyukov's original returns "full" (or "empty") when the cell is still being worked on by a thread
 * of the previous lap (a consumer, or producer, between its ticket CAS and its sequence store). As
 * in JCTools' {@code MpmcArrayQueue}, {@link #offer} reports full only when the counters say so
 * ({@code tail - head >= n}) and {@link #poll} reports empty only when {@code head == tail};
 * otherwise they wait for that thread's next store. So neither fails spuriously (a pool whose queue
 * holds every block must never see "full"), at the price that a thread descheduled inside that
 * two-instruction window delays the one thread that wants the same cell; all others go on.
 */
final class IndexQueue extends IndexQueueHead {
  static final int EMPTY = -1;

  private static final VarHandle SEQ = MethodHandles.arrayElementVarHandle(long[].class);

  private final int mask;
  private final long[] sequence;
  private final int[] value;

  /**
   * Creates a queue that holds at least {@code capacity} indices.
   *
   * @param capacity the minimum capacity, 1 .. 2^30
   */
  IndexQueue(int capacity) {
    if (capacity < 1 || capacity > (1 << 30)) {
      throw new IllegalArgumentException("queue capacity " + capacity + " outside 1..2^30");
    }
    int n = Integer.highestOneBit(capacity);
    if (n < capacity) {
      n <<= 1;
    }
    mask = n - 1;
    sequence = new long[n];
    value = new int[n];
    for (int i = 0; i < n; i++) {
      sequence[i] = i;
    }
  }

  /** The number of cells (a power of two, at least the requested capacity). */
  int capacity() {
    return mask + 1;
  }

  /**
   * Appends an index.
   *
   * @param v a non-negative index
   * @return false if the queue is full
   */
  boolean offer(int v) {
    long t = tailAcquire();
    while (true) {
      int i = (int) t & mask;
      long s = (long) SEQ.getAcquire(sequence, i);
      long d = s - t;
      if (d == 0) {
        if (casTail(t, t + 1)) {
          value[i] = v;
          SEQ.setRelease(sequence, i, t + 1);
          return true;
        }
        t = tailAcquire();
      } else if (d < 0) {
        // The cell is still owned by the consumer of the previous lap. Full only if that lap's
        // ticket has not been claimed; otherwise its consumer is between its CAS and its release
        // store: wait for it (a few instructions) instead of failing spuriously.
        if (t - headAcquire() >= mask + 1) {
          return false;
        }
        Thread.onSpinWait();
      } else {
        t = tailAcquire(); // another producer took ticket t
      }
    }
  }

  /**
   * Removes the oldest index.
   *
   * @return the index, or {@link #EMPTY}
   */
  int poll() {
    long h = headAcquire();
    while (true) {
      int i = (int) h & mask;
      long s = (long) SEQ.getAcquire(sequence, i);
      long d = s - (h + 1);
      if (d == 0) {
        if (casHead(h, h + 1)) {
          int v = value[i];
          SEQ.setRelease(sequence, i, h + mask + 1);
          return v;
        }
        h = headAcquire();
      } else if (d < 0) {
        // Not yet filled for this lap. Empty only if no producer holds ticket h; otherwise that
        // producer is between its CAS and its release store: wait for it.
        if (h >= tailAcquire()) {
          return EMPTY;
        }
        Thread.onSpinWait();
      } else {
        h = headAcquire(); // another consumer took ticket h
      }
    }
  }

  /** A snapshot of the number of indices queued; exact only when no thread is inside. */
  int size() {
    while (true) {
      long h = headAcquire();
      long t = tailAcquire();
      if (h == headAcquire()) {
        return (int) Math.max(0, Math.min(t - h, mask + 1L));
      }
    }
  }
}

/** Padding so that the counters sit on cache lines of their own (JCTools' layout trick). */
abstract class IndexQueuePad0 {
  long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

abstract class IndexQueueTail extends IndexQueuePad0 {
  private static final VarHandle TAIL;

  static {
    try {
      TAIL = MethodHandles.lookup().findVarHandle(IndexQueueTail.class, "tail", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private long tail;

  final long tailAcquire() {
    return (long) TAIL.getAcquire(this);
  }

  final boolean casTail(long expect, long update) {
    return TAIL.compareAndSet(this, expect, update);
  }
}

abstract class IndexQueuePad1 extends IndexQueueTail {
  long p10, p11, p12, p13, p14, p15, p16, p17, p18, p19, p1a, p1b, p1c, p1d, p1e, p1f;
}

abstract class IndexQueueHead extends IndexQueuePad1 {
  private static final VarHandle HEAD;

  static {
    try {
      HEAD = MethodHandles.lookup().findVarHandle(IndexQueueHead.class, "head", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private long head;

  long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q0a, q0b, q0c, q0d, q0e, q0f;

  final long headAcquire() {
    return (long) HEAD.getAcquire(this);
  }

  final boolean casHead(long expect, long update) {
    return HEAD.compareAndSet(this, expect, update);
  }
}
