package io.nocopy.loadgen;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ./nocopy demo}: runs the relay as a child process once per engine under synthetic load,
 * prints progress each second and a side-by-side report, and exits non-zero if any listener
 * failed to verify its bytes or a run failed.
 */
public final class DemoMain {
  private DemoMain() {}

  /**
   * Runs the demo and exits the JVM with its status.
   *
   * @param args flags, see {@link DemoConfig#HELP}
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    System.exit(run(System.out, args));
  }

  /**
   * Runs the demo without exiting: the testable part of {@link #main}.
   *
   * @param out where progress and the report go
   * @param args flags, see {@link DemoConfig#HELP}
   * @return the exit status: 0 all verified, 1 integrity failed or a run failed, 2 bad flags
   * @throws InterruptedException if interrupted
   */
  public static int run(PrintStream out, String... args) throws InterruptedException {
    DemoConfig config;
    try {
      config = DemoConfig.parse(args);
    } catch (DemoConfig.HelpRequested e) {
      out.print(DemoConfig.HELP);
      return 0;
    } catch (IllegalArgumentException e) {
      out.println("nocopy demo: " + e.getMessage());
      return 2;
    }
    out.printf("nocopy demo: %d mounts x %d listeners at %s, %d s warm-up + %d s measured, engines %s%n",
        config.mounts(), config.listeners(), DemoReport.rate(config.bitsPerSecond()), config.warmupSeconds(),
        config.seconds(), String.join(", ", config.engines()));
    List<EngineResult> results = new ArrayList<>();
    for (String engine : config.engines()) {
      try {
        results.add(new DemoRun(config, engine, out).run());
      } catch (IOException e) {
        out.println("[" + engine + "] run failed: " + e.getMessage());
        results.add(new EngineResult(engine, "?", 0, 0, 0, 0, -1, 0, -1, new LatencyHistogram(), 0,
            config.mounts() * config.listeners(), 0, 0, List.of("run failed: " + e.getMessage())));
      }
    }
    out.println();
    out.print(DemoReport.render(config, results));
    boolean ok = results.stream().allMatch(EngineResult::ok);
    out.println(ok ? "every listener verified every byte it received." : "nocopy demo: integrity FAILED (see errors above)");
    return ok ? 0 : 1;
  }
}
