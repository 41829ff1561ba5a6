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
 * [--threads=1,2] [--forks=N] [--rounds=N] [--warmups=N] [--iterations=N] [--time=MILLIS]
 * [--verbose]}. {@code --rounds=N} repeats the whole matrix N times and reports medians, which
 * steadies the figures on a shared machine better than longer iterations do.
 * The default (48 trials of 2 + 3 iterations of 400 ms) finishes in about 2.5 minutes on two
 * cores; {@code --quick} in about 1.5, {@code --long} (3 + 5 iterations of 1 s) in about 7.
 * Longer runs give steadier figures on a shared, noisy machine.
 *
 * <p>Ownership: a command-line program; it owns nothing beyond the JMH forks it starts, which end
 * before it returns.
 */
public final class PoolComparison {
  private static final String BASELINE = PoolKind.NOCOPY_POOL.label();
  private static final String ALLOC_NORM = "gc.alloc.rate.norm";
  /** Below this, gc.alloc.rate.norm is JMH's own bookkeeping noise: "0 B/op". */
  private static final double ZERO_BYTES = 0.01;
  /** Cores used by other processes above which a two-thread miss is not judged. */
  private static final double BUSY_FOR_TWO_THREADS = 0.3;

  /** How long to wait for another JMH run on the machine to release JMH's lock. */
  private static final int LOCK_WAIT_MINUTES = 10;

  private PoolComparison() {}

