package io.nocopy.bench.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.jctools.queues.MpmcArrayQueue;

/**
 * The hand-written pool many projects use: a concurrent queue prefilled with {@code capacity}
 * direct {@link ByteBuffer}s, {@code poll()} to acquire, {@code clear()} and {@code offer()} to
 * release. The buffers are carved from one 64-byte-aligned native slab, as nocopy's are, so
 * neither side pays for scattered allocations.
 *
 * <p>It has none of nocopy's checks: a double release or a foreign buffer goes into the queue
 * unnoticed. That is the price difference the comparison shows.
 *
 * <p>Ownership: the slab belongs to this object and is freed by {@link #close()}; each acquired
 * buffer is the caller's until released.
 */
final class QueuePool extends BufferPool {
  private final Queue<ByteBuffer> queue;
  private final Arena arena;
  private final int capacity;

  private QueuePool(String name, int size, int capacity, Queue<ByteBuffer> queue) {
    super(name, size);
    this.queue = queue;
    this.capacity = capacity;
    this.arena = Arena.ofShared();
    MemorySegment slab = arena.allocate((long) size * capacity, 64);
    for (int i = 0; i < capacity; i++) {
      if (!queue.offer(slab.asSlice((long) i * size, size).asByteBuffer())) {
        throw new IllegalStateException(name + " queue refused buffer " + i + " of " + capacity);
      }
    }
  }

  static QueuePool jctools(String name, int size, int capacity) {
    return new QueuePool(name, size, capacity, new MpmcArrayQueue<>(capacity));
  }

  static QueuePool concurrentLinked(String name, int size, int capacity) {
    return new QueuePool(name, size, capacity, new ConcurrentLinkedQueue<>());
  }

  static QueuePool arrayBlocking(String name, int size, int capacity) {
    return new QueuePool(name, size, capacity, new ArrayBlockingQueue<>(capacity));
  }

  @Override
  public Object acquire() {
    ByteBuffer b = queue.poll();
    if (b == null) {
      throw empty(name(), requestedBytes());
    }
    return b;
  }

  @Override
  public void release(Object buffer) {
    ByteBuffer b = (ByteBuffer) buffer;
    b.clear();
    if (!queue.offer(b)) {
      throw new IllegalStateException(name() + " queue is full: a buffer was released twice");
    }
  }

  @Override
  public long inUse() {
    return capacity - queue.size();
  }

  @Override
  public long bufferBytes() {
    return requestedBytes();
  }

  @Override
  public void close() {
    queue.clear();
    arena.close();
  }
}
