package io.nocopy.drpc;

import io.nocopy.buffer.BufWriter;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.util.List;

/** Slice helpers for the transport. */
final class Slices {
  private Slices() {}

  /**
   * Joins slices into one without copying their bytes (the blocks are shared by reference).
   *
   * @param allocator for the joining writer's own (unused) block bookkeeping
   * @param parts the parts, closed by this call
   * @return one slice owned by the caller
   */
  static Slice concat(Allocator allocator, List<Slice> parts) {
    try (BufWriter w = BufWriter.of(allocator)) {
      for (Slice p : parts) {
        w.write(p);
      }
      return w.toSlice();
    } finally {
      for (Slice p : parts) {
        p.close();
      }
    }
  }
}
