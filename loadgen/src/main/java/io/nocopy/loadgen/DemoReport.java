package io.nocopy.loadgen;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** Formats the demo's closing table: one column per engine run, side by side. Stateless. */
final class DemoReport {
  private DemoReport() {}

  /**
   * Renders the table and, below it, every error of every run.
   *
   * @param config what was run
   * @param results one per engine, in run order
   * @return the text, ending with a newline
   */
  static String render(DemoConfig config, List<EngineResult> results) {
    List<String[]> rows = new ArrayList<>();
    row(rows, results, "engine requested", EngineResult::requested);
    row(rows, results, "engine used (relay's report)", EngineResult::used);
    row(rows, results, "steady-state window", r -> f("%.1f s", r.windowNanos() / 1e9));
    row(rows, results, "bytes delivered (window)", r -> f("%,d", r.deliveredBytes()));
    row(rows, results, "delivered throughput", r -> f("%.1f Mbit/s", r.deliveredBytes() * 8e3 / r.windowNanos()));
    row(rows, results, "relay CPU (window)", r -> f("%.2f s", r.relayCpuNanos() / 1e9));
    row(rows, results, "relay CPU s per delivered GB", r -> f("%.2f", r.cpuSecondsPerGb()));
    row(rows, results, "relay heap allocation (window)",
        r -> r.relayAllocatedBytes() < 0 ? "unknown" : f("%.2f MB", r.relayAllocatedBytes() / 1e6));
    row(rows, results, "relay GC count (window)", r -> Long.toString(r.relayGcCount()));
    row(rows, results, "relay peak RSS",
        r -> r.relayPeakRssBytes() < 0 ? "unknown" : f("%.0f MB", r.relayPeakRssBytes() / 1e6));
    row(rows, results, "latency p50 / p99",
        r -> r.latency().count() == 0 ? "none recorded"
            : f("%.2f / %.2f ms", r.latency().percentile(0.50) / 1e6, r.latency().percentile(0.99) / 1e6));
    row(rows, results, "latency samples", r -> f("%,d", r.latency().count()));
    row(rows, results, "listeners verified", r -> r.listenersVerified() + " / " + r.listenersTotal());
    row(rows, results, "frames verified", r -> f("%,d", r.framesVerified()));
    row(rows, results, "bytes checked (whole run)", r -> f("%,d", r.totalBytes()));
    row(rows, results, "source stalls (>250 ms behind)", r -> Integer.toString(r.sourceStalls()));
    row(rows, results, "integrity", r -> r.ok() ? "OK" : "FAILED (" + r.errors().size() + " errors)");

    int[] width = new int[results.size() + 1];
    for (int i = 0; i < results.size(); i++) {
      width[i + 1] = title(results.get(i)).length();
    }
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder b = new StringBuilder();
    b.append(f("nocopy relay demo: %d mounts x %d listeners at %s per source, %d s measured after %d s warm-up%s%n",
        config.mounts(), config.listeners(), rate(config.bitsPerSecond()), config.seconds(), config.warmupSeconds(),
        config.icyShare() > 0 ? f(", ICY metadata for %.0f%% of the listeners", 100 * config.icyShare()) : ""));
    b.append(f("(GB = 10^9 bytes, MB = 10^6 bytes; relay figures are the relay process's own, from its"
        + " /admin/nocopy-stats.json and /proc)%n%n"));
    StringBuilder header = new StringBuilder(pad("", width[0]));
    for (int i = 0; i < results.size(); i++) {
      header.append(" | ").append(pad(title(results.get(i)), width[i + 1]));
    }
    b.append(header).append('\n').append("-".repeat(header.length())).append('\n');
    for (String[] r : rows) {
      b.append(pad(r[0], width[0]));
      for (int i = 1; i < r.length; i++) {
        b.append(" | ").append(pad(r[i], width[i]));
      }
      b.append('\n');
    }
    for (EngineResult r : results) {
      for (String e : r.errors()) {
        b.append(f("[%s] error: %s%n", r.requested(), e));
      }
    }
    return b.toString();
  }

  /** The column title: the engine requested, and the one used when the relay ran another. */
  static String title(EngineResult r) {
    return r.used().equals(r.requested()) || r.used().equals("?") ? r.requested()
        : r.requested() + " (ran " + r.used() + ")";
  }

  private static void row(List<String[]> rows, List<EngineResult> results, String name,
      Function<EngineResult, String> cell) {
    String[] r = new String[results.size() + 1];
    r[0] = name;
    for (int i = 0; i < results.size(); i++) {
      r[i + 1] = cell.apply(results.get(i));
    }
    rows.add(r);
  }

  static String rate(long bits) {
    if (bits % 1_000_000 == 0) {
      return bits / 1_000_000 + " Mbit/s";
    }
    if (bits % 1000 == 0) {
      return bits / 1000 + " kbit/s";
    }
    return bits + " bit/s";
  }

  private static String pad(String s, int w) {
    return s + " ".repeat(Math.max(0, w - s.length()));
  }

  private static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }
}
