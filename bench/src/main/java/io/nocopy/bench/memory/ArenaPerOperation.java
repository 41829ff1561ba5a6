package io.nocopy.bench.memory;

import java.lang.foreign.Arena;

/**
 * No pool at all: every acquire opens an {@link Arena#ofConfined()} and allocates the buffer in it
 * (malloc plus zeroing), every release closes the arena (free). The baseline that pooling must
 * beat.
 *
 * <p>Ownership: the acquired object is the {@link Arena}; the caller owns it, and the segment
 * allocated in it, until {@link #release(Object)} closes it. Confined: the thread that acquired
 * must release, which every benchmark here does.
 */
final class ArenaPerOperation extends BufferPool {
  ArenaPerOperation(String name, int size) {
    super(name, size);
  }

  @Override
  public Object acquire() {
    Arena arena = Arena.ofConfined();
    arena.allocate(requestedBytes());
    return arena;
  }

  @Override
  public void release(Object buffer) {
    ((Arena) buffer).close();
  }

  @Override
  public long inUse() {
    return -1;
  }

  @Override
  public long bufferBytes() {
    return requestedBytes();
  }

  @Override
  public void close() {
    // Nothing pooled, nothing to free.
  }
}
