package io.nocopy.fanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The coalescing window's choice: fixed, or adapted to the source's measured rate. */
class PacerTest {
  private static final long MS = 1_000_000L;
  private static final int STEP = 16 << 10;
  private static final long MIN = 50 * MS;
  private static final long MAX = 125 * MS;

  @Test
  void theWindowAimsForTheStepsBytesBetweenTheLeastAndTheMost() {
    // 128 kbit/s: 16 KiB would take a second, the most wins
    assertEquals(MAX, Pacer.window(16_000, STEP, MIN, MAX));
    // 2 Mbit/s: 16 KiB take 65.5 ms
    assertEquals(65_536_000, Pacer.window(250_000, STEP, MIN, MAX), MS / 1000.0);
    // 1 Mbit/s: 131 ms, just over the most
    assertEquals(MAX, Pacer.window(125_000, STEP, MIN, MAX));
    // 50 Mbit/s: 2.6 ms, the least wins
    assertEquals(MIN, Pacer.window(6_250_000, STEP, MIN, MAX));
    // unknown rate (nothing measured yet): the least
    assertEquals(MIN, Pacer.window(0, STEP, MIN, MAX));
  }

  @Test
  void aFasterStreamGetsAShorterWindowNeverALongerOne() {
    long last = Long.MAX_VALUE;
    for (long rate = 1_000; rate < 100_000_000; rate = rate * 3 / 2) {
      long w = Pacer.window(rate, STEP, MIN, MAX);
      assertTrue(w <= last, "window grew at " + rate + " B/s");
      assertTrue(w >= MIN && w <= MAX, "window " + w + " at " + rate + " B/s");
      last = w;
    }
  }

  @Test
  void theRateIsAMovingAverageThatFollowsAChange() {
    assertEquals(16_000, Pacer.average(0, 16_000), "the first measurement is the rate");
    long r = 16_000;
    // one measurement far off moves it by an eighth of the difference
    assertEquals(16_000 + (160_000 - 16_000) / Pacer.RATE_WEIGHT, Pacer.average(r, 160_000));
    for (int i = 0; i < 40; i++) { // four seconds of 100 ms measurements at the new rate
      r = Pacer.average(r, 250_000);
    }
    assertEquals(250_000, r, 250_000 * 0.01, "it settles on the new rate");
  }

  @Test
  void fixedAndAdaptivePacers() {
    Pacer none = Pacer.fixed(0);
    assertFalse(none.active());
    Pacer fixed = Pacer.fixed(50 * MS);
    assertTrue(fixed.active());
    assertEquals(50 * MS, fixed.windowNanos());
    Pacer auto = Pacer.adaptive(STEP, MIN, MAX);
    assertTrue(auto.active());
    assertEquals(MIN, auto.windowNanos(), "the least until the rate is known");
    assertThrows(IllegalArgumentException.class, () -> Pacer.adaptive(STEP, MAX, MIN));
    assertThrows(IllegalArgumentException.class, () -> Pacer.adaptive(0, MIN, MAX));
  }

  @Test
  void theBuilderChecksTheAdaptiveWindow() {
    Fanout.Builder b = Fanout.builder();
    assertThrows(IllegalArgumentException.class,
        () -> b.coalesceFor(STEP, Duration.ofMillis(100), Duration.ofMillis(50)));
    assertThrows(IllegalArgumentException.class,
        () -> b.coalesceFor(STEP, Duration.ZERO, Duration.ofMillis(50)));
    assertThrows(IllegalArgumentException.class,
        () -> b.coalesceFor(STEP, Duration.ofMillis(50), Duration.ofSeconds(2)));
    assertThrows(IllegalArgumentException.class,
        () -> b.coalesceFor(0, Duration.ofMillis(50), Duration.ofMillis(100)));
  }
}
