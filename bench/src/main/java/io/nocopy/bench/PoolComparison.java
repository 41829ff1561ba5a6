package io.nocopy.bench;

import io.nocopy.bench.memory.AcquireReleaseBenchmark;
import io.nocopy.bench.memory.BenchFlags;
import io.nocopy.bench.memory.PoolKind;
import java.io.IOException;
import java.io.PrintStream;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormat;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * The memory layer's comparison with its peers, and the project's main job until the relay
 * exists ({@code ./nocopy pools}). Runs {@link AcquireReleaseBenchmark} (one thread and two
 * threads, every implementation of {@link PoolKind}, 256 B / 2 KiB / 16 KiB) through JMH with the
 * GC profiler, then prints a Markdown table computed from JMH's results: ns/op and B/op on one
 * thread, the ratio to nocopy, two-thread throughput and its scaling, and whether the issue's
 * targets hold.
 *
 * <p>Usage: {@code PoolComparison [--quick | --long] [--impls=a,b] [--sizes=256,2048]
 * [--threads=1,2] [--forks=N] [--verbose]}. The default finishes in about 2.5 minutes on two
 * cores; {@code --quick} in about 1.5, {@code --long} takes about 15 (the machine is shared and
 * noisy: longer runs give tighter error bars).
 *
 * <p>Ownership: a command-line program; it owns nothing beyond the JMH forks it starts, which end
 * before it returns.
 */
public final class PoolComparison {
  private static final String BASELINE = PoolKind.NOCOPY_POOL.label();
  private static final String ALLOC_NORM = "gc.alloc.rate.norm";
  /** Below this, gc.alloc.rate.norm is JMH's own bookkeeping noise: "0 B/op". */
  private static final double ZERO_BYTES = 0.01;

  private PoolComparison() {}

  /** How long JMH measures: warm-up and measurement iterations, each {@code iterationMillis}. */
  record Settings(
      String name, int warmups, int iterations, int iterationMillis, int forks,
      List<String> impls, List<String> sizes, List<Integer> threads, boolean verbose) {

    int trials() {
      return impls.size() * sizes.size() * threads.size() * forks;
    }

    /** Seconds, counting about 1.2 s per fork for JVM start and JMH setup. */
    long estimatedSeconds() {
      return Math.round(trials() * ((warmups + iterations) * iterationMillis / 1000.0 + 1.2));
    }
  }

  /**
   * Runs the comparison and prints the table to standard output.
   *
   * @param args see the class comment; {@code --help} prints them
   * @throws RunnerException if JMH fails
   */
  public static void main(String[] args) throws RunnerException {
    Settings s = parse(args);
    if (s == null) {
      return;
    }
    PrintStream out = System.out;
    out.printf(
        "nocopy pool comparison (%s): %d trials, about %d s; %d warm-up + %d measured iterations"
            + " of %d ms, %d fork(s) each%n",
        s.name(), s.trials(), s.estimatedSeconds(), s.warmups(), s.iterations(),
        s.iterationMillis(), s.forks());
    ChainedOptionsBuilder opts =
        new OptionsBuilder()
            .include(benchmarkRegex(s.threads()))
            .param("impl", s.impls().toArray(String[]::new))
            .param("size", s.sizes().toArray(String[]::new))
            .warmupIterations(s.warmups())
            .warmupTime(TimeValue.milliseconds(s.iterationMillis()))
            .measurementIterations(s.iterations())
            .measurementTime(TimeValue.milliseconds(s.iterationMillis()))
            .forks(s.forks())
            .jvmArgsAppend(BenchFlags.all())
            .addProfiler(GCProfiler.class)
            .shouldFailOnError(true);
    OutputFormat format =
        s.verbose()
            ? OutputFormatFactory.createFormatInstance(out, VerboseMode.NORMAL)
            : new ProgressFormat(out, s.trials());
    long start = System.nanoTime();
    Collection<RunResult> results = new Runner(opts.build(), format).run();
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
    out.println();
    out.print(report(results, s, seconds));
  }

  private static String benchmarkRegex(List<Integer> threads) {
    List<String> methods = new ArrayList<>();
    if (threads.contains(1)) {
      methods.add("oneThread");
    }
    if (threads.contains(2)) {
      methods.add("twoThreads");
    }
    return "^" + AcquireReleaseBenchmark.class.getName().replace(".", "\\.")
        + "\\.(" + String.join("|", methods) + ")$";
  }

