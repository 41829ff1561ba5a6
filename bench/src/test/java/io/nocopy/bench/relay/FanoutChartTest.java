package io.nocopy.bench.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.ProtocolException;
import java.util.List;
import org.junit.jupiter.api.Test;

class FanoutChartTest {
  private static final List<String> ROWS = List.of(
      "nocopy splice\t10\t2 Mbit/s\t2.5\t2.00\t33.40\t8\t84\t1\t1.0\t13.1\t27.3\t10/10 clean, 10 to the end\t",
      "Netty baseline\t100\t2 Mbit/s\t25.0\t2.00\t40.10\t35\t100\t0\t1.4\t0.7\t54.5\t100/100 clean, 100 to the end\t",
      "Icecast 2.4.4\t10\t100 Mbit/s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\trun failed\twhy",
      "",
      "Icecast 2.4.4\t10\t100 Mbit/s\t120.5\t96.40\t4.10\t50\t16\tn/a\tn/a\t0.6\t5.8\t10/10 clean, 0 to the end\t");

  @Test
  void parsesMeasuredRowsAndSkipsFailedOnes() throws Exception {
    List<FanoutChart.Run> runs = FanoutChart.parse(ROWS);
    assertEquals(3, runs.size());
    assertEquals(new FanoutChart.Run("Netty baseline", 100, "2 Mbit/s", 25.0, 40.10), runs.get(1));
    assertEquals(4.10, runs.get(2).cpuSecondsPerGb());
  }

  @Test
  void mainRateIsTheOneWithMostListenerCounts() throws Exception {
    assertEquals("2 Mbit/s", FanoutChart.mainRate(FanoutChart.parse(ROWS)));
  }

  @Test
  void shortOrMalformedRowsAreProtocolErrors() {
    assertThrows(ProtocolException.class, () -> FanoutChart.parse(List.of("a\tb\tc")));
    assertThrows(ProtocolException.class, () -> FanoutChart.parse(List.of("x\tten\t2 Mbit/s\t1.0\t1\t2.0")));
  }
}