  /** How long JMH measures: warm-up and measurement iterations, each {@code iterationMillis}. */
  record Settings(
      String name, int warmups, int iterations, int iterationMillis, int forks, int rounds,
      List<String> impls, List<String> sizes, List<Integer> threads, boolean verbose) {

    int trials() {
      return impls.size() * sizes.size() * threads.size() * forks * rounds;
    }

    /** Seconds, counting about 1.1 s per fork for JVM start and JMH setup. */
    long estimatedSeconds() {
      return Math.round(trials() * ((warmups + iterations) * iterationMillis / 1000.0 + 1.1));
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
        "nocopy pool comparison (%s): %d round(s), %d trials, about %d s; %d warm-up + %d measured"
            + " iterations of %d ms, %d fork(s) each%n",
        s.name(), s.rounds(), s.trials(), s.estimatedSeconds(), s.warmups(), s.iterations(),
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
    ProgressFormat format =
        new ProgressFormat(
            out,
            s.trials(),
            s.verbose() ? OutputFormatFactory.createFormatInstance(out, VerboseMode.NORMAL) : null);
    long start = System.nanoTime();
    // Rounds repeat the whole matrix, so that a burst of load from other processes hits one
    // round of every implementation rather than all rounds of one.
    List<RunResult> results = new ArrayList<>();
    for (int round = 0; round < s.rounds(); round++) {
      results.addAll(runWhenLockFree(opts, format, out));
    }
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
    out.println();
    out.print(report(results, format.otherLoad, s, seconds));
  }

  /**
   * Runs JMH, waiting (up to {@link #LOCK_WAIT_MINUTES} minutes) while another JMH run on this
   * machine holds JMH's global lock: on a shared machine two benchmark runs at once would spoil
   * both.
   */
  private static Collection<RunResult> runWhenLockFree(
      ChainedOptionsBuilder opts, OutputFormat format, PrintStream out) throws RunnerException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(LOCK_WAIT_MINUTES);
    boolean told = false;
    while (true) {
      try {
        return new Runner(opts.build(), format).run();
      } catch (RunnerException e) {
        String m = String.valueOf(e.getMessage());
        if (!m.contains("JMH lock") || System.nanoTime() > deadline) {
          throw e;
        }
        if (!told) {
          out.println("another JMH run holds /tmp/jmh.lock; waiting for it to finish ...");
          told = true;
        }
        try {
          Thread.sleep(2000);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
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
    int millis = 400;
    int forks = 1;
    int rounds = 1;
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
        millis = 300;
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
      } else if (a.startsWith("--rounds=")) {
        rounds = Integer.parseInt(a.substring("--rounds=".length()));
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
                + "                      [--threads=1,2] [--forks=N] [--rounds=N] [--warmups=N]\n"
                + "                      [--iterations=N] [--time=MILLIS per iteration] [--verbose]\n"
                + "implementations: " + String.join(", ", impls));
        return null;
      } else {
        throw new IllegalArgumentException("unknown argument '" + a + "' (try --help)");
      }
    }
    if (rounds < 1 || forks < 1 || iterations < 1 || warmups < 0 || millis < 1) {
      throw new IllegalArgumentException("rounds, forks, iterations and time must be positive");
    }
    return new Settings(
        name, warmups, iterations, millis, forks, rounds, impls, sizes, threads, verbose);
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

  /**
   * One (implementation, size) row: one-thread and two-thread measurements of every round, either
   * may be absent. Scores are the median over rounds of JMH's per-trial mean; B/op the largest
   * seen in any round.
   */
  static final class Row {
    final String impl;
    final int size;
    final List<Double> oneScores = new ArrayList<>();
    final List<Double> twoScores = new ArrayList<>();
    double oneMin = Double.NaN;
    double oneMax = Double.NaN;
    double oneBytes = Double.NaN;
    double twoBytes = Double.NaN;
    double oneOpsPerUs = Double.NaN;
    double twoOpsPerUs = Double.NaN;
    double oneLoad = Double.NaN;
    double twoLoad = Double.NaN;

    Row(String impl, int size) {
      this.impl = impl;
      this.size = size;
    }

    void add(int threads, Result<?> primary, double bytes) {
      if (threads == 1) {
        oneScores.add(primary.getScore());
        oneMin = Double.isNaN(oneMin) ? primary.getStatistics().getMin()
            : Math.min(oneMin, primary.getStatistics().getMin());
        oneMax = Double.isNaN(oneMax) ? primary.getStatistics().getMax()
            : Math.max(oneMax, primary.getStatistics().getMax());
        oneBytes = Double.isNaN(oneBytes) ? bytes : Math.max(oneBytes, bytes);
        oneOpsPerUs = median(oneScores);
      } else {
        twoScores.add(primary.getScore());
        twoBytes = Double.isNaN(twoBytes) ? bytes : Math.max(twoBytes, bytes);
        twoOpsPerUs = median(twoScores);
      }
    }

    private static double median(List<Double> values) {
      List<Double> v = new ArrayList<>(values);
      v.sort(null);
      int n = v.size();
      return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }

    double oneNs() {
      return 1000.0 / oneOpsPerUs;
    }

    /** ns/op of the fastest measured iteration: the one least disturbed by other processes. */
    double bestNs() {
      return 1000.0 / oneMax;
    }

    double worstNs() {
      return 1000.0 / oneMin;
    }

    double scaling() {
      return twoOpsPerUs / oneOpsPerUs;
    }
  }

  /** Builds the Markdown report from JMH's results: nothing in it is typed in by hand. */
  static String report(
      List<RunResult> results, Map<String, List<Double>> otherLoad, Settings s, long seconds) {
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
      Result<?> alloc = rr.getSecondaryResults().get(ALLOC_NORM);
      row.add(p.getThreads(), rr.getPrimaryResult(), alloc == null ? Double.NaN : alloc.getScore());
    }
    for (Row row : rows.values()) {
      row.oneLoad = mean(otherLoad.get(trialKey(row.impl, String.valueOf(row.size), 1)));
      row.twoLoad = mean(otherLoad.get(trialKey(row.impl, String.valueOf(row.size), 2)));
    }
    StringBuilder md = new StringBuilder();
    md.append("## Pool acquire+release: nocopy vs peers\n\n");
    md.append(String.format(Locale.ROOT,
        "%s, %d cores, JDK %s (%s), JMH %s mode: %d round(s) of %d warm-up + %d x %d ms"
            + " iterations, %d fork(s), -prof gc; took %d s.%n%n",
        ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z")),
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
        System.getProperty("java.vm.name"), s.name(), s.rounds(), s.warmups(), s.iterations(),
        s.iterationMillis(), s.forks(), seconds));
    md.append("| implementation | size | ns/op 1T | best-worst iteration | B/op 1T | 1T time vs nocopy-pool"
        + " | ops/µs 2T | B/op 2T | 2T/1T | other load 1T/2T |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows.values()) {
      Row base = rows.get(BASELINE + "/" + r.size);
      md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s/%s |%n",
          r.impl, sizeLabel(r.size), num(r.oneNs(), 1), range(r.bestNs(), r.worstNs()),
          bytes(r.oneBytes), ratio(r.oneNs() / base.oneNs()), num(r.twoOpsPerUs, 1),
          bytes(r.twoBytes), ratio(r.scaling()), num(r.oneLoad, 2), num(r.twoLoad, 2)));
    }
    md.append("\nns/op 1T = 1000 / one-thread throughput (JMH's score; with several rounds the"
        + " median of the rounds' scores); best-worst = ns/op of the fastest and slowest measured"
        + " iteration of any round (on a shared machine the spread is mostly other processes);"
        + " B/op = the largest of the rounds. \"time vs nocopy-pool\" > 1 means slower than nocopy's"
        + " BlockPool. 2T = two threads on one shared pool, total throughput; 2T/1T is the"
        + " scaling. nocopy rounds sizes up to its tier (256 B -> 512 B MICRO, 2 KiB SMALL,"
        + " 16 KiB -> 32 KiB BIG); the peers hand out exactly the size. other load = cores"
        + " busy with other processes during the trial (from /proc/stat; 2 cores in all): a"
        + " two-thread trial needs both cores, so any load above about 0.2 there depresses 2T/1T.\n");
    md.append(targets(rows, s));
    return md.toString();
  }

  /** The targets, checked against the measured rows. */
  private static String targets(Map<String, Row> rows, Settings s) {
    StringBuilder t = new StringBuilder("\n### Targets\n\n");
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
          checks.add(verdict(r.oneNs() <= 15.0, String.format(Locale.ROOT,
              "%.1f ns/op <= 15 (best iteration %.1f)", r.oneNs(), r.bestNs())));
          if (n != null && !Double.isNaN(n.oneOpsPerUs)) {
            double x = n.oneNs() / r.oneNs();
            checks.add(verdict(x >= 2.0, String.format(Locale.ROOT, "%.2fx faster than %s >= 2x", x, netty)));
          }
        }
        if (!Double.isNaN(r.twoOpsPerUs) && !Double.isNaN(r.oneOpsPerUs)) {
          String what = String.format(Locale.ROOT, "2 threads = %.2fx 1 thread >= 1.5x", r.scaling());
          if (r.scaling() < 1.5 && r.twoLoad > BUSY_FOR_TWO_THREADS) {
            // Two threads need both cores: a miss while others used them says nothing.
            checks.add(String.format(Locale.ROOT,
                "NOT JUDGED %s (other processes used %.2f of the cores meanwhile)", what, r.twoLoad));
          } else {
            checks.add(verdict(r.scaling() >= 1.5, what));
          }
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

  private static double mean(List<Double> values) {
    if (values == null) {
      return Double.NaN;
    }
    double sum = 0;
    int n = 0;
    for (double v : values) {
      if (!Double.isNaN(v)) {
        sum += v;
        n++;
      }
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  static String trialKey(String impl, String size, int threads) {
    return impl + "/" + size + "/" + threads;
  }

  private static String range(double best, double worst) {
    return Double.isNaN(best) ? "-" : String.format(Locale.ROOT, "%.1f-%.1f", best, worst);
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

  /**
   * Records how loaded the machine was during each trial and prints one line per finished trial,
   * or, with a {@code delegate} (--verbose), passes everything on to JMH's own format.
   */
  static final class ProgressFormat implements OutputFormat {
    private final PrintStream out;
    private final int total;
    private final OutputFormat delegate;
    /** Cores used by other processes, per {@link #trialKey} and round. */
    final Map<String, List<Double>> otherLoad = new LinkedHashMap<>();
    private MachineLoad started;
    private int done;

    ProgressFormat(PrintStream out, int total, OutputFormat delegate) {
      this.out = out;
      this.total = total;
      this.delegate = delegate;
    }

    @Override
    public void startBenchmark(BenchmarkParams b) {
      started = MachineLoad.now();
      if (delegate != null) {
        delegate.startBenchmark(b);
      }
    }

    @Override
    public void endBenchmark(BenchmarkResult result) {
      double other = started == null ? Double.NaN : MachineLoad.now().otherCoresSince(started);
      done++;
      BenchmarkParams p = result.getParams();
      otherLoad
          .computeIfAbsent(trialKey(p.getParam("impl"), p.getParam("size"), p.getThreads()), k -> new ArrayList<>())
          .add(other);
      if (delegate != null) {
        delegate.endBenchmark(result);
        return;
      }
      Result<?> r = result.getPrimaryResult();
      out.printf(Locale.ROOT, "[%d/%d] %-16s %6s B, %d thread(s): %.1f %s (other load %.2f cores)%n",
          done, total, p.getParam("impl"), p.getParam("size"), p.getThreads(), r.getScore(),
          r.getScoreUnit(), other);
      out.flush();
    }

    @Override
    public void println(String s) {
      if (delegate != null) {
        delegate.println(s);
      } else if (s.contains("ERROR") || s.contains("Exception")) {
        out.println(s); // errors also end the run with an exception
      }
    }

    @Override
    public void iteration(BenchmarkParams b, IterationParams i, int n) {
      if (delegate != null) {
        delegate.iteration(b, i, n);
      }
    }

    @Override
    public void iterationResult(BenchmarkParams b, IterationParams i, int n, IterationResult r) {
      if (delegate != null) {
        delegate.iterationResult(b, i, n, r);
      }
    }

    @Override
    public void startRun() {
      if (delegate != null) {
        delegate.startRun();
      }
    }

    @Override
    public void endRun(Collection<RunResult> results) {
      if (delegate != null) {
        delegate.endRun(results);
      }
    }

    @Override
    public void print(String s) {
      if (delegate != null) {
        delegate.print(s);
      }
    }

    @Override
    public void flush() {
      out.flush();
    }

    @Override
    public void close() {
      if (delegate != null) {
        delegate.close();
      }
    }

    @Override
    public void verbosePrintln(String s) {
      if (delegate != null) {
        delegate.verbosePrintln(s);
      }
    }

    @Override
    public void write(int b) {
      if (delegate != null) {
        delegate.write(b);
      }
    }

    @Override
    public void write(byte[] b) throws IOException {
      if (delegate != null) {
        delegate.write(b);
      }
    }
  }
}
