package io.nocopy.bench.relay;

import java.io.IOException;
import java.net.ProtocolException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * Draws the relay fan-out results ({@code bench/scripts/relay-fanout.sh}'s rows: the tab-separated
 * fields of {@code PeerLoad}'s {@code ROW} lines without the word ROW) as one PNG: relay CPU
 * seconds per delivered GB and delivered throughput, per listener count, one bar per relay, for
 * the runs at one rate per listener.
 *
 * <p>Run: {@code java -Djava.awt.headless=true -cp benchmarks.jar io.nocopy.bench.relay.FanoutChart
 * ROWS.tsv OUT.png [RATE]}; RATE (e.g. "2 Mbit/s") defaults to the rate with the most listener
 * counts.
 */
public final class FanoutChart {
  private FanoutChart() {}

  /**
   * One measured run.
   *
   * @param relay the relay's name
   * @param listeners listener count
   * @param rate rate per listener as printed, e.g. "2 Mbit/s"
   * @param deliveredMBps delivered MB/s over all listeners
   * @param cpuSecondsPerGb relay CPU seconds per delivered GB
   */
  record Run(String relay, int listeners, String rate, double deliveredMBps, double cpuSecondsPerGb) {}

  /**
   * Parses the rows, skipping runs that failed (measured fields "-").
   *
   * @param lines the file's lines
   * @return the runs in file order
   * @throws ProtocolException if a line has too few fields or a malformed number
   */
  static List<Run> parse(List<String> lines) throws ProtocolException {
    List<Run> runs = new ArrayList<>();
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.split("\t", -1);
      if (f.length < 6) {
        throw new ProtocolException("a row needs at least 6 tab-separated fields: '" + line + "'");
      }
      if (f[3].equals("-") || f[5].equals("-") || f[5].equals("NaN")) {
        continue;
      }
      try {
        runs.add(new Run(f[0], Integer.parseInt(f[1]), f[2], Double.parseDouble(f[3]), Double.parseDouble(f[5])));
      } catch (NumberFormatException e) {
        throw new ProtocolException("malformed number in row '" + line + "'");
      }
    }
    return runs;
  }

  /**
   * The rate with the most distinct listener counts (the first such in file order).
   *
   * @param runs parsed runs, not empty
   * @return the rate
   */
  static String mainRate(List<Run> runs) {
    Map<String, TreeSet<Integer>> counts = new LinkedHashMap<>();
    for (Run r : runs) {
      counts.computeIfAbsent(r.rate(), k -> new TreeSet<>()).add(r.listeners());
    }
    String best = null;
    for (Map.Entry<String, TreeSet<Integer>> e : counts.entrySet()) {
      if (best == null || e.getValue().size() > counts.get(best).size()) {
        best = e.getKey();
      }
    }
    return best;
  }

  /**
   * Writes the chart.
   *
   * @param args {@code ROWS.tsv OUT.png [RATE]}
   * @throws IOException if the rows cannot be read or parsed or the PNG cannot be written
   */
  public static void main(String[] args) throws IOException {
    if (args.length < 2 || args.length > 3) {
      System.err.println("usage: FanoutChart ROWS.tsv OUT.png [RATE]");
      System.exit(2);
    }
    List<Run> runs = parse(Files.readAllLines(Path.of(args[0])));
    if (runs.isEmpty()) {
      throw new IOException("no measured runs in " + args[0]);
    }
    String rate = args.length == 3 ? args[2] : mainRate(runs);
    TreeSet<Integer> listenerCounts = new TreeSet<>();
    Map<String, Map<Integer, Run>> byRelay = new LinkedHashMap<>();
    for (Run r : runs) {
      if (r.rate().equals(rate)) {
        listenerCounts.add(r.listeners());
        byRelay.computeIfAbsent(r.relay(), k -> new HashMap<>()).put(r.listeners(), r);
      }
    }
    CategoryChart cpu = chart("Relay CPU seconds per delivered GB (" + rate + " per listener)", "CPU s/GB");
    CategoryChart tput = chart("Delivered throughput (" + rate + " per listener)", "MB/s");
    List<String> x = new ArrayList<>();
    for (int n : listenerCounts) {
      x.add(n + " listeners");
    }
    for (Map.Entry<String, Map<Integer, Run>> e : byRelay.entrySet()) {
      List<Double> c = new ArrayList<>();
      List<Double> t = new ArrayList<>();
      for (int n : listenerCounts) {
        Run r = e.getValue().get(n);
        c.add(r == null ? 0.0 : r.cpuSecondsPerGb());
        t.add(r == null ? 0.0 : r.deliveredMBps());
      }
      cpu.addSeries(e.getKey(), x, c);
      tput.addSeries(e.getKey(), x, t);
    }
    List<Chart<?, ?>> both = List.of(cpu, tput);
    BitmapEncoder.saveBitmap(both, 2, 1, args[1], BitmapEncoder.BitmapFormat.PNG);
    System.out.println("wrote " + args[1] + (args[1].endsWith(".png") ? "" : ".png"));
  }

  private static CategoryChart chart(String title, String yTitle) {
    CategoryChart c = new CategoryChartBuilder().width(900).height(420).title(title).yAxisTitle(yTitle).build();
    c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
    c.getStyler().setLabelsVisible(false);
    return c;
  }
}
