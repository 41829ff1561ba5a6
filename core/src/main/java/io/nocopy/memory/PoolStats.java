package io.nocopy.memory;

/**
 * A snapshot of one pool's counters. Values are read without stopping the pool, so under load they
 * may be a few operations apart from each other.
 *
 * @param tier the pool's tier
 * @param capacity the maximum number of blocks
 * @param created blocks currently carved from slabs (the rest cost no memory)
 * @param inUse blocks currently owned by someone
 * @param highWater the most blocks seen in use at once; sampled when slabs grow, when {@code
 *     stats()} is called and on every 32nd acquire from the shared free list, so it is exact when
 *     the pool grew to its peak and may otherwise trail a short-lived peak by a few blocks
 * @param waits acquires that found the pool empty and had to wait
 * @param exhaustions acquires that gave up with {@link PoolExhaustedException}
 */
public record PoolStats(
    Tier tier, int capacity, int created, int inUse, int highWater, long waits, long exhaustions) {}
