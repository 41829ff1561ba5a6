package io.nocopy.pipe;

import io.nocopy.memory.Block;
import java.nio.channels.AsynchronousCloseException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The userspace stand-in for a kernel pipe: a bounded queue of chunks of pooled {@link Block}s,
 * each chunk holding one reference to its block. Used by {@link Pipe} when acceleration is off.
 *
 * <p>Bounded two ways: at most {@link #MAX_CHUNKS} chunks and, like a kernel pipe, no new chunk
 * once {@code capacity} bytes are queued. A {@code put} takes over the caller's reference (also
 * when it fails: the block is then released); a {@code take} hands one reference to the consumer.
 *
 * <p>Thread safety: any number of producers (a pipe's reader and the readers of pipes that tee into
 * it), one consumer. Waits use a {@link ReentrantLock} condition, so virtual threads unmount.
 */
final class UserPipe {
  static final int MAX_CHUNKS = 64;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final int maxChunks;
  private final Block[] blocks;
  private final int[] offs;
  private final int[] lens;
  private int head;
  private int count;
  private long bytes;
  private volatile int capacity;
  private boolean writeClosed;
  private boolean closed;

  UserPipe() {
    this(MAX_CHUNKS, 64 * 1024);
  }

  UserPipe(int maxChunks, int capacity) {
    this.maxChunks = maxChunks;
    this.blocks = new Block[maxChunks];
    this.offs = new int[maxChunks];
    this.lens = new int[maxChunks];
    this.capacity = capacity;
  }

  // consumer-side result of take(), valid until the consumer releases takenBlock
  Block takenBlock;
  int takenOff;
  int takenLen;

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
   * Queues a chunk, waiting while the pipe is full.
   *
   * @return false if the pipe is closed or its write side is (the reference was released)
   */
  boolean put(Block b, int off, int len) throws InterruptedException {
    lock.lock();
    try {
      while (!closed && !writeClosed && (count == maxChunks || bytes >= capacity)) {
        changed.await();
      }
      if (closed || writeClosed) {
        b.release();
        return false;
      }
      enqueueLocked(b, off, len);
      return true;
    } catch (InterruptedException e) {
      b.release();
      throw e;
    } finally {
      lock.unlock();
    }
  }

  /** Appends a chunk (lock held, room checked) and wakes the consumer. */
  private void enqueueLocked(Block b, int off, int len) {
    int i = (head + count) % maxChunks;
    blocks[i] = b;
    offs[i] = off;
    lens[i] = len;
    count++;
    bytes += len;
    changed.signalAll();
  }

  /**
   * Queues a chunk if it fits now (no more than {@code capacity} bytes queued afterwards), never
   * waiting.
   *
   * @return false if it does not fit or the pipe is closed (the reference was released)
   */
  boolean offer(Block b, int off, int len) {
    lock.lock();
    try {
      if (closed || writeClosed || count == maxChunks || bytes + len > capacity) {
        b.release();
        return false;
      }
      enqueueLocked(b, off, len);
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Takes the next chunk into {@link #takenBlock}/{@link #takenOff}/{@link #takenLen}; the caller
   * owns that reference and releases it.
   *
   * @return false at end of stream (write side closed and nothing queued)
   * @throws AsynchronousCloseException if the pipe was closed
   */
  boolean take() throws InterruptedException, AsynchronousCloseException {
    lock.lock();
    try {
      while (!closed && count == 0 && !writeClosed) {
        changed.await();
      }
      if (closed) {
        throw new AsynchronousCloseException();
      }
      if (count == 0) {
        return false;
      }
      takenBlock = blocks[head];
      takenOff = offs[head];
      takenLen = lens[head];
      blocks[head] = null;
      head = (head + 1) % maxChunks;
      count--;
      bytes -= takenLen;
      changed.signalAll();
      return true;
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

  /** Closes: queued chunks are released, waiters wake with an exception or false. */
  void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      releaseQueued();
    } finally {
      lock.unlock();
    }
  }

  /** Releases every queued chunk and stays open (a sink's burst that could not be given whole). */
  void discardAll() {
    lock.lock();
    try {
      releaseQueued();
    } finally {
      lock.unlock();
    }
  }

  private void releaseQueued() {
    while (count > 0) {
      blocks[head].release();
      blocks[head] = null;
      head = (head + 1) % maxChunks;
      count--;
    }
    bytes = 0;
    changed.signalAll();
  }

  boolean closed() {
    lock.lock();
    try {
      return closed;
    } finally {
      lock.unlock();
    }
  }
}
