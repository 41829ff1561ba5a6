package io.nocopy.bench.memory;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * A Netty allocator handing out direct {@link ByteBuf}s: {@code directBuffer(size)} and {@code
 * release()}, the reference-counted discipline Netty users follow.
 *
 * <p>Both allocators get their best configuration: thread-local caches on for every thread (JMH's
 * workers are not Netty event-loop threads, which get them by default), leak detection off (the
 * forks run with {@code -Dio.netty.leakDetection.level=disabled}, as Netty's own microbenchmarks
 * do). The constructor allocates and releases {@code capacity} buffers so that chunks and caches
 * exist before the first measurement.
 *
 * <p>Ownership: the allocator lives as long as this object (Netty frees its arenas when they are
 * unreachable); each acquired {@link ByteBuf} is the caller's until released.
 */
final class NettyPool extends BufferPool {
  private final ByteBufAllocator alloc;

  private NettyPool(String name, int size, int capacity, ByteBufAllocator alloc) {
    super(name, size);
    this.alloc = alloc;
    ByteBuf[] warm = new ByteBuf[capacity];
    for (int i = 0; i < capacity; i++) {
      warm[i] = alloc.directBuffer(size);
    }
    for (ByteBuf b : warm) {
      b.release();
    }
  }

  static NettyPool pooled(String name, int size, int capacity) {
    PooledByteBufAllocator alloc =
        new PooledByteBufAllocator(
            true,
            PooledByteBufAllocator.defaultNumHeapArena(),
            PooledByteBufAllocator.defaultNumDirectArena(),
            PooledByteBufAllocator.defaultPageSize(),
            PooledByteBufAllocator.defaultMaxOrder(),
            PooledByteBufAllocator.defaultSmallCacheSize(),
            PooledByteBufAllocator.defaultNormalCacheSize(),
            true);
    return new NettyPool(name, size, capacity, alloc);
  }

  static NettyPool adaptive(String name, int size, int capacity) {
    return new NettyPool(name, size, capacity, new AdaptiveByteBufAllocator(true, true));
  }

  @Override
  public Object acquire() {
    return alloc.directBuffer(requestedBytes());
  }

  @Override
  public void release(Object buffer) {
    ((ByteBuf) buffer).release();
  }

  @Override
  public long inUse() {
    return -1;
  }

  @Override
  public long bufferBytes() {
    return requestedBytes();
  }

  @Override
  public void close() {
    // Netty allocators have no close; the arenas go when the allocator is unreachable.
  }
}
