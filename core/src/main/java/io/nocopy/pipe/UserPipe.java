package io.nocopy.pipe;

import io.nocopy.buffer.Slice;
import java.nio.channels.AsynchronousCloseException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The userspace stand-in for a kernel pipe: a bounded queue of {@link Slice}s of pooled memory.
 * Used by {@link Pipe} when acceleration is off.
 *
 * <p>Bounded two ways: at most {@link #MAX_CHUNKS} slices and, like a kernel pipe, no new slice
 * once {@code capacity} bytes are queued. A {@code put} takes over the caller's handle (also when
 * it fails: the handle is then closed); a {@code take} hands one handle to the consumer.
 *
 * <p>Thread safety: any number of producers (a pipe's reader and the readers of pipes that tee into
 * it), one consumer. Waits use a {@link ReentrantLock} condition, so virtual threads unmount.
 */
final class UserPipe {
  static final int MAX_CHUNKS = 64;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Slice[] slices = new Slice[MAX_CHUNKS];
  private int head;
  private int count;
  private long bytes;
  private volatile int capacity = 64 * 1024;
  private boolean writeClosed;
  private boolean closed;

  int capacity() {
    return capacity;
  }

  void capacity(int bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("pipe size must be positive: " + bytes);
    }
    lock.lock();
    try {
      capacity = bytes;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Queues a slice, waiting while the pipe is full.
   *
   * @return false if the pipe is closed or its write side is (the handle was closed)
   */
  boolean put(Slice s) throws InterruptedException {
    lock.lock();
    try {
      while (!closed && !writeClosed && (count == MAX_CHUNKS || bytes >= capacity)) {
        changed.await();
      }
      if (closed || writeClosed) {
        s.close();
        return false;
      }
      slices[(head + count) % MAX_CHUNKS] = s;
      count++;
      bytes += s.length();
      changed.signalAll();
      return true;
    } catch (InterruptedException e) {
      s.close();
      throw e;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Takes the next slice; the caller owns the handle and closes it.
   *
   * @return the slice, or null at end of stream (write side closed and nothing queued)
   * @throws AsynchronousCloseException if the pipe was closed
   */
  Slice take() throws InterruptedException, AsynchronousCloseException {
    lock.lock();
    try {
      while (!closed && count == 0 && !writeClosed) {
        changed.await();
      }
      if (closed) {
        throw new AsynchronousCloseException();
      }
      if (count == 0) {
        return null;
      }
      Slice s = slices[head];
      slices[head] = null;
      head = (head + 1) % MAX_CHUNKS;
      count--;
      bytes -= s.length();
      changed.signalAll();
      return s;
    } finally {
      lock.unlock();
    }
  }

  /** Ends the stream: the consumer drains what is queued, then sees end of stream. */
  void closeWrite() {
    lock.lock();
    try {
      writeClosed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  boolean writeClosed() {
    lock.lock();
    try {
      return writeClosed || closed;
    } finally {
      lock.unlock();
    }
  }

  /** Closes: queued slices are closed, waiters wake with an exception or false. Idempotent. */
  void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      while (count > 0) {
        slices[head].close();
        slices[head] = null;
        head = (head + 1) % MAX_CHUNKS;
        count--;
      }
      bytes = 0;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
