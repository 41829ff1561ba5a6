package io.nocopy.buffer;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * Direct {@link ByteBuffer} views of block segments, private to one single-threaded owner (a
 * {@link BufWriter}), so gathering writes allocate no buffer once the blocks in circulation have
 * been seen.
 *
 * <p>Direct-mapped by the identity of the segment: a block's {@code segment()} is the same object
 * for as long as its memory is mapped, and a different one after the pool trims and regrows it, so
 * a stale view is never returned for new memory. A miss creates one view and replaces the slot; the
 * cache never holds more than {@value #SIZE} views.
 *
 * <p>One gathering write may need two views of the same block (two chunks of one block, say the
 * writer's own block before and after a slice appended by reference). Calls are grouped by {@link
 * #begin()}: within a group a cached view is handed out once, and a second request for the same
 * segment gets a fresh, uncached view.
 */
final class ViewCache {
  static final int SIZE = 64;

  private final MemorySegment[] keys = new MemorySegment[SIZE];
  private final ByteBuffer[] views = new ByteBuffer[SIZE];
  private final int[] usedIn = new int[SIZE];
  private int group = 1;

  /** Starts a group of views that will be used together (one gathering write). */
  void begin() {
    group++;
    if (group == 0) {
      java.util.Arrays.fill(usedIn, 0);
      group = 1;
    }
  }

  /** A view of {@code seg} with position {@code offset} and limit {@code offset + length}. */
  ByteBuffer view(MemorySegment seg, int offset, int length) {
    int slot = System.identityHashCode(seg) & (SIZE - 1);
    ByteBuffer b;
    if (keys[slot] == seg) {
      if (usedIn[slot] == group) {
        b = seg.asByteBuffer(); // same block twice in one write: needs its own position
        return b.limit(offset + length).position(offset);
      }
      b = views[slot];
    } else {
      b = seg.asByteBuffer();
      keys[slot] = seg;
      views[slot] = b;
    }
    usedIn[slot] = group;
    b.limit(offset + length).position(offset);
    return b;
  }

  void clear() {
    java.util.Arrays.fill(keys, null);
    java.util.Arrays.fill(views, null);
  }
}