  static Settings parse(String[] args) {
    String name = "default";
    int warmups = 2;
    int iterations = 3;
    int millis = 500;
    int forks = 1;
    List<String> impls = new ArrayList<>();
    for (PoolKind k : PoolKind.values()) {
      impls.add(k.label());
    }
    List<String> sizes = List.of("256", "2048", "16384");
    List<Integer> threads = List.of(1, 2);
    boolean verbose = false;
    for (String a : args) {
      if (a.equals("--quick")) {
        name = "quick";
        warmups = 1;
        iterations = 2;
        millis = 400;
      } else if (a.equals("--long")) {
        name = "long";
        warmups = 3;
        iterations = 5;
        millis = 1000;
      } else if (a.startsWith("--impls=")) {
        impls = split(a);
        for (String i : impls) {
          PoolKind.of(i); // fails early on a typo
        }
        if (!impls.contains(BASELINE)) {
          impls.add(0, BASELINE); // every ratio needs the baseline
        }
      } else if (a.startsWith("--sizes=")) {
        sizes = split(a);
        for (String z : sizes) {
          Integer.parseInt(z);
        }
      } else if (a.startsWith("--threads=")) {
        threads = split(a).stream().map(Integer::valueOf).toList();
        if (threads.isEmpty() || !List.of(1, 2).containsAll(threads)) {
          throw new IllegalArgumentException("--threads takes 1, 2 or 1,2");
        }
      } else if (a.startsWith("--forks=")) {
        forks = Integer.parseInt(a.substring("--forks=".length()));
      } else if (a.startsWith("--iterations=")) {
        iterations = Integer.parseInt(a.substring("--iterations=".length()));
      } else if (a.startsWith("--warmups=")) {
        warmups = Integer.parseInt(a.substring("--warmups=".length()));
      } else if (a.startsWith("--time=")) {
        millis = Integer.parseInt(a.substring("--time=".length()));
      } else if (a.equals("--verbose")) {
        verbose = true;
      } else if (a.equals("--help") || a.equals("-h")) {
        System.out.println(
            "usage: PoolComparison [--quick | --long] [--impls=a,b,...] [--sizes=256,2048,16384]\n"
                + "                      [--threads=1,2] [--forks=N] [--warmups=N] [--iterations=N]\n"
                + "                      [--time=MILLIS per iteration] [--verbose]\n"
                + "implementations: " + String.join(", ", impls));
        return null;
      } else {
        throw new IllegalArgumentException("unknown argument '" + a + "' (try --help)");
      }
    }
    return new Settings(name, warmups, iterations, millis, forks, impls, sizes, threads, verbose);
  }

  private static List<String> split(String arg) {
    List<String> out = new ArrayList<>();
    for (String p : arg.substring(arg.indexOf('=') + 1).split(",")) {
      if (!p.isBlank()) {
        out.add(p.trim());
      }
    }
    return out;
  }

  /** One (implementation, size) row: one-thread and two-thread measurements, either may be absent. */
  static final class Row {
    final String impl;
    final int size;
    double oneOpsPerUs = Double.NaN;
    double oneErr = Double.NaN;
    double oneBytes = Double.NaN;
    double twoOpsPerUs = Double.NaN;
    double twoErr = Double.NaN;
    double twoBytes = Double.NaN;

    Row(String impl, int size) {
      this.impl = impl;
      this.size = size;
    }

    double oneNs() {
      return 1000.0 / oneOpsPerUs;
    }

    double scaling() {
      return twoOpsPerUs / oneOpsPerUs;
    }
  }

