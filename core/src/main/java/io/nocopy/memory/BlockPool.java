package io.nocopy.memory;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A bounded, lock-free pool of {@link Block}s of one {@link Tier}.
 *
 * <h2>Layout</h2>
 *
 * Blocks are numbered {@code 0 .. capacity-1} and carved from a few large slabs of native memory
 * (about 2 MiB each, or one block for tiers above that), never one allocation per block. Slabs
 * are created on demand when the free list runs dry ({@link #fill()} creates them all up front, as
 * iobuf's Fill does) and given back to the OS by {@link #trim()} when all their blocks are idle. At
 * most {@code capacity} blocks ever exist.
 *
 * <h2>Algorithm</h2>
 *
 * Free blocks are kept as indices in two places:
 *
 * <ol>
 *   <li><b>Stripes</b>: a small array of slots per stripe (up to 4), each stripe on its own pair
 *       of cache lines, chosen by the calling thread's id ({@code threadId & (stripes-1)}, so
 *       consecutive threads land on distinct stripes; no {@code ThreadLocal}, so virtual threads
 *       are first-class). Release puts the index into an empty slot of its stripe by CAS
 *       (EMPTY&rarr;index); acquire takes one by {@code getAndSet(EMPTY)}. A slot holds an index or
 *       EMPTY and nothing else, so there is no ABA to guard against: whoever swaps a non-EMPTY
 *       value out owns it. Threads on different stripes touch disjoint cache lines.
 *   <li><b>The shared queue</b>: an {@link IndexQueue} (Vyukov's bounded MPMC ring, ABA-safe
 *       through per-cell sequence numbers) big enough for every index, so an offer never fails.
 *       Used when the stripe is full on release or empty on acquire, and always while a thread is
 *       waiting so that waiters find released blocks at once.
 * </ol>
 *
 * Acquire order: own stripe, shared queue, a new slab, every other stripe. Only when all of them
 * come up empty does {@link #tryAcquire()} return null, so blocks parked in an idle thread's stripe
 * are never lost to others.
 *
 * <h2>Memory ordering</h2>
 *
 * An owner's writes to a block happen before the next owner's reads: the release path ends with a
 * CAS of the reference count and a CAS (stripe) or release store (queue) of the index; the acquire
 * path starts with a {@code getAndSet} (stripe) or acquire load (queue) of the index. The new
 * owner's reference count is published with a release store. Release is wait-free on the stripe
 * path and lock-free on the queue path (in practice one CAS: the queue never fills).
 *
 * <h2>Waiting</h2>
 *
 * {@link #acquire(Duration)} spins briefly, then yields, then parks with a capped, growing timeout.
 * A release that sees waiters unparks the longest waiting thread. Parking works from virtual
 * threads without pinning a carrier.
 *
 * <p>Thread safety: every method may be called from any thread.
 *
 * <p>One file: the stripes, the slab growth, the waiting and the ownership checks all act on the
 * same few fields (the slabs, the stripes' index queues, the waiter count) whose memory ordering
 * is described once above; split up, that ordering would have to be argued across classes. The
 * queue algorithm itself lives in {@link IndexQueue}; about a third of the file is Javadoc.
 */
public final class BlockPool implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(BlockPool.class.getName());
  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(int[].class);
  private static final VarHandle SLAB_STATE = MethodHandles.arrayElementVarHandle(byte[].class);
  private static final int EMPTY = -1;
  private static final int STRIPE_STRIDE = 32; // ints: 128 bytes, two cache lines per stripe
  private static final int MAX_SLOTS_PER_STRIPE = 4;
  private static final long SLAB_TARGET_BYTES = 2L << 20;
  private static final byte ABSENT = 0;
  private static final byte CREATING = 1;
  private static final byte PRESENT = 2;
  private static final int SPINS = 64;
  private static final int YIELDS = 8;
  private static final long MIN_PARK_NANOS = 10_000;
  private static final long MAX_PARK_NANOS = 1_000_000;

  /** System property that turns on leak detection: where each block was acquired is recorded. */
  public static final String LEAK_DETECTION_PROPERTY = "io.nocopy.leakDetection";

  private static final boolean LEAK_DETECTION = Boolean.getBoolean(LEAK_DETECTION_PROPERTY);

  private final Tier tier;
  private final int capacity;
  private final long stride;
  private final long alignment;
  private final int blocksPerSlab;
  private final ByteBudget budget;
  private final Block[] blocks;
  private final IndexQueue shared;
  private final int[] stripes;
  private final int stripeMask;
  private final int slotsPerStripe;
  private final byte[] slabState;
  private final Arena[] slabArenas;
  private final AtomicInteger absentSlabs;
  private final AtomicInteger created = new AtomicInteger();
  private final AtomicInteger highWater = new AtomicInteger();
  private final AtomicLong waits = new AtomicLong();
  private final AtomicLong exhaustions = new AtomicLong();
  private final AtomicInteger waiterCount = new AtomicInteger();
  private final ConcurrentLinkedQueue<Thread> waiters = new ConcurrentLinkedQueue<>();
  private final Object adminLock = new Object(); // trim, fill and close; never on the hot path
  private volatile boolean closed;
  private int slowAcquires; // racy on purpose: only spaces out high-water samples

  /**
   * Creates a pool of at most {@code capacity} blocks of {@code tier}, with no memory allocated
   * until the first acquire (call {@link #fill()} to allocate everything up front).
   *
   * @param tier the block size
   * @param capacity the maximum number of blocks that will ever exist, at least 1
   * @return the pool; close it to free its memory
   * @throws IllegalArgumentException if {@code capacity < 1}, or {@code tier} is null, or the pool
   *     would exceed 2^40 bytes
   */
  public static BlockPool create(Tier tier, int capacity) {
    return new BlockPool(tier, capacity, ByteBudget.UNLIMITED);
  }

  BlockPool(Tier tier, int capacity, ByteBudget budget) {
    if (tier == null) {
      throw new IllegalArgumentException("tier is null");
    }
    if (capacity < 1) {
      throw new IllegalArgumentException("pool capacity must be at least 1, got " + capacity);
    }
    if (capacity > (1 << 30)) {
      throw new IllegalArgumentException("pool capacity " + capacity + " is above 2^30");
    }
    this.tier = tier;
    this.capacity = capacity;
    this.alignment = Memory.alignmentFor(tier);
    this.stride = Math.max(tier.size(), alignment);
    if ((double) stride * capacity > (double) (1L << 40)) {
      throw new IllegalArgumentException(
          "pool of " + capacity + " x " + Tier.format(tier.size()) + " exceeds 1 TiB");
    }
    this.budget = budget;
    this.blocksPerSlab = (int) Math.max(1, Math.min(capacity, SLAB_TARGET_BYTES / stride));
    int slabs = (capacity + blocksPerSlab - 1) / blocksPerSlab;
    this.slabState = new byte[slabs];
    this.slabArenas = new Arena[slabs];
    this.absentSlabs = new AtomicInteger(slabs);
    this.blocks = new Block[capacity];
    this.shared = new IndexQueue(capacity);
    int cpus = Runtime.getRuntime().availableProcessors();
    int stripeCount = Integer.highestOneBit(Math.max(2, Math.min(64, cpus * 4)));
    // Small pools keep every block in the shared queue: striping them would only hide blocks.
    int slots = Math.min(MAX_SLOTS_PER_STRIPE, capacity / (4 * stripeCount));
    this.slotsPerStripe = slots;
    this.stripeMask = slots == 0 ? 0 : stripeCount - 1;
    // One stride of padding before the first stripe and after the last: the array header (read by
    // every bounds check) and neighbouring heap objects must not share a line with a stripe.
    this.stripes = new int[((slots == 0 ? 1 : stripeCount) + 2) * STRIPE_STRIDE];
    java.util.Arrays.fill(stripes, EMPTY);
  }

  /**
   * The tier of every block in this pool.
   *
   * @return the tier
   */
  public Tier tier() {
    return tier;
  }

  /**
   * The maximum number of blocks this pool will ever hold.
   *
   * @return the capacity
   */
  public int capacity() {
    return capacity;
  }

  /**
   * How many more blocks could be acquired now without waiting: the capacity minus the blocks in
   * use (blocks not yet carved from a slab count as available). A snapshot.
   *
   * @return the number of available blocks
   */
  public int available() {
    return capacity - inUse();
  }

  /**
   * Takes a free block without waiting.
   *
   * @return a block with reference count 1, owned by the caller; null if every block is in use
   * @throws IllegalStateException if the pool is closed
   */
  public Block tryAcquire() {
    if (closed) {
      throw closedException();
    }
    int idx = takeFromStripe(stripeBase());
    if (idx == EMPTY) {
      idx = takeSlow();
      if (idx == EMPTY) {
        return null;
      }
    }
    return handOut(idx);
  }

  /**
   * Takes a free block, waiting up to {@code timeout} for one to be released (spinning briefly,
   * then yielding, then parking with a growing, capped sleep).
   *
   * @param timeout the longest time to wait; zero or negative means do not wait
   * @return a block with reference count 1, owned by the caller
   * @throws PoolExhaustedException if no block became free in time (names tier, capacity, blocks in
   *     use and the time waited)
   * @throws InterruptedException if the thread was interrupted while waiting
   * @throws IllegalStateException if the pool is closed
   */
  public Block acquire(Duration timeout) throws PoolExhaustedException, InterruptedException {
    Block b = tryAcquire();
    if (b != null) {
      return b;
    }
    return acquireSlow(timeout.toNanos(), null);
  }

  /**
   * Returns a block to this pool: the same as {@link Block#release()} but checks that the block
   * belongs here.
   *
   * @param block a block of this pool, whose reference the caller gives up
   * @return true if it was the last reference
   * @throws IllegalArgumentException if the block belongs to another pool
   * @throws IllegalStateException if the block was already released (double release)
   */
  public boolean release(Block block) {
    if (block.pool != this) {
      throw new IllegalArgumentException(
          block + " belongs to another pool (" + block.pool.tier() + ", not this " + tier + " pool)");
    }
    return block.release();
  }

  /**
   * Allocates every slab now, so that no acquire ever pays for allocation (iobuf's Fill).
   *
   * @return this pool
   * @throws IllegalStateException if the pool is closed, or the allocator's byte cap does not
   *     allow all slabs
   */
  public BlockPool fill() {
    synchronized (adminLock) {
      if (closed) {
        throw closedException();
      }
      for (int s = 0; s < slabState.length; s++) {
        if (SLAB_STATE.compareAndSet(slabState, s, ABSENT, CREATING)) {
          int first = createSlab(s);
          if (first == EMPTY) {
            throw new IllegalStateException(
                "cannot fill " + tier + " pool: byte cap " + Tier.format(budget.maxBytes()) + " reached");
          }
          offerShared(first);
        }
      }
    }
    return this;
  }

  /**
   * Gives back to the OS every slab whose blocks are all idle. Blocks are recreated on demand
   * later. While a trim runs, concurrent {@link #tryAcquire()} calls may briefly see the pool
   * empty; {@link #acquire(Duration)} rides over it.
   *
   * @return the number of bytes freed
   */
  public long trim() {
    synchronized (adminLock) {
      if (closed) {
        return 0;
      }
      int[] drained = new int[capacity];
      int n = 0;
      for (int idx; (idx = shared.poll()) != EMPTY; ) {
        drained[n++] = idx;
      }
      for (int i = 0; i < stripes.length; i++) {
        if ((int) SLOT.getVolatile(stripes, i) != EMPTY) {
          int idx = (int) SLOT.getAndSet(stripes, i, EMPTY);
          if (idx != EMPTY) {
            drained[n++] = idx;
          }
        }
      }
      int[] idlePerSlab = new int[slabState.length];
      for (int i = 0; i < n; i++) {
        idlePerSlab[drained[i] / blocksPerSlab]++;
      }
      long freed = 0;
      boolean[] freedSlab = new boolean[slabState.length];
      for (int s = 0; s < slabState.length; s++) {
        if ((byte) SLAB_STATE.getVolatile(slabState, s) == PRESENT && idlePerSlab[s] == slabSize(s)) {
          freedSlab[s] = true;
          freed += freeSlab(s);
        }
      }
      for (int i = 0; i < n; i++) {
        if (!freedSlab[drained[i] / blocksPerSlab]) {
          offerShared(drained[i]);
        }
      }
      return freed;
    }
  }

  /**
   * A snapshot of this pool's counters.
   *
   * @return capacity, blocks created and in use, high-water mark, waits and exhaustion failures
   */
  public PoolStats stats() {
    int inUse = inUse();
    noteHighWater(inUse);
    return new PoolStats(
        tier, capacity, created.get(), inUse, highWater.get(), waits.get(), exhaustions.get());
  }

  /**
   * Closes the pool and frees its memory. Blocks still in use are reported through {@code
   * System.Logger} (with the place each was acquired when leak detection is on, see {@link
   * #LEAK_DETECTION_PROPERTY}) and as JFR {@code io.nocopy.BlockLeak} events; their memory is freed
   * too, so any later access to it fails with {@link IllegalStateException} instead of touching
   * freed memory. Releasing such a block later is harmless. Idempotent.
   */
  @Override
  public void close() {
    List<String> leaks;
    synchronized (adminLock) {
      if (closed) {
        return;
      }
      closed = true;
      leaks = leakReport();
      for (int s = 0; s < slabState.length; s++) {
        if ((byte) SLAB_STATE.getVolatile(slabState, s) == PRESENT) {
          freeSlab(s);
        }
      }
    }
    Thread t;
    while ((t = waiters.poll()) != null) {
      LockSupport.unpark(t);
    }
    if (!leaks.isEmpty()) {
      LOG.log(
          System.Logger.Level.WARNING,
          "{0} pool closed with {1} block(s) still in use:\n{2}",
          tier,
          leaks.size(),
          String.join("\n", leaks));
    }
  }

  /**
   * Whether {@link #close()} has been called.
   *
   * @return true once closed
   */
  public boolean isClosed() {
    return closed;
  }

  @Override
  public String toString() {
    return "BlockPool[" + tier + " " + Tier.format(tier.size()) + ", capacity=" + capacity
        + ", inUse=" + inUse() + "]";
  }

  // --- hot path -----------------------------------------------------------------------------

  private int stripeBase() {
    return (((int) Thread.currentThread().threadId() & stripeMask) + 1) * STRIPE_STRIDE;
  }

  private int takeFromStripe(int base) {
    for (int k = 0; k < slotsPerStripe; k++) {
      if ((int) SLOT.getOpaque(stripes, base + k) != EMPTY) {
        int idx = (int) SLOT.getAndSet(stripes, base + k, EMPTY);
        if (idx != EMPTY) {
          return idx;
        }
      }
    }
    return EMPTY;
  }

  private Block handOut(int idx) {
    Block b = blocks[idx];
    b.onAcquire();
    if (LEAK_DETECTION) {
      b.acquiredAt = new Throwable("block " + tier + " #" + idx + " acquired here");
    }
    return b;
  }

  /** The last reference to {@code b} was released. */
  void recycle(Block b) {
    if (closed) {
      return; // memory already freed with the pool
    }
    if (LEAK_DETECTION) {
      b.acquiredAt = null;
    }
    int idx = b.index;
    if (waiterCount.get() == 0) {
      int base = stripeBase();
      for (int k = 0; k < slotsPerStripe; k++) {
        if ((int) SLOT.getOpaque(stripes, base + k) == EMPTY
            && SLOT.compareAndSet(stripes, base + k, EMPTY, idx)) {
          return;
        }
      }
      offerShared(idx);
    } else {
      offerShared(idx);
      Thread t = waiters.peek();
      if (t != null) {
        LockSupport.unpark(t);
      }
    }
  }

  private void offerShared(int idx) {
    if (!shared.offer(idx)) {
      // The queue has a cell for every block, so this means a block was returned twice.
      throw new IllegalStateException("free list of " + tier + " pool overflowed at block #" + idx);
    }
  }

  // --- slow path ----------------------------------------------------------------------------

  private int takeSlow() {
    int idx = shared.poll();
    if (idx != EMPTY) {
      // Sample the high-water mark on every 32nd shared-queue acquire only: the count reads both
      // queue counters, which bursts would pay on every block. Growth and stats() sample too.
      if ((++slowAcquires & 31) == 0) {
        int upper = created.get() - shared.size();
        if (upper > highWater.get()) {
          noteHighWater(inUse());
        }
      }
      return idx;
    }
    idx = grow();
    if (idx != EMPTY) {
      noteHighWater(inUse() + 1);
      return idx;
    }
    for (int s = 0; s <= stripeMask && slotsPerStripe > 0; s++) {
      idx = takeFromStripe((s + 1) * STRIPE_STRIDE);
      if (idx != EMPTY) {
        return idx;
      }
    }
    return shared.poll();
  }

  private int grow() {
    if (absentSlabs.get() == 0) {
      return EMPTY;
    }
    for (int s = 0; s < slabState.length; s++) {
      if ((byte) SLAB_STATE.getOpaque(slabState, s) == ABSENT
          && SLAB_STATE.compareAndSet(slabState, s, ABSENT, CREATING)) {
        int idx = createSlab(s);
        if (idx != EMPTY || closed) {
          return idx;
        }
        return EMPTY; // byte cap reached: other slabs would not fit either (same size or smaller)
      }
    }
    return EMPTY;
  }

  private int slabSize(int s) {
    return Math.min(blocksPerSlab, capacity - s * blocksPerSlab);
  }

  /** Creates slab {@code s} (state CREATING, owned by the caller); returns one index, offers the rest. */
  private int createSlab(int s) {
    int n = slabSize(s);
    long bytes = n * stride;
    if (!budget.tryReserve(bytes)) {
      SLAB_STATE.setVolatile(slabState, s, ABSENT);
      return EMPTY;
    }
    Arena arena;
    MemorySegment slab;
    try {
      arena = Arena.ofShared();
      slab = arena.allocate(bytes, alignment);
    } catch (RuntimeException | OutOfMemoryError e) {
      budget.release(bytes);
      SLAB_STATE.setVolatile(slabState, s, ABSENT);
      throw e;
    }
    slabArenas[s] = arena;
    int first = s * blocksPerSlab;
    for (int i = 0; i < n; i++) {
      MemorySegment seg = slab.asSlice(i * stride, tier.size());
      Block b = blocks[first + i];
      if (b == null) {
        blocks[first + i] = new Block(this, first + i, seg);
      } else {
        b.remap(seg);
      }
    }
    absentSlabs.decrementAndGet();
    created.addAndGet(n);
    SLAB_STATE.setVolatile(slabState, s, PRESENT);
    for (int i = 1; i < n; i++) {
      offerShared(first + i);
    }
    return first;
  }

  /** Frees slab {@code s}, whose blocks are all idle and out of every free list (admin lock held). */
  private long freeSlab(int s) {
    int n = slabSize(s);
    long bytes = n * stride;
    SLAB_STATE.setVolatile(slabState, s, CREATING);
    created.addAndGet(-n);
    try {
      slabArenas[s].close();
    } catch (IllegalStateException e) {
      // A leaked block's memory is in use by a native call or channel I/O right now; the arena
      // stays open (and its bytes are lost until the process ends) rather than crashing anything.
      LOG.log(System.Logger.Level.WARNING, "could not free a " + tier + " slab: " + e.getMessage());
    }
    slabArenas[s] = null;
    budget.release(bytes);
    if (!closed) {
      absentSlabs.incrementAndGet();
      SLAB_STATE.setVolatile(slabState, s, ABSENT);
    }
    return bytes;
  }

  Block acquireSlow(long timeoutNanos, Allocator owner) throws PoolExhaustedException, InterruptedException {
    long start = System.nanoTime();
    waits.incrementAndGet();
    PoolEvents.ExhaustionWait event = new PoolEvents.ExhaustionWait();
    event.begin();
    Thread me = Thread.currentThread();
    boolean registered = false;
    long park = MIN_PARK_NANOS;
    Block b = null;
    try {
      for (int round = 0; ; round++) {
        if (Thread.interrupted()) {
          throw new InterruptedException("interrupted while waiting for a " + tier + " block");
        }
        b = tryAcquire();
        if (b != null) {
          return b;
        }
        long waited = System.nanoTime() - start;
        if (waited >= timeoutNanos) {
          exhaustions.incrementAndGet();
          throw exhausted(waited, owner);
        }
        if (round < SPINS) {
          Thread.onSpinWait();
        } else if (round < SPINS + YIELDS) {
          Thread.yield();
        } else {
          if (!registered) {
            waiterCount.incrementAndGet();
            waiters.add(me);
            registered = true;
            continue; // re-check after registering: a release may have happened in between
          }
          LockSupport.parkNanos(this, Math.min(park, timeoutNanos - waited));
          park = Math.min(park * 2, MAX_PARK_NANOS);
        }
      }
    } finally {
      if (registered) {
        waiters.remove(me);
        waiterCount.decrementAndGet();
      }
      event.end();
      if (event.shouldCommit()) {
        event.tier = tier.name();
        event.capacity = capacity;
        event.succeeded = b != null;
        event.waitedNanos = System.nanoTime() - start;
        event.commit();
      }
    }
  }

  PoolExhaustedException exhausted(long waitedNanos, Allocator owner) {
    StringBuilder m = new StringBuilder();
    m.append(tier).append(" pool (").append(Tier.format(tier.size())).append(" blocks) exhausted: ")
        .append(inUse()).append(" of capacity ").append(capacity).append(" in use");
    if (budget.limited() && created.get() < capacity) {
      m.append("; allocator byte cap ").append(Tier.format(budget.maxBytes())).append(" reached (")
          .append(Tier.format(budget.reserved())).append(" reserved)");
    }
    m.append("; waited ").append(waitedNanos / 1_000_000).append(" ms");
    return new PoolExhaustedException(tier, m.toString());
  }

  int inUse() {
    int free = shared.size();
    if (slotsPerStripe > 0) {
      for (int s = 0; s <= stripeMask; s++) {
        for (int k = 0; k < slotsPerStripe; k++) {
          if ((int) SLOT.getOpaque(stripes, (s + 1) * STRIPE_STRIDE + k) != EMPTY) {
            free++;
          }
        }
      }
    }
    return Math.max(0, created.get() - free);
  }

  private void noteHighWater(int inUse) {
    while (true) {
      int h = highWater.get();
      if (inUse <= h || highWater.compareAndSet(h, inUse)) {
        return;
      }
    }
  }

  /** Blocks still referenced, with their acquisition sites when leak detection is on. */
  List<String> leakReport() {
    List<String> out = new ArrayList<>();
    for (Block b : blocks) {
      if (b != null && b.refCount() > 0) {
        String site = "(set -D" + LEAK_DETECTION_PROPERTY + "=true to record where)";
        Throwable at = b.acquiredAt;
        if (at != null) {
          StringWriter w = new StringWriter();
          at.printStackTrace(new PrintWriter(w));
          site = w.toString();
        }
        out.add("  " + b + " " + site);
        PoolEvents.Leak leak = new PoolEvents.Leak();
        if (leak.isEnabled()) {
          leak.tier = tier.name();
          leak.index = b.index;
          leak.acquiredAt = site;
          leak.commit();
        }
      }
    }
    return out;
  }

  private IllegalStateException closedException() {
    return new IllegalStateException(tier + " pool is closed");
  }
}
