package io.nocopy.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MemoryTest {
  @Test
  void pageSizeIsReadFromTheOs() throws Exception {
    long page = Memory.pageSize();
    assertEquals(1, Long.bitCount(page), "power of two");
    // Cross-check with the kernel's own view of this process's mappings.
    Path smaps = Path.of("/proc/self/smaps");
    if (Files.isReadable(smaps)) {
      String kb =
          Files.readAllLines(smaps).stream()
              .filter(l -> l.startsWith("KernelPageSize:"))
              .findFirst()
              .orElseThrow()
              .replaceAll("[^0-9]", "");
      assertEquals(Long.parseLong(kb) * 1024, page);
    }
  }

  @Test
  void cacheLineIs64Or128() {
    int line = Memory.cacheLineSize();
    assertTrue(line == 64 || line == 128, "cache line " + line);
  }

  @Test
  void allocationsAreAligned() {
    try (Arena arena = Arena.ofConfined()) {
      for (long size : new long[] {1, 7, 100, 4095, 4096, 65537}) {
        MemorySegment p = Memory.allocatePageAligned(arena, size);
        MemorySegment c = Memory.allocateCacheLineAligned(arena, size);
        assertEquals(size, p.byteSize());
        assertEquals(size, c.byteSize());
        assertTrue(Memory.isAligned(p, Memory.pageSize()), "page aligned " + p);
        assertTrue(Memory.isAligned(c, Memory.cacheLineSize()), "line aligned " + c);
      }
    }
  }

  @Test
  void rejectsNonPositiveSizes() {
    try (Arena arena = Arena.ofConfined()) {
      assertThrows(IllegalArgumentException.class, () -> Memory.allocatePageAligned(arena, 0));
      assertThrows(IllegalArgumentException.class, () -> Memory.allocateCacheLineAligned(arena, -5));
    }
  }
}
