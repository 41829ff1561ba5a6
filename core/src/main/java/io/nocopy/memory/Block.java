package io.nocopy.memory;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

/**
 * One pooled, aligned block of native memory of exactly {@link Tier#size()} bytes, with a
 * reference count.
 *
 * <h2>Ownership</h2>
 *
 * A block handed out by {@link BlockPool#tryAcquire()}, {@link BlockPool#acquire} or {@link
 * Allocator#allocate} has a reference count of 1, owned by the caller. {@link #retain()} adds an
 * owner (for example a second subscriber of the same bytes); every owner calls {@link #release()}
 * exactly once. When the count reaches zero the block goes back to its pool and may be handed to
 * someone else at once: no owner may touch its memory after its own release.
 *
 * <p>Misuse fails loudly instead of corrupting the pool: releasing more often than retained,
 * retaining a released block and calling {@link #segment()} after the final release throw {@link
 * IllegalStateException}. A released block's segment is still mapped memory (the pool reuses it),
 * so a view obtained earlier and kept past release is a bug these checks cannot catch.
 *
 * <p>Thread safety: {@link #retain()}, {@link #release()} and {@link #refCount()} may be called
 * from any thread; the memory itself is shared between owners without synchronization, which is
 * theirs to arrange (typically: one writer, then hand-off, then readers).
 */
public final class Block {
  private static final VarHandle REF_COUNT;

  static {
    try {
      REF_COUNT = MethodHandles.lookup().findVarHandle(Block.class, "refCount", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final BlockPool pool;
  final int index;
  private MemorySegment segment; // reassigned only while the block is idle (trim, regrow)
  private ByteBuffer buffer; // lazily created view of segment
  private volatile int refCount;
  Throwable acquiredAt; // leak detection: where the current owner acquired it

  Block(BlockPool pool, int index, MemorySegment segment) {
    this.pool = pool;
    this.index = index;
    this.segment = segment;
  }

  /**
   * The block's memory: a native segment of exactly {@code tier().size()} bytes, aligned to a
   * page (tiers of 4 KiB and more) or a cache line (smaller tiers). Valid while the caller holds a
   * reference; the same segment object is returned every time.
   *
   * @return the block's memory
   * @throws IllegalStateException if the block has been released by its last owner
   */
  public MemorySegment segment() {
    if (refCount <= 0) {
      throw released("segment()");
    }
    return segment;
  }

  /**
   * A direct {@link ByteBuffer} over the whole block, for channel I/O. It is created once per
   * block and reused by every owner, so its position and limit are scratch state: set them before
   * each use and do not rely on them after handing the block to another thread. Valid while the
   * caller holds a reference.
   *
   * @return the cached buffer view (position and limit as the last user left them)
   * @throws IllegalStateException if the block has been released by its last owner
   */
  public ByteBuffer byteBuffer() {
    if (refCount <= 0) {
      throw released("byteBuffer()");
    }
    ByteBuffer b = buffer;
    if (b == null) {
      b = segment.asByteBuffer();
      buffer = b;
    }
    return b;
  }

  /**
   * This block's tier.
   *
   * @return the tier (its size is the block's size)
   */
  public Tier tier() {
    return pool.tier();
  }

  /**
   * Adds an owner. The caller must already hold a reference; the new reference must be released
   * once, independently of the caller's own.
   *
   * @return this block
   * @throws IllegalStateException if the block was already released by its last owner
   */
  public Block retain() {
    while (true) {
      int c = refCount;
      if (c <= 0) {
        throw released("retain()");
      }
      if (c == Integer.MAX_VALUE) {
        throw new IllegalStateException("reference count overflow on " + this);
      }
      if (REF_COUNT.compareAndSet(this, c, c + 1)) {
        return this;
      }
    }
  }

  /**
   * Gives up one reference. The last release returns the block to its pool.
   *
   * @return true if this was the last reference and the block went back to its pool
   * @throws IllegalStateException if the block holds no reference any more (double release)
   */
  public boolean release() {
    while (true) {
      int c = refCount;
      if (c <= 0) {
        throw new IllegalStateException("double release of " + this);
      }
      if (REF_COUNT.compareAndSet(this, c, c - 1)) {
        if (c == 1) {
          pool.recycle(this);
          return true;
        }
        return false;
      }
    }
  }

  /**
   * The current number of references; 0 once released to the pool. A snapshot, for diagnostics and
   * tests.
   *
   * @return the reference count
   */
  public int refCount() {
    return refCount;
  }

  // --- pool side ---------------------------------------------------------------------------

  /** Called by the pool when handing the block out: the caller becomes the single owner. */
  void onAcquire() {
    REF_COUNT.setRelease(this, 1);
  }

  /** Reassigns the memory of an idle block (slab trimmed and regrown). */
  void remap(MemorySegment newSegment) {
    segment = newSegment;
    buffer = null;
  }

  MemorySegment segmentUnchecked() {
    return segment;
  }

  private IllegalStateException released(String what) {
    return new IllegalStateException(what + " on a released block: " + this);
  }

  @Override
  public String toString() {
    return "Block[" + pool.tier() + " #" + index + ", refCount=" + refCount + "]";
  }
}
