package io.nocopy.memory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The byte cap shared by every pool of one {@link Allocator}. Slabs reserve their bytes here
 * before they are allocated and give them back when trimmed or closed; native memory is not
 * limited by {@code -XX:MaxDirectMemorySize}, so this is the only limit there is.
 */
final class ByteBudget {
  static final ByteBudget UNLIMITED = new ByteBudget(Long.MAX_VALUE);

  private final long maxBytes;
  private final AtomicLong reserved = new AtomicLong();

  ByteBudget(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  boolean tryReserve(long bytes) {
    while (true) {
      long r = reserved.get();
      if (r + bytes > maxBytes || r + bytes < 0) {
        return false;
      }
      if (reserved.compareAndSet(r, r + bytes)) {
        return true;
      }
    }
  }

  void release(long bytes) {
    reserved.addAndGet(-bytes);
  }

  long maxBytes() {
    return maxBytes;
  }

  long reserved() {
    return reserved.get();
  }

  boolean limited() {
    return maxBytes != Long.MAX_VALUE;
  }
}
