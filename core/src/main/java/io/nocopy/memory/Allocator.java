package io.nocopy.memory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * All twelve tiers behind one object, with one cap on the total bytes they may hold.
 *
 * <p>{@link #allocate(long)} hands out a block from the smallest tier that holds the requested
 * size. Each tier's {@link BlockPool} is created on first use with the configured capacity; its
 * slabs reserve their bytes against the allocator's byte cap before they are allocated, so the
 * native memory held by all pools together never exceeds {@link Builder#maxBytes(long)} (native
 * memory is not limited by {@code -XX:MaxDirectMemorySize}; this cap is the only limit).
 *
 * <p>When a tier is empty, {@code allocate} first gives idle slabs of other tiers back (if the byte
 * cap is what stops growth), then waits up to {@link Builder#acquireTimeout(Duration)} for a block
 * to be released, then throws {@link PoolExhaustedException} naming the limit.
 *
 * <p>Thread safety: every method may be called from any thread. Close it when done: closing frees
 * all memory and reports blocks still in use.
 */
public final class Allocator implements AutoCloseable {
  /** Default total byte cap: 1 GiB. */
  public static final long DEFAULT_MAX_BYTES = 1L << 30;

  /** Default per-tier capacity ceiling (blocks); the byte cap usually binds first. */
  public static final int DEFAULT_MAX_CAPACITY = 65_536;

  /** Default time {@link #allocate(long)} waits on an exhausted tier: 100 ms. */
  public static final Duration DEFAULT_ACQUIRE_TIMEOUT = Duration.ofMillis(100);

  private static final Tier[] TIERS = Tier.values();

  private final ByteBudget budget;
  private final int[] capacities;
  private final long acquireTimeoutNanos;
  private final AtomicReferenceArray<BlockPool> pools = new AtomicReferenceArray<>(TIERS.length);
  // The same pools, read with plain loads on the allocate path. Written once per tier after the
  // pool is published in 'pools'; a reader that still sees null takes the slow path. BlockPool's
  // fields are final, so a reference seen here is a fully constructed pool.
  private final BlockPool[] fastPools = new BlockPool[TIERS.length];
  private volatile boolean closed;

  private Allocator(Builder b) {
    this.budget = new ByteBudget(b.maxBytes);
    this.capacities = new int[TIERS.length];
    for (Tier t : TIERS) {
      Integer c = b.capacities.get(t);
      capacities[t.ordinal()] =
          c != null ? c : (int) Math.max(1, Math.min(DEFAULT_MAX_CAPACITY, b.maxBytes / t.size()));
    }
    this.acquireTimeoutNanos = b.acquireTimeout.toNanos();
  }

  /**
   * An allocator with the defaults: 1 GiB cap, per-tier capacity {@code min(65536, cap / size)},
   * 100 ms acquire timeout.
   *
   * @return a new allocator; the caller owns it and must close it
   */
  public static Allocator create() {
    return builder().build();
  }

  /**
   * A builder for an allocator with chosen limits.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A block of at least {@code minBytes}, from the smallest tier that holds it.
   *
   * @param minBytes the bytes needed, 0 .. 128 MiB
   * @return a block with reference count 1, owned by the caller, who releases it
   * @throws IllegalArgumentException if {@code minBytes} is negative or above 128 MiB
   * @throws PoolExhaustedException if the tier stayed empty for the acquire timeout, naming the
   *     limit reached (tier capacity or byte cap)
   * @throws IllegalStateException if the allocator is closed
   */
  public Block allocate(long minBytes) throws PoolExhaustedException {
    Tier tier = Tier.forSize(minBytes);
    BlockPool pool = fastPools[tier.ordinal()];
    if (pool == null) {
      pool = pool(tier);
    }
    Block b = pool.tryAcquire();
    if (b != null) {
      return b;
    }
    return allocateSlow(pool);
  }

  private Block allocateSlow(BlockPool pool) throws PoolExhaustedException {
    if (budget.limited() && pool.stats().created() < pool.capacity()) {
      trimExcept(pool.tier());
      Block b = pool.tryAcquire();
      if (b != null) {
        return b;
      }
    }
    try {
      return pool.acquireSlow(acquireTimeoutNanos, this);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PoolExhaustedException(
          pool.tier(), "interrupted while waiting for a " + pool.tier() + " block");
    }
  }

  /**
   * The pool of one tier, created on first use.
   *
   * @param tier the tier
   * @return the pool, owned by this allocator (do not close it yourself)
   * @throws IllegalStateException if the allocator is closed
   */
  public BlockPool pool(Tier tier) {
    BlockPool p = pools.get(tier.ordinal());
    if (p != null) {
      return p;
    }
    if (closed) {
      throw new IllegalStateException("allocator is closed");
    }
    BlockPool fresh = new BlockPool(tier, capacities[tier.ordinal()], budget);
    if (pools.compareAndSet(tier.ordinal(), null, fresh)) {
      if (closed) {
        fresh.close();
        throw new IllegalStateException("allocator is closed");
      }
      fastPools[tier.ordinal()] = fresh;
      return fresh;
    }
    BlockPool winner = pools.get(tier.ordinal());
    fastPools[tier.ordinal()] = winner;
    return winner;
  }

  /**
   * Gives every idle slab of every tier back to the OS.
   *
   * @return the bytes freed
   */
  public long trim() {
    return trimExcept(null);
  }

  private long trimExcept(Tier keep) {
    long freed = 0;
    for (int i = 0; i < TIERS.length; i++) {
      BlockPool p = pools.get(i);
      if (p != null && TIERS[i] != keep) {
        freed += p.trim();
      }
    }
    return freed;
  }

  /**
   * The byte cap all pools share.
   *
   * @return the cap in bytes
   */
  public long maxBytes() {
    return budget.maxBytes();
  }

  /**
   * Native bytes currently held by this allocator's slabs (in use or idle).
   *
   * @return reserved bytes
   */
  public long reservedBytes() {
    return budget.reserved();
  }

  /**
   * Blocks currently owned by someone, over all tiers. Zero once every block is released: the
   * check tests make after each scenario.
   *
   * @return the blocks in use
   */
  public long inUse() {
    long n = 0;
    for (int i = 0; i < TIERS.length; i++) {
      BlockPool p = pools.get(i);
      if (p != null) {
        n += p.inUse();
      }
    }
    return n;
  }

  /**
   * Counters of every tier that has been used.
   *
   * @return one entry per created pool, in tier order
   */
  public List<PoolStats> stats() {
    List<PoolStats> out = new ArrayList<>();
    for (int i = 0; i < TIERS.length; i++) {
      BlockPool p = pools.get(i);
      if (p != null) {
        out.add(p.stats());
      }
    }
    return out;
  }

  /**
   * Closes every pool and frees all memory, reporting blocks still in use (see {@link
   * BlockPool#close()}). Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    for (int i = 0; i < TIERS.length; i++) {
      BlockPool p = pools.get(i);
      if (p != null) {
        p.close();
      }
    }
  }

  /** Configures an {@link Allocator}. Not thread-safe; build once. */
  public static final class Builder {
    private final Map<Tier, Integer> capacities = new EnumMap<>(Tier.class);
    private long maxBytes = DEFAULT_MAX_BYTES;
    private Duration acquireTimeout = DEFAULT_ACQUIRE_TIMEOUT;

    private Builder() {}

    /**
     * Sets the maximum number of blocks of one tier.
     *
     * @param tier the tier
     * @param blocks at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code blocks < 1}
     */
    public Builder capacity(Tier tier, int blocks) {
      if (blocks < 1) {
        throw new IllegalArgumentException(tier + " capacity must be at least 1, got " + blocks);
      }
      capacities.put(tier, blocks);
      return this;
    }

    /**
     * Sets the cap on native bytes held by all pools together.
     *
     * @param bytes at least one block of the smallest tier (32 B)
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is below 32
     */
    public Builder maxBytes(long bytes) {
      if (bytes < Tier.PICO.size()) {
        throw new IllegalArgumentException(
            "byte cap " + bytes + " is below one block of the smallest tier (32 B)");
      }
      this.maxBytes = bytes;
      return this;
    }

    /**
     * Sets how long {@link Allocator#allocate(long)} waits on an exhausted tier before throwing.
     *
     * @param timeout zero or more
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder acquireTimeout(Duration timeout) {
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("acquire timeout is negative: " + timeout);
      }
      this.acquireTimeout = timeout;
      return this;
    }

    /**
     * Builds the allocator.
     *
     * @return a new allocator, owned by the caller
     * @throws IllegalArgumentException if the byte cap is below one block of a tier given an
     *     explicit capacity
     */
    public Allocator build() {
      for (Tier t : capacities.keySet()) {
        if (t.size() > maxBytes) {
          throw new IllegalArgumentException(
              "byte cap " + Tier.format(maxBytes) + " is below one " + t + " block ("
                  + Tier.format(t.size()) + ")");
        }
      }
      return new Allocator(this);
    }
  }
}