  /** Builds the Markdown report from JMH's results: nothing in it is typed in by hand. */
  static String report(Collection<RunResult> results, Settings s, long seconds) {
    Map<String, Row> rows = new LinkedHashMap<>();
    for (String impl : s.impls()) {
      for (String size : s.sizes()) {
        rows.put(impl + "/" + size, new Row(impl, Integer.parseInt(size)));
      }
    }
    for (RunResult rr : results) {
      BenchmarkParams p = rr.getParams();
      Row row = rows.get(p.getParam("impl") + "/" + p.getParam("size"));
      if (row == null) {
        continue;
      }
      Result<?> primary = rr.getPrimaryResult();
      Result<?> alloc = rr.getSecondaryResults().get(ALLOC_NORM);
      double bytes = alloc == null ? Double.NaN : alloc.getScore();
      if (p.getThreads() == 1) {
        row.oneOpsPerUs = primary.getScore();
        row.oneErr = primary.getScoreError();
        row.oneBytes = bytes;
      } else {
        row.twoOpsPerUs = primary.getScore();
        row.twoErr = primary.getScoreError();
        row.twoBytes = bytes;
      }
    }
    StringBuilder md = new StringBuilder();
    md.append("## Pool acquire+release: nocopy vs peers\n\n");
    md.append(String.format(Locale.ROOT,
        "%s, %d cores, JDK %s (%s), JMH %s mode: %d warm-up + %d x %d ms iterations, %d fork(s),"
            + " -prof gc; took %d s.%n%n",
        ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z")),
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
        System.getProperty("java.vm.name"), s.name(), s.warmups(), s.iterations(),
        s.iterationMillis(), s.forks(), seconds));
    md.append("| implementation | size | ns/op 1T | ±% | B/op 1T | 1T time vs nocopy-pool"
        + " | ops/µs 2T | B/op 2T | 2T/1T |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows.values()) {
      Row base = rows.get(BASELINE + "/" + r.size);
      md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
          r.impl, sizeLabel(r.size), num(r.oneNs(), 1), pct(r.oneErr, r.oneOpsPerUs),
          bytes(r.oneBytes), ratio(r.oneNs() / base.oneNs()), num(r.twoOpsPerUs, 1),
          bytes(r.twoBytes), ratio(r.scaling())));
    }
    md.append("\nns/op 1T = 1000 / one-thread throughput; ±% = JMH's 99.9% error over the"
        + " measured iterations. \"time vs nocopy-pool\" > 1 means slower than nocopy's"
        + " BlockPool. 2T = two threads on one shared pool, total throughput; 2T/1T is the"
        + " scaling. nocopy rounds sizes up to its tier (256 B -> 512 B MICRO, 2 KiB SMALL,"
        + " 16 KiB -> 32 KiB BIG); the peers hand out exactly the size.\n");
    md.append(targets(rows, s));
    return md.toString();
  }

  /** The targets, checked against the measured rows. */
  private static String targets(Map<String, Row> rows, Settings s) {
    StringBuilder t = new StringBuilder("\n### Targets (issue 2)\n\n");
    String netty = PoolKind.NETTY_POOLED.label();
    for (String nocopy : List.of(BASELINE, PoolKind.NOCOPY_ALLOCATOR.label())) {
      if (!s.impls().contains(nocopy)) {
        continue;
      }
      for (String size : s.sizes()) {
        Row r = rows.get(nocopy + "/" + size);
        Row n = rows.get(netty + "/" + size);
        List<String> checks = new ArrayList<>();
        if (!Double.isNaN(r.oneOpsPerUs)) {
          boolean zero = r.oneBytes < ZERO_BYTES && (Double.isNaN(r.twoBytes) || r.twoBytes < ZERO_BYTES);
          checks.add(verdict(zero, "0 B/op"));
          checks.add(verdict(r.oneNs() <= 15.0, String.format(Locale.ROOT, "%.1f ns/op <= 15", r.oneNs())));
          if (n != null && !Double.isNaN(n.oneOpsPerUs)) {
            double x = n.oneNs() / r.oneNs();
            checks.add(verdict(x >= 2.0, String.format(Locale.ROOT, "%.2fx faster than %s >= 2x", x, netty)));
          }
        }
        if (!Double.isNaN(r.twoOpsPerUs) && !Double.isNaN(r.oneOpsPerUs)) {
          checks.add(verdict(r.scaling() >= 1.5,
              String.format(Locale.ROOT, "2 threads = %.2fx 1 thread >= 1.5x", r.scaling())));
        }
        t.append("- ").append(nocopy).append(' ').append(sizeLabel(Integer.parseInt(size)))
            .append(": ").append(String.join("; ", checks)).append('\n');
      }
    }
    return t.toString();
  }

  private static String verdict(boolean ok, String what) {
    return (ok ? "MET " : "MISSED ") + what;
  }

  private static String sizeLabel(int size) {
    return size >= 1024 && size % 1024 == 0 ? (size / 1024) + " KiB" : size + " B";
  }

  private static String num(double v, int decimals) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  private static String pct(double err, double score) {
    return Double.isNaN(err) || Double.isNaN(score) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * err / score);
  }

  private static String bytes(double v) {
    if (Double.isNaN(v)) {
      return "-";
    }
    return v < ZERO_BYTES ? "0" : String.format(Locale.ROOT, v < 10 ? "%.2f" : "%.0f", v);
  }

  private static String ratio(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
  }

  /** Prints one line per finished trial instead of JMH's per-iteration log. */
  static final class ProgressFormat implements OutputFormat {
    private final PrintStream out;
    private final int total;
    private int done;

    ProgressFormat(PrintStream out, int total) {
      this.out = out;
      this.total = total;
    }

    @Override
    public void endBenchmark(BenchmarkResult result) {
      done++;
      BenchmarkParams p = result.getParams();
      Result<?> r = result.getPrimaryResult();
      out.printf(Locale.ROOT, "[%d/%d] %-16s %6s B, %d thread(s): %.1f %s%n", done, total,
          p.getParam("impl"), p.getParam("size"), p.getThreads(), r.getScore(), r.getScoreUnit());
      out.flush();
    }

    @Override
    public void println(String s) {
      // JMH's status and warning lines: errors still reach us through the run's exception.
      if (s.contains("ERROR") || s.contains("Exception")) {
        out.println(s);
      }
    }

    @Override
    public void iteration(BenchmarkParams b, IterationParams i, int n) {}

    @Override
    public void iterationResult(BenchmarkParams b, IterationParams i, int n, IterationResult r) {}

    @Override
    public void startBenchmark(BenchmarkParams b) {}

    @Override
    public void startRun() {}

    @Override
    public void endRun(Collection<RunResult> results) {}

    @Override
    public void print(String s) {}

    @Override
    public void flush() {
      out.flush();
    }

    @Override
    public void close() {}

    @Override
    public void verbosePrintln(String s) {}

    @Override
    public void write(int b) {}

    @Override
    public void write(byte[] b) throws IOException {}
  }
}
