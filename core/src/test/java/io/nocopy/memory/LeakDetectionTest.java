package io.nocopy.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Leak mode is a startup property, so it is checked in a child JVM started with it. */
class LeakDetectionTest {
  /** Child JVM entry: leaks one block from a helper method and closes the pool. */
  public static final class Child {
    public static void main(String[] args) {
      BlockPool pool = BlockPool.create(Tier.MICRO, 4);
      leakOne(pool);
      pool.tryAcquire().release(); // a released block is not a leak
      List<String> report = pool.leakReport();
      System.out.println("LEAKS=" + report.size());
      report.forEach(System.out::println);
      pool.close(); // also logs the report
    }

    static void leakOne(BlockPool pool) {
      pool.tryAcquire();
    }
  }

  @Test
  void leakModeReportsWhereLeakedBlocksWereAcquired() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "-D" + BlockPool.LEAK_DETECTION_PROPERTY + "=true",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Child.class.getName())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("LEAKS=1"), out);
    assertTrue(out.contains("acquired here"), out);
    assertTrue(out.contains("Child.leakOne"), "the acquiring method is named:\n" + out);
    assertTrue(out.contains("still in use"), "close() logs the leak:\n" + out);
  }
}
