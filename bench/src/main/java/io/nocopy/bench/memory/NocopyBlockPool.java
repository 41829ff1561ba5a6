package io.nocopy.bench.memory;

import io.nocopy.memory.Block;
import io.nocopy.memory.BlockPool;
import io.nocopy.memory.Tier;

/**
 * nocopy's direct path: one {@link BlockPool} of the tier that holds the requested size, filled up
 * front; {@link BlockPool#tryAcquire()} and {@link BlockPool#release(Block)}.
 *
 * <p>Ownership: the pool is this object's and closed by {@link #close()}; each acquired {@link
 * Block} is the caller's until released.
 */
final class NocopyBlockPool extends BufferPool {
  private final BlockPool pool;

  NocopyBlockPool(String name, int size, int capacity) {
    super(name, size);
    this.pool = BlockPool.create(Tier.forSize(size), capacity).fill();
  }

  @Override
  public Object acquire() {
    Block b = pool.tryAcquire();
    if (b == null) {
      throw empty(name(), requestedBytes());
    }
    return b;
  }

  @Override
  public void release(Object buffer) {
    pool.release((Block) buffer);
  }

  @Override
  public long inUse() {
    return pool.capacity() - pool.available();
  }

  @Override
  public long bufferBytes() {
    return pool.tier().size();
  }

  @Override
  public void close() {
    pool.close();
  }
}
