package io.nocopy.bench.relay;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.style.Styler;

/**
 * Draws the relay fan-out results as one PNG of panels, from {@code bench/scripts/relay-fanout.sh}'s
 * rows ({@code ROWS_OUT}: the latency class, then the tab-separated fields of {@code PeerLoad}'s
 * {@code ROW} line without the word ROW).
 *
 * <p>The panels, each drawn when it has runs:
 *
 * <ul>
 *   <li>per latency class ("default" = the relays' default flags, N = {@code --coalesce-ms N}): relay
 *       CPU seconds per delivered GB for the paced scenarios at 1 Mbit/s per listener and more, one
 *       category per listeners x rate, one bar per relay;
 *   <li>delivered MB/s of the flat-out runs (rate "max"), per listener count and class;
 *   <li>per latency class: relay CPU seconds per delivered GB at radio bitrates (below 1 Mbit/s per
 *       listener), e.g. 1,000 / 2,000 / 10,000 listeners at 128 kbit/s.
 * </ul>
 *
 * <p>Icecast and the Netty baseline have no latency class (the harness runs them once, class
 * "default"): they are drawn in every class's panel, as the peers. Runs that failed (no figure)
 * are left out rather than drawn as 0, and so are runs with ICY listeners (the harness's own table
 * compares those). Repeated runs of one relay, class and scenario are drawn as their median. A
 * CPU panel whose values span more than a factor of 10 gets a logarithmic axis. Floor relays'
 * names lose their coalescing window ("floor (C, 65 ms window)" is "floor (C)"): the window
 * follows from the class and the rate.
 *
 * <p>Run: {@code java -cp bench/target/benchmarks.jar io.nocopy.bench.relay.FanoutChart ROWS.tsv
 * OUT.png}.
 */
public final class FanoutChart {
  private FanoutChart() {}

  /** Relays drawn in every latency class's panel: they have no coalescing flag. */
  private static final List<String> CLASSLESS = List.of("Icecast", "Netty");

  private static final Pattern FLOOR_WINDOW = Pattern.compile(", \\d+ ms window\\)");

  private static final Pattern LEADING_INT = Pattern.compile("^\\s*(\\d+)");

