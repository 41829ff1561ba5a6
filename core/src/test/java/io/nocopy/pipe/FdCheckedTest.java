package io.nocopy.pipe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * Base of the pipe tests: the process's open descriptors ({@code /proc/self/fd}) are the same
 * before and after each test class, and every pooled block is back after each test.
 */
public abstract class FdCheckedTest {
  private static java.util.List<String> fdsBefore;

  @BeforeAll
  public static void countDescriptors() throws Exception {
    // Warm up what opens process-lifetime descriptors once: the JDK's pollers, /dev/null.
    try (Net.Pair s = Net.pair(Net.Kind.TCP);
        Net.Pair d = Net.pair(Net.Kind.TCP)) {
      var w = Net.writeAll(s.a(), new byte[70_000], 70_000, 1);
      var r = Net.readAll(d.b());
      Transfer.transfer(s.b(), d.a());
      d.a().shutdownOutput();
      w.get();
      r.get();
    }
    // a virtual thread's blocking read starts the JDK's pollers
    try (Net.Pair p = Net.pair(Net.Kind.TCP)) {
      Thread v = Thread.startVirtualThread(() -> {
        try {
          p.b().read(java.nio.ByteBuffer.allocate(1));
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      Thread.sleep(50);
      p.a().write(java.nio.ByteBuffer.allocate(1));
      v.join();
    }
    if (Accel.NATIVE) {
      io.nocopy.internal.linux.Native.devNull();
    }
    Net.sha256(); // security providers keep /dev/random and /dev/urandom open
    new java.security.SecureRandom().nextInt();
    PipePool.drain();
    fdsBefore = Net.fdTargets();
  }

  @AfterAll
  public static void descriptorsBack() {
    PipePool.drain();
    assertEquals(fdsBefore, Net.fdTargets(), "open descriptors after the test class");
  }

  @AfterEach
  public void blocksBack() throws IOException {
    assertEquals(0, Accel.allocator().inUse(), "pooled blocks still in use after the test");
  }
}
