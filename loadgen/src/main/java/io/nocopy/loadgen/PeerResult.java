package io.nocopy.loadgen;

import java.util.List;
import java.util.Locale;

/**
 * What one {@link PeerLoad} run measured. Immutable (the histogram is no longer written).
 *
 * @param config what ran
 * @param windowNanos the measured window
 * @param deliveredBytes bytes all listeners received in the window
 * @param cpuNanos the relay's CPU time in the window, from /proc
 * @param allocatedBytes the relay's heap allocation in the window, -1 if it does not say
 * @param gcCount the relay's collections in the window, -1 if it does not say
 * @param peakRssBytes the relay's peak resident memory over its life
 * @param latency delivery latencies in the window, all listeners
 * @param clean listeners whose bytes had no corruption, gap or early drop
 * @param complete clean listeners that also received up to the source's last frame
 * @param connectedAtEnd listeners still connected when the window ended
 * @param errors the first problems, one line each
 * @param loadCpuNanos CPU time of the load generator's listeners in the window (apart from the
 *     relay's)
 */
public record PeerResult(PeerLoadConfig config, long windowNanos, long deliveredBytes, long cpuNanos,
    long allocatedBytes, long gcCount, long peakRssBytes, LatencyHistogram latency, int clean, int complete,
    int connectedAtEnd, List<String> errors, long loadCpuNanos) {

  /** Copies the list. */
  public PeerResult {
    errors = List.copyOf(errors);
  }

  /** @return relay CPU seconds per delivered GB (10^9 bytes), NaN if nothing was delivered */
  public double cpuSecondsPerGb() {
    return deliveredBytes <= 0 ? Double.NaN : cpuNanos / (double) deliveredBytes;
  }

  /** @return delivered MB (10^6) per second over all listeners */
  public double deliveredMBps() {
    return deliveredBytes * 1e3 / windowNanos;
  }

  /**
   * The line the benchmark script collects: {@code ROW}, then tab-separated: name, listeners, rate,
   * delivered MB/s, Mbit/s per listener, CPU s/GB, relay CPU %, peak RSS MB, GC count, allocated
   * MB, p50 ms, p99 ms, integrity, notes, load generator CPU %.
   *
   * @return the line
   */
  public String row() {
    PeerLoadConfig c = config;
    return String.join("\t", "ROW", c.name(), Integer.toString(c.listeners()), c.rateLabel(),
        f("%.1f", deliveredMBps()), f("%.2f", deliveredMBps() * 8 / c.listeners()), f("%.2f", cpuSecondsPerGb()),
        f("%.0f", 100.0 * cpuNanos / windowNanos), f("%.0f", peakRssBytes / 1048576.0),
        gcCount < 0 ? "n/a" : Long.toString(gcCount),
        allocatedBytes < 0 ? "n/a" : f("%.1f", allocatedBytes / 1048576.0),
        ms(latency.percentile(0.50)), ms(latency.percentile(0.99)),
        clean + "/" + c.listeners() + " clean, " + complete + " to the end",
        errors.isEmpty() ? "" : errors.get(0).replace('\t', ' ').replace('\n', ' '),
        f("%.0f", 100.0 * loadCpuNanos / windowNanos));
  }

  /** @return a human summary of several lines */
  public String summary() {
    StringBuilder b = new StringBuilder();
    b.append(f("[%s] %d listeners at %s: %.1f MB/s delivered, relay %.2f CPU s/GB, peak RSS %.0f MB, GC %s,"
            + " allocated %s, latency p50 %s ms p99 %s ms, %d/%d clean (%d to the end, %d connected at the end"
            + " of the window); the listeners' own CPU %.0f %%", config.name(), config.listeners(), config.rateLabel(), deliveredMBps(),
        cpuSecondsPerGb(), peakRssBytes / 1048576.0, gcCount < 0 ? "n/a" : Long.toString(gcCount),
        allocatedBytes < 0 ? "n/a" : f("%.1f MB", allocatedBytes / 1048576.0), ms(latency.percentile(0.5)),
        ms(latency.percentile(0.99)), clean, config.listeners(), complete, connectedAtEnd,
        100.0 * loadCpuNanos / windowNanos));
    for (String e : errors) {
      b.append('\n').append("  ").append(e);
    }
    return b.toString();
  }

  /**
   * The {@code ROW} line of a run that could not be done.
   *
   * @param c what was to run
   * @param why the reason
   * @return the line, "-" in every measured field
   */
  static String failedRow(PeerLoadConfig c, String why) {
    return String.join("\t", "ROW", c.name(), Integer.toString(c.listeners()), c.rateLabel(), "-", "-", "-", "-",
        "-", "-", "-", "-", "-", "run failed", why.replace('\t', ' ').replace('\n', ' '), "-");
  }

  private static String ms(long nanos) {
    return nanos < 0 ? "-" : f("%.1f", nanos / 1e6);
  }

  private static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }
}
