package io.nocopy.drpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nocopy.memory.Allocator;
import java.io.File;
import java.util.function.BooleanSupplier;

/** Resource checks shared by the transport tests. */
final class DrpcTestSupport {
  private DrpcTestSupport() {}

  static int openFds() {
    String[] fds = new File("/proc/self/fd").list();
    return fds == null ? -1 : fds.length;
  }

  /** Waits (bounded: 10 s) for a condition that asynchronous cleanup makes true. */
  static void await(BooleanSupplier cond, String what) throws InterruptedException {
    for (int i = 0; i < 2000 && !cond.getAsBoolean(); i++) {
      Thread.sleep(5);
    }
    if (!cond.getAsBoolean()) {
      throw new AssertionError("timed out waiting for: " + what);
    }
  }

  static void assertAllReleased(Allocator alloc) throws InterruptedException {
    await(() -> alloc.inUse() == 0, "every pooled block released (in use: " + alloc.inUse() + ")");
    assertEquals(0, alloc.inUse());
  }

  static void assertFdsBack(int before) throws InterruptedException {
    if (before < 0) {
      return; // no /proc
    }
    await(() -> openFds() <= before, "file descriptors back to " + before + " (now " + openFds() + ")");
  }
}
