package io.nocopy.bench.memory;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import io.nocopy.memory.PoolExhaustedException;
import io.nocopy.memory.Tier;
import java.io.UncheckedIOException;

/**
 * nocopy through its front door: {@link Allocator#allocate(long)} picks the tier for the requested
 * size, {@link Block#release()} gives the block back. The tier's pool is filled up front.
 *
 * <p>Ownership: the allocator is this object's and closed by {@link #close()}; each acquired
 * {@link Block} is the caller's until released.
 */
final class NocopyAllocator extends BufferPool {
  private final Allocator allocator;
  private final Tier tier;

  NocopyAllocator(String name, int size, int capacity) {
    super(name, size);
    this.tier = Tier.forSize(size);
    this.allocator = Allocator.builder().capacity(tier, capacity).build();
    allocator.pool(tier).fill();
  }

  @Override
  public Object acquire() {
    try {
      return allocator.allocate(requestedBytes());
    } catch (PoolExhaustedException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void release(Object buffer) {
    ((Block) buffer).release();
  }

  @Override
  public long inUse() {
    return allocator.inUse();
  }

  @Override
  public long bufferBytes() {
    return tier.size();
  }

  @Override
  public void close() {
    allocator.close();
  }
}
