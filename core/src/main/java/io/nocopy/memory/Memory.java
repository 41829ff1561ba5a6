package io.nocopy.memory;

import io.nocopy.internal.linux.Sysconf;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * Aligned allocation of native memory. Alignment matters twice here: page-aligned buffers are what
 * the kernel can move or pin without bouncing (splice, O_DIRECT, io_uring), and cache-line-aligned
 * buffers keep two threads' small blocks off the same line (no false sharing).
 *
 * <p>The segments returned belong to the {@link Arena} passed in and live exactly as long as it.
 */
public final class Memory {
  private static final long PAGE_SIZE;
  private static final int CACHE_LINE_SIZE;

  static {
    long page = Sysconf.pageSizeOrMinusOne();
    PAGE_SIZE = page > 0 ? page : 4096;
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    CACHE_LINE_SIZE = arch.contains("aarch64") || arch.contains("arm64") ? 128 : 64;
  }

  private Memory() {}

  /**
   * The operating system's page size, read once from the OS ({@code sysconf(_SC_PAGESIZE)}); 4096
   * where it cannot be read.
   *
   * @return the page size in bytes, a power of two
   */
  public static long pageSize() {
    return PAGE_SIZE;
  }

  /**
   * The cache line size assumed for alignment and padding: 128 B on aarch64 (where adjacent-line
   * prefetch pairs lines), 64 B elsewhere.
   *
   * @return the cache line size in bytes
   */
  public static int cacheLineSize() {
    return CACHE_LINE_SIZE;
  }

  /**
   * Allocates {@code bytes} of zeroed native memory whose address is a multiple of {@link
   * #pageSize()}.
   *
   * @param arena the arena that owns the memory; the segment is valid until it closes
   * @param bytes the size, at least 1
   * @return a page-aligned segment of exactly {@code bytes}
   * @throws IllegalArgumentException if {@code bytes < 1}
   */
  public static MemorySegment allocatePageAligned(Arena arena, long bytes) {
    return allocate(arena, bytes, PAGE_SIZE);
  }

  /**
   * Allocates {@code bytes} of zeroed native memory whose address is a multiple of {@link
   * #cacheLineSize()}.
   *
   * @param arena the arena that owns the memory; the segment is valid until it closes
   * @param bytes the size, at least 1
   * @return a cache-line-aligned segment of exactly {@code bytes}
   * @throws IllegalArgumentException if {@code bytes < 1}
   */
  public static MemorySegment allocateCacheLineAligned(Arena arena, long bytes) {
    return allocate(arena, bytes, CACHE_LINE_SIZE);
  }

  /**
   * Whether a segment's address is a multiple of {@code alignment}.
   *
   * @param segment a native segment
   * @param alignment a power of two
   * @return true if aligned
   */
  public static boolean isAligned(MemorySegment segment, long alignment) {
    return (segment.address() & (alignment - 1)) == 0;
  }

  /** The alignment blocks of a tier get: page-aligned from 4 KiB up, cache-line-aligned below. */
  static long alignmentFor(Tier tier) {
    return tier.size() >= 4096 ? PAGE_SIZE : CACHE_LINE_SIZE;
  }

  private static MemorySegment allocate(Arena arena, long bytes, long alignment) {
    if (bytes < 1) {
      throw new IllegalArgumentException("cannot allocate " + bytes + " bytes (at least 1)");
    }
    return arena.allocate(bytes, alignment);
  }
}
