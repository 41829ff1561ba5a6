package io.nocopy.bench.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.bench.relay.FanoutChart.Kind;
import io.nocopy.bench.relay.FanoutChart.Panel;
import io.nocopy.bench.relay.FanoutChart.Run;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FanoutChartTest {
  /** A row as relay-fanout.sh keeps it: class, then PeerLoad's ROW fields. */
  private static String row(String cls, String relay, int n, String rate, String mbps, String cpu, String icy) {
    return String.join("\t", cls, relay, Integer.toString(n), rate, mbps, "2.00", cpu, "5", "90", "0", "0.7", "48.2",
        "167.8", n + "/" + n + " clean, " + n + " to the end", "", icy, "-", "8");
  }

  private static final List<String> ROWS = List.of(
      row("default", "nocopy splice", 100, "2 Mbit/s", "25.0", "2.15", "0"),
      row("0", "nocopy splice", 100, "2 Mbit/s", "23.7", "3.57", "0"),
      row("default", "Icecast 2.4.4", 100, "2 Mbit/s", "18.8", "4.99", "0"),
      row("default", "floor (C, 65 ms window)", 100, "2 Mbit/s", "25.2", "0.54", "0"),
      row("0", "floor (C, 0 ms window)", 100, "2 Mbit/s", "25.2", "2.44", "0"),
      // with ICY listeners: not charted
      row("default", "nocopy splice", 100, "2 Mbit/s", "25.0", "9.99", "25 (25%)"),
      row("default", "nocopy splice", 10, "50 Mbit/s", "62.4", "0.93", "0"),
      // failed runs: no figure, no bar
      row("0", "nocopy splice", 10, "50 Mbit/s", "-", "-", "0"),
      row("default", "floor (C, 50 ms window)", 10, "50 Mbit/s", "0.0", "NaN", "0"),
      "",
      row("default", "nocopy splice", 500, "2 Mbit/s", "35.7", "4.00", "0"),
      row("default", "nocopy splice", 500, "2 Mbit/s", "35.7", "5.00", "0"),
      row("default", "nocopy splice", 500, "2 Mbit/s", "35.7", "9.00", "0"),
      row("default", "nocopy userspace", 10, "max", "27.7", "2.53", "0"),
      row("0", "nocopy userspace", 10, "max", "39.8", "1.93", "0"),
      row("default", "Icecast 2.4.4", 10, "max", "20.1", "3.36", "0"),
      row("default", "nocopy splice", 2000, "128 kbit/s", "33.7", "3.21", "0"),
      row("default", "Icecast 2.4.4", 1000, "128 kbit/s", "15.9", "6.93", "0"),
      row("default", "nocopy splice", 1000, "64 kbit/s", "8.2", "13.49", "0"));

  @Test
  void parsesTheClassColumnAndSkipsFailedRuns() throws Exception {
    List<Run> runs = FanoutChart.parse(ROWS);
    assertEquals(16, runs.size());
    assertEquals(new Run("0", "nocopy splice", 100, "2 Mbit/s", 23.7, 3.57, 0), runs.get(1));
    assertEquals(25, runs.get(5).icyListeners());
    assertTrue(runs.stream().noneMatch(r -> Double.isNaN(r.cpuSecondsPerGb())));
  }

  @Test
  void panelsPerClassWithTheClasslessPeerInEach() throws Exception {
    List<Run> runs = FanoutChart.parse(ROWS);
    List<Panel> panels = FanoutChart.panels(runs);
    assertEquals(List.of(Kind.PACED, Kind.PACED, Kind.MAX, Kind.RADIO), panels.stream().map(Panel::kind).toList());
    assertTrue(panels.get(0).title().contains("default flags"), panels.get(0).title());
    assertTrue(panels.get(1).title().contains("--coalesce-ms 0"), panels.get(1).title());

    Panel defaults = panels.get(0);
    assertEquals(List.of("10 x 50 Mbit/s", "100 x 2 Mbit/s", "500 x 2 Mbit/s"),
        defaults.categories().stream().map(FanoutChart.Category::label).toList());
    Map<String, List<Double>> v = FanoutChart.values(defaults, runs);
    assertEquals(List.of("nocopy splice", "Icecast 2.4.4", "floor (C)"), List.copyOf(v.keySet()));
    // the ICY run is not drawn; the three 500-listener runs are drawn as their median
    assertArrayEquals(new Double[] {0.93, 2.15, 5.00}, v.get("nocopy splice").toArray(new Double[0]));
    // the failed floor run at 50 Mbit/s is missing, not 0
    assertArrayEquals(new Double[] {null, 0.54, null}, v.get("floor (C)").toArray(new Double[0]));

    // class 0 has no measured 10 x 50 Mbit/s run; Icecast is drawn here too
    Panel zero = panels.get(1);
    assertEquals(List.of("100 x 2 Mbit/s"), zero.categories().stream().map(FanoutChart.Category::label).toList());
    Map<String, List<Double>> z = FanoutChart.values(zero, runs);
    assertEquals(List.of(3.57), z.get("nocopy splice"));
    assertEquals(List.of(4.99), z.get("Icecast 2.4.4"));
    assertEquals(List.of(2.44), z.get("floor (C)"));

    Panel max = panels.get(2);
    Map<String, List<Double>> m = FanoutChart.values(max, runs);
    assertEquals(2, max.categories().size());
    assertEquals(List.of(27.7, 39.8), m.get("nocopy userspace"));
    assertEquals(List.of(20.1, 20.1), m.get("Icecast 2.4.4"));

    Panel radio = panels.get(3);
    assertEquals(List.of("1000 x 64 kbit/s", "1000 x 128 kbit/s", "2000 x 128 kbit/s"),
        radio.categories().stream().map(FanoutChart.Category::label).toList());
    Map<String, List<Double>> r = FanoutChart.values(radio, runs);
    assertNull(r.get("nocopy splice").get(1));
    assertEquals(6.93, r.get("Icecast 2.4.4").get(1));
  }

  @Test
  void ratesAndNames() {
    assertEquals(2_000_000, FanoutChart.bitsPerSecond("2 Mbit/s"));
    assertEquals(128_000, FanoutChart.bitsPerSecond("128 kbit/s"));
    assertEquals(Kind.MAX, FanoutChart.kind("max"));
    assertEquals(Kind.RADIO, FanoutChart.kind("500 kbit/s"));
    assertThrows(IllegalArgumentException.class, () -> FanoutChart.bitsPerSecond("fast"));
    assertEquals("floor, io_uring sends (C)", FanoutChart.seriesName("floor, io_uring sends (C, 125 ms window)"));
    assertTrue(FanoutChart.classless("Netty baseline"));
    assertEquals(20.0, FanoutChart.roundUp125(14.86), 1e-9);
    assertEquals(1.0, FanoutChart.roundUp125(1.0), 1e-9);
    assertEquals(0.5, FanoutChart.roundUp125(0.31), 1e-9);
    assertEquals(10.0, FanoutChart.roundUp125(6.29), 1e-9);
  }

  @Test
  void writesOnePanelBelowTheOther(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("chart.png");
    List<Panel> panels = FanoutChart.write(FanoutChart.parse(ROWS), out.toString());
    BufferedImage image = ImageIO.read(Files.newInputStream(out));
    assertEquals(1100, image.getWidth());
    assertEquals(460 * panels.size(), image.getHeight());
  }

  @Test
  void nothingToDrawIsAnError(@TempDir Path dir) throws Exception {
    List<Run> onlyIcy = FanoutChart.parse(List.of(row("default", "nocopy splice", 10, "2 Mbit/s", "2.5", "3", "5 (50%)")));
    assertThrows(IOException.class, () -> FanoutChart.write(onlyIcy, dir.resolve("x.png").toString()));
  }

  @Test
  void shortOrMalformedRowsAreProtocolErrors() {
    assertThrows(ProtocolException.class, () -> FanoutChart.parse(List.of("a\tb\tc")));
    // a row without the class column: the listener count is not where it belongs
    assertThrows(ProtocolException.class, () -> FanoutChart.parse(List.of(
        "nocopy splice\t10\t2 Mbit/s\t2.5\t2.00\t33.40\t8\t84\t1\t1.0\t13.1\t27.3\t10/10 clean\t")));
    assertThrows(ProtocolException.class, () -> FanoutChart.parse(List.of(row("0", "x", 1, "2 Mbit/s", "1.x", "2", "0"))));
  }
}
