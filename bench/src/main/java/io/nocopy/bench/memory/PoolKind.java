package io.nocopy.bench.memory;

/**
 * Every pool implementation the memory benchmarks compare, by the name their {@code impl}
 * parameter uses. nocopy first; its two entries are the baseline of every ratio.
 */
public enum PoolKind {
  /** nocopy {@code BlockPool.tryAcquire()} / {@code BlockPool.release(block)}. */
  NOCOPY_POOL("nocopy-pool"),
  /** nocopy {@code Allocator.allocate(size)} / {@code Block.release()}. */
  NOCOPY_ALLOCATOR("nocopy-allocator"),
  /** Netty {@code PooledByteBufAllocator}, direct buffers. */
  NETTY_POOLED("netty-pooled"),
  /** Netty {@code AdaptiveByteBufAllocator}, direct buffers. */
  NETTY_ADAPTIVE("netty-adaptive"),
  /** JCTools {@code MpmcArrayQueue} of direct ByteBuffers. */
  JCTOOLS_MPMC("jctools-mpmc"),
  /** {@code ConcurrentLinkedQueue} of direct ByteBuffers. */
  CONCURRENT_LINKED("clq"),
  /** {@code ArrayBlockingQueue} of direct ByteBuffers. */
  ARRAY_BLOCKING("abq"),
  /** {@code Arena.ofConfined().allocate(size)} per acquire, {@code close()} per release. */
  ARENA_PER_OP("arena-confined");

  private final String label;

  PoolKind(String label) {
    this.label = label;
  }

  /**
   * The name used in the {@code impl} parameter and in result tables.
   *
   * @return the label
   */
  public String label() {
    return label;
  }

  /**
   * Whether this is one of nocopy's own entries.
   *
   * @return true for the nocopy entries
   */
  public boolean isNocopy() {
    return this == NOCOPY_POOL || this == NOCOPY_ALLOCATOR;
  }

  /**
   * The kind with this label.
   *
   * @param label the {@link #label()} of one kind
   * @return the kind
   * @throws IllegalArgumentException for an unknown label
   */
  public static PoolKind of(String label) {
    for (PoolKind k : values()) {
      if (k.label.equals(label)) {
        return k;
      }
    }
    StringBuilder known = new StringBuilder();
    for (PoolKind k : values()) {
      known.append(known.isEmpty() ? "" : ", ").append(k.label);
    }
    throw new IllegalArgumentException("unknown pool implementation '" + label + "'; known: " + known);
  }

  /**
   * Creates a prefilled pool of this kind.
   *
   * @param size bytes per buffer requested
   * @param capacity buffers the bounded pools hold (and the unbounded ones warm up with)
   * @return a new pool, owned by the caller, who closes it
   */
  public BufferPool create(int size, int capacity) {
    return switch (this) {
      case NOCOPY_POOL -> new NocopyBlockPool(label, size, capacity);
      case NOCOPY_ALLOCATOR -> new NocopyAllocator(label, size, capacity);
      case NETTY_POOLED -> NettyPool.pooled(label, size, capacity);
      case NETTY_ADAPTIVE -> NettyPool.adaptive(label, size, capacity);
      case JCTOOLS_MPMC -> QueuePool.jctools(label, size, capacity);
      case CONCURRENT_LINKED -> QueuePool.concurrentLinked(label, size, capacity);
      case ARRAY_BLOCKING -> QueuePool.arrayBlocking(label, size, capacity);
      case ARENA_PER_OP -> new ArenaPerOperation(label, size);
    };
  }
}
