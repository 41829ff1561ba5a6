package io.nocopy.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DemoReportTest {
  private static EngineResult result(String requested, String used, List<String> errors, int verified) {
    LatencyHistogram h = new LatencyHistogram();
    h.record(1_000_000);
    h.record(3_000_000);
    return new EngineResult(requested, used, 2_000_000_000L, 500_000_000L, 600_000_000L, 1_500_000_000L,
        2_000_000L, 1, 100_000_000L, h, verified, 4, 1000, 0, errors);
  }

  @Test
  void columnsSitSideBySideAndNameTheEngineTheRelayReallyUsed() {
    DemoConfig c = new DemoConfig(2, 2, 2_000_000, 2, 1, List.of("splice", "userspace"));
    String text = DemoReport.render(c, List.of(result("splice", "userspace", List.of(), 4),
        result("userspace", "userspace", List.of(), 4)));
    assertTrue(text.contains("| splice (ran userspace) | userspace"), text);
    assertTrue(text.contains("relay CPU s per delivered GB   | 3.00"), text); // 1.5 s / 0.5 GB
    assertTrue(text.contains("delivered throughput           | 2000.0 Mbit/s"), text);
    // p50: the upper bound of 1 ms's bucket (within 1/16); p99: the largest value recorded
    assertTrue(text.contains("latency p50 / p99              | 1.02 / 3.00 ms"), text);
    assertTrue(text.contains("integrity                      | OK"), text);
    assertFalse(text.contains("error:"), text);
  }

  @Test
  void aFailedListenerFailsTheRunAndIsListed() {
    EngineResult bad = result("userspace", "userspace", List.of("listener 2 of /mount1: expected frame 5, got frame 6"), 3);
    assertFalse(bad.ok());
    assertFalse(result("userspace", "userspace", List.of(), 3).ok()); // not every listener verified
    assertTrue(result("userspace", "userspace", List.of(), 4).ok());
    String text = DemoReport.render(new DemoConfig(2, 2, 500_000, 2, 1, List.of("userspace")), List.of(bad));
    assertTrue(text.contains("FAILED (1 errors)"), text);
    assertTrue(text.contains("[userspace] error: listener 2 of /mount1: expected frame 5, got frame 6"), text);
    assertTrue(text.contains("at 500 kbit/s per source"), text);
    assertEquals("userspace", DemoReport.title(bad));
  }
}
