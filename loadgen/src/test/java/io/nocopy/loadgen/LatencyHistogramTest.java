package io.nocopy.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {
  @Test
  void everyValueFallsIntoABucketWithin1Over16OfIt() {
    Random r = new Random(1);
    for (int i = 0; i < 100_000; i++) {
      long v = (r.nextLong() >>> 1) >>> r.nextInt(63); // 0 .. Long.MAX_VALUE
      int b = LatencyHistogram.index(v);
      long hi = LatencyHistogram.upperBound(b);
      assertTrue(hi >= v, v + " above its bucket's bound " + hi);
      assertTrue(hi - v <= v / 16, v + " too far below its bucket's bound " + hi);
      if (b > 0) {
        assertTrue(LatencyHistogram.upperBound(b - 1) < v, v + " also fits the bucket before");
      }
    }
  }

  @Test
  void percentilesOfAUniformRange() {
    LatencyHistogram h = new LatencyHistogram();
    for (long us = 1; us <= 10_000; us++) {
      h.record(us * 1000);
    }
    assertEquals(10_000, h.count());
    long p50 = h.percentile(0.5);
    long p99 = h.percentile(0.99);
    assertTrue(p50 >= 5_000_000 && p50 <= 5_000_000 * 17 / 16, "p50 " + p50);
    assertTrue(p99 >= 9_900_000 && p99 <= 10_000_000, "p99 " + p99);
    assertEquals(10_000_000, h.percentile(1.0));
  }

  @Test
  void mergingAddsCountsAndKeepsTheMax() {
    LatencyHistogram a = new LatencyHistogram();
    LatencyHistogram b = new LatencyHistogram();
    a.record(10);
    b.record(1_000_000);
    b.record(-5);
    a.add(b);
    assertEquals(3, a.count());
    assertEquals(1_000_000, a.max());
    assertEquals(0, a.percentile(0.1));
    assertEquals(-1, new LatencyHistogram().percentile(0.5));
  }
}