  /** One color per relay, in the order relays first appear, the same in every panel. */
  private static final Color[] PALETTE = {
    new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
    new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)
  };

  /**
   * One measured run.
   *
   * @param latencyClass "default" or the {@code --coalesce-ms} value the relay ran with
   * @param relay the relay's name as the harness printed it
   * @param listeners listener count
   * @param rate rate per listener as printed: "2 Mbit/s", "128 kbit/s" or "max" (unpaced)
   * @param deliveredMBps delivered MB/s over all listeners
   * @param cpuSecondsPerGb relay CPU seconds per delivered GB
   * @param icyListeners how many of the listeners asked for ICY metadata
   */
  record Run(String latencyClass, String relay, int listeners, String rate, double deliveredMBps,
      double cpuSecondsPerGb, int icyListeners) {}

  /** What a panel shows. */
  enum Kind {
    /** paced sources at 1 Mbit/s per listener and more: CPU per GB */
    PACED,
    /** unpaced sources: delivered throughput */
    MAX,
    /** paced sources below 1 Mbit/s per listener: CPU per GB */
    RADIO
  }

  /**
   * One group of bars.
   *
   * @param listeners listener count
   * @param rate rate per listener as printed
   * @param latencyClass the class whose runs (and the classless relays' runs) the group shows
   * @param label the axis label
   */
  record Category(int listeners, String rate, String latencyClass, String label) {}

  /**
   * One chart of the PNG.
   *
   * @param kind what it shows
   * @param title its title
   * @param categories its groups of bars, left to right
   */
  record Panel(Kind kind, String title, List<Category> categories) {}

  /**
   * Parses the rows, skipping runs that failed (measured fields "-" or NaN).
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
      if (f.length < 7) {
        throw new ProtocolException("a row needs at least 7 tab-separated fields (class, relay, listeners, rate,"
            + " MB/s, Mbit/s per listener, CPU s/GB, ...): '" + line + "'");
      }
      int listeners;
      try {
        listeners = Integer.parseInt(f[2]);
      } catch (NumberFormatException e) {
        throw new ProtocolException("listener count '" + f[2] + "' is not a number (a rows file of relay-fanout.sh's"
            + " ROWS_OUT starts with the class column): '" + line + "'");
      }
      if (failed(f[4]) || failed(f[6])) {
        continue;
      }
      int icy = 0;
      if (f.length > 15) {
        Matcher m = LEADING_INT.matcher(f[15]);
        icy = m.find() ? Integer.parseInt(m.group(1)) : 0;
      }
      try {
        runs.add(new Run(f[0], f[1], listeners, f[3], Double.parseDouble(f[4]), Double.parseDouble(f[6]), icy));
      } catch (NumberFormatException e) {
        throw new ProtocolException("malformed number in row '" + line + "'");
      }
    }
    return runs;
  }

  private static boolean failed(String field) {
    return field.equals("-") || field.equalsIgnoreCase("NaN") || field.isEmpty();
  }

  /**
   * Bits per second of a printed rate.
   *
   * @param rate "2 Mbit/s", "128 kbit/s", "500 bit/s" or "max"
   * @return the rate, or {@link Long#MAX_VALUE} for "max"
   * @throws IllegalArgumentException if the rate is none of these
   */
  static long bitsPerSecond(String rate) {
    if (rate.equals("max")) {
      return Long.MAX_VALUE;
    }
    String[] p = rate.trim().split(" ");
    if (p.length == 2) {
      try {
        long n = Long.parseLong(p[0]);
        switch (p[1]) {
          case "Mbit/s":
            return n * 1_000_000;
          case "kbit/s":
            return n * 1000;
          case "bit/s":
            return n;
          default:
            break;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    throw new IllegalArgumentException("not a rate: '" + rate + "'");
  }

  static Kind kind(String rate) {
    long bits = bitsPerSecond(rate);
    return bits == Long.MAX_VALUE ? Kind.MAX : bits >= 1_000_000 ? Kind.PACED : Kind.RADIO;
  }

  /**
   * Whether a relay has no latency class and is drawn in every class's panel.
   *
   * @param relay the relay's name
   * @return true for Icecast and the Netty baseline
   */
  static boolean classless(String relay) {
    return CLASSLESS.stream().anyMatch(relay::startsWith);
  }

  /**
   * The name a relay's series gets: the floor's names without their coalescing window.
   *
   * @param relay the relay's name as printed
   * @return the series name
   */
  static String seriesName(String relay) {
    return FLOOR_WINDOW.matcher(relay).replaceAll(")");
  }

  static String classTitle(String latencyClass) {
    return latencyClass.equals("default") ? "default flags (auto coalescing)" : "--coalesce-ms " + latencyClass;
  }

  /**
   * The panels the runs fill, in drawing order: per class the paced CPU panel, then the flat-out
   * throughput panel, then per class the radio-bitrate CPU panel. Runs with ICY listeners are not
   * drawn.
   *
   * @param runs parsed runs
   * @return the panels, none without runs
   */
  static List<Panel> panels(List<Run> runs) {
    List<Run> drawn = runs.stream().filter(r -> r.icyListeners() == 0).toList();
    List<Panel> panels = new ArrayList<>();
    for (Kind kind : Kind.values()) {
      List<Run> ofKind = drawn.stream().filter(r -> kind(r.rate()) == kind).toList();
      if (ofKind.isEmpty()) {
        continue;
      }
      Set<String> classes = classes(ofKind);
      List<Run> scenarios = new ArrayList<>(ofKind);
      scenarios.sort(Comparator.comparingInt(Run::listeners).thenComparingLong(r -> bitsPerSecond(r.rate())));
      if (kind == Kind.MAX) {
        List<Category> cats = new ArrayList<>();
        for (int n : scenarios.stream().map(Run::listeners).distinct().toList()) {
          for (String c : classes) {
            Category cat = new Category(n, "max", c, n + " listeners, " + classTitle(c));
            if (drawn.stream().anyMatch(r -> in(r, cat))) {
              cats.add(cat);
            }
          }
        }
        panels.add(new Panel(kind, "Delivered MB/s, unpaced source (rate max)", cats));
        continue;
      }
      for (String c : classes) {
        List<Category> cats = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (Run s : scenarios) {
          Category cat = new Category(s.listeners(), s.rate(), c, s.listeners() + " x " + s.rate());
          if (seen.add(cat.label()) && drawn.stream().anyMatch(r -> in(r, cat))) {
            cats.add(cat);
          }
        }
        if (!cats.isEmpty()) {
          String what = kind == Kind.RADIO ? "radio bitrates, " : "";
          panels.add(new Panel(kind, "Relay CPU s per delivered GB, " + what + classTitle(c), cats));
        }
      }
    }
    return panels;
  }

  /** The latency classes of the runs, "default" first; only the classless relays' if no other. */
  private static Set<String> classes(List<Run> runs) {
    Set<String> classes = new LinkedHashSet<>();
    for (Run r : runs) {
      if (!classless(r.relay())) {
        classes.add(r.latencyClass());
      }
    }
    if (classes.isEmpty()) {
      runs.forEach(r -> classes.add(r.latencyClass()));
    }
    Set<String> ordered = new LinkedHashSet<>();
    if (classes.remove("default")) {
      ordered.add("default");
    }
    ordered.addAll(classes);
    return ordered;
  }

  private static boolean in(Run r, Category c) {
    return r.listeners() == c.listeners() && r.rate().equals(c.rate())
        && (classless(r.relay()) || r.latencyClass().equals(c.latencyClass()));
  }

  /**
   * A panel's values: per series (relay, in the order relays first appear in the runs) the median
   * figure of its runs in each category, null where it has none.
   *
   * @param panel the panel
   * @param runs parsed runs
   * @return series name to one value per category
   */
  static Map<String, List<Double>> values(Panel panel, List<Run> runs) {
    Map<String, List<Double>> values = new LinkedHashMap<>();
    List<String> names = runs.stream().map(r -> seriesName(r.relay())).distinct().toList();
    for (String name : names) {
      List<Double> v = new ArrayList<>();
      boolean any = false;
      for (Category c : panel.categories()) {
        List<Double> xs = runs.stream()
            .filter(r -> r.icyListeners() == 0 && seriesName(r.relay()).equals(name) && in(r, c))
            .map(r -> panel.kind() == Kind.MAX ? r.deliveredMBps() : r.cpuSecondsPerGb())
            .sorted()
            .toList();
        Double m = xs.isEmpty() ? null : xs.size() % 2 == 1 ? xs.get(xs.size() / 2)
            : (xs.get(xs.size() / 2 - 1) + xs.get(xs.size() / 2)) / 2;
        any |= m != null;
        v.add(m);
      }
      if (any) {
        values.put(name, v);
      }
    }
    return values;
  }

  /**
   * Draws the panels into one PNG, one panel below the other.
   *
   * @param runs parsed runs
   * @param out the PNG's path (".png" is appended when missing)
   * @return the panels drawn
   * @throws IOException if there is nothing to draw or the PNG cannot be written
   */
  static List<Panel> write(List<Run> runs, String out) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<Panel> panels = panels(runs);
    if (panels.isEmpty()) {
      throw new IOException("no measured runs without ICY listeners to draw");
    }
    List<String> order = runs.stream().map(r -> seriesName(r.relay())).distinct().toList();
    List<Map<String, List<Double>>> values = new ArrayList<>();
    // panels of one kind share their axis (the class panels side by side compare)
    Map<Kind, double[]> range = new LinkedHashMap<>();
    for (Panel p : panels) {
      Map<String, List<Double>> v = values(p, runs);
      values.add(v);
      double[] r = range.computeIfAbsent(p.kind(), k -> new double[] {Double.MAX_VALUE, 0});
      for (List<Double> xs : v.values()) {
        for (Double d : xs) {
          if (d != null && d > 0) {
            r[0] = Math.min(r[0], d);
            r[1] = Math.max(r[1], d);
          }
        }
      }
    }
    List<CategoryChart> charts = new ArrayList<>();
    for (int i = 0; i < panels.size(); i++) {
      Panel p = panels.get(i);
      charts.add(chart(p, values.get(i), order, range.get(p.kind())));
    }
    BitmapEncoder.saveBitmap(charts, charts.size(), 1, out, BitmapEncoder.BitmapFormat.PNG);
    return panels;
  }

  private static CategoryChart chart(Panel p, Map<String, List<Double>> values, List<String> order, double[] range) {
    boolean cpu = p.kind() != Kind.MAX;
    double min = range[0];
    double max = Math.max(range[1], 1e-3);
    boolean log = cpu && max > 10 * min;
    String yTitle = cpu ? "relay CPU s/GB" + (log ? " (log scale)" : "") : "delivered MB/s";
    CategoryChart c = new CategoryChartBuilder().width(1100).height(460).title(p.title()).yAxisTitle(yTitle).build();
    var s = c.getStyler();
    s.setLegendPosition(Styler.LegendPosition.OutsideE);
    s.setYAxisLogarithmic(log);
    if (log) {
      // from the decade below the smallest value (every bar shows, the axis has a label at its
      // foot) to the next 1, 2 or 5 times a power of ten above the largest
      s.setYAxisMin(Math.pow(10, Math.floor(Math.log10(min))));
      s.setYAxisMax(roundUp125(max));
    } else {
      s.setYAxisMin(0.0);
      s.setYAxisMax(max * 1.12);
    }
    s.setYAxisDecimalPattern("#.##");
    s.setLabelsVisible(true);
    s.setLabelsRotation(90);
    s.setLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
    s.setLabelsFontColorAutomaticEnabled(false);
    s.setLabelsFontColor(Color.BLACK);
    s.setPlotGridVerticalLinesVisible(false);
    List<String> x = p.categories().stream().map(Category::label).toList();
    for (Map.Entry<String, List<Double>> e : values.entrySet()) {
      CategorySeries series = c.addSeries(e.getKey(), x, e.getValue());
      series.setFillColor(PALETTE[order.indexOf(e.getKey()) % PALETTE.length]);
    }
    return c;
  }

  /**
   * The smallest 1, 2 or 5 times a power of ten at or above a value.
   *
   * @param v a positive value
   * @return e.g. 20 for 14.86, 1 for 1, 0.5 for 0.31
   */
  static double roundUp125(double v) {
    double decade = Math.pow(10, Math.floor(Math.log10(v)));
    for (int step : new int[] {1, 2, 5}) {
      if (step * decade >= v * (1 - 1e-9)) {
        return step * decade;
      }
    }
    return 10 * decade;
  }

  /**
   * Writes the chart.
   *
   * @param args {@code ROWS.tsv OUT.png}
   * @throws IOException if the rows cannot be read or parsed or the PNG cannot be written
   */
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: FanoutChart ROWS.tsv OUT.png   (ROWS.tsv: relay-fanout.sh's ROWS_OUT)");
      System.exit(2);
    }
    List<Run> runs = parse(Files.readAllLines(Path.of(args[0])));
    List<Panel> panels;
    try {
      panels = write(runs, args[1]);
    } catch (IOException e) {
      throw new IOException(args[0] + ": " + e.getMessage(), e);
    }
    String out = args[1] + (args[1].endsWith(".png") ? "" : ".png");
    System.out.println("wrote " + out + ": " + String.join("; ",
        panels.stream().map(p -> p.title() + String.format(Locale.ROOT, " (%d groups)", p.categories().size()))
            .toList()));
  }
}
