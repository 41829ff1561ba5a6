package io.nocopy.loadgen;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One run of the demo with one engine: a fresh relay process, the synthetic sources, the
 * listeners, warm-up, the measured window with a progress line each second, then an orderly stop
 * (sources end their streams; every listener must then have verified everything up to its
 * source's last frame). Everything it starts is closed before {@link #run} returns.
 */
final class DemoRun {
  private final DemoConfig config;
  private final String engine;
  private final PrintStream out;
  private volatile boolean measuring;
  private volatile boolean stopping;
  private boolean skipFrame;

  DemoRun(DemoConfig config, String engine, PrintStream out) {
    this.config = config;
    this.engine = engine;
    this.out = out;
  }

  /**
   * Fault injection for tests: when measuring starts, every source leaves out one frame.
   *
   * @return this
   */
  DemoRun skippingFrame() {
    skipFrame = true;
    return this;
  }

  /**
   * Runs it.
   *
   * @return the measurements
   * @throws IOException if the relay cannot be started or stops answering; the message says why
   * @throws InterruptedException if interrupted
   */
  EngineResult run() throws IOException, InterruptedException {
    int total = config.mounts() * config.listeners();
    List<String> errors = new ArrayList<>();
    List<SyntheticSource> sources = new ArrayList<>();
    List<SyntheticListener> listeners = new ArrayList<>();
    try (RelayProcess relay = RelayProcess.start(engine, total + 16)) {
      try {
        for (int m = 1; m <= config.mounts(); m++) {
          SyntheticSource s =
              SyntheticSource.connect(relay.address(), "/mount" + m, relay.password(), config.bytesPerSecond());
          sources.add(s);
          s.start();
        }
        String used = relay.stats().engine();
        List<String> mountEngines = relay.mountEngines();
        // e.g. some mounts fell back to another engine (the mounts name it without io_uring)
        if (!mountEngines.equals(List.of(used.replace("-uring", "")))) {
          used = used + " (mounts: " + String.join(", ", mountEngines) + ")";
        }
        out.printf(Locale.ROOT, "[%s] relay pid %d on %s:%d: engine requested %s, used %s%s%n", engine,
            relay.pid(), relay.address().getHostString(), relay.address().getPort(), engine, used,
            used.equals(engine) || engine.equals("auto") ? "" : "  <- NOT the engine requested");
        for (SyntheticSource s : sources) {
          for (int l = 0; l < config.listeners(); l++) {
            SyntheticListener li =
                new SyntheticListener(relay.address(), s.mount, () -> measuring, () -> stopping, config.icy(l));
            listeners.add(li);
            li.start();
          }
        }
        awaitConnected(listeners, 15_000);

        long start = System.nanoTime();
        progress(relay, listeners, start, config.warmupSeconds(), "warm-up");
        RelayProcess.Stats a = relay.stats();
        long deliveredA = received(listeners);
        long tA = System.nanoTime();
        measuring = true;
        for (SyntheticSource s : skipFrame ? sources : List.<SyntheticSource>of()) {
          s.skipNextFrame();
        }
        progress(relay, listeners, start, config.warmupSeconds() + config.seconds(), "measuring");
        measuring = false;
        long tB = System.nanoTime();
        long deliveredB = received(listeners);
        RelayProcess.Stats b = relay.stats();
        long peak = relay.peakRssBytes();
        if (peak < 0) {
          peak = Math.max(a.rssBytes(), b.rssBytes());
        }
        stop(sources, listeners, errors);

        LatencyHistogram latency = new LatencyHistogram();
        int verified = 0;
        long frames = 0;
        long totalBytes = 0;
        int stalls = 0;
        for (SyntheticSource s : sources) {
          stalls += s.stalls();
          if (s.failure() != null) {
            errors.add(s.failure());
          }
        }
        for (int i = 0; i < listeners.size(); i++) {
          SyntheticListener li = listeners.get(i);
          SyntheticSource s = sources.get(i / config.listeners());
          latency.add(li.latency);
          frames += li.verifier.framesVerified();
          totalBytes += li.verifier.bytes();
          String why = verdict(li, s);
          if (why == null) {
            verified++;
          } else if (errors.size() < 20) {
            errors.add("listener " + (i % config.listeners() + 1) + " of " + li.mount + ": " + why);
          }
        }
        return new EngineResult(engine, used, tB - tA, deliveredB - deliveredA, totalBytes,
            b.cpuNanos() - a.cpuNanos(),
            a.allocatedBytes() < 0 || b.allocatedBytes() < 0 ? -1 : b.allocatedBytes() - a.allocatedBytes(),
            b.gcCount() - a.gcCount(), peak, latency, verified, total, frames, stalls, errors);
      } finally {
        stopping = true;
        for (SyntheticSource s : sources) {
          closeQuietly(s);
        }
        for (SyntheticListener li : listeners) {
          closeQuietly(li);
        }
        for (SyntheticListener li : listeners) {
          li.awaitEnd(5_000);
        }
      }
    }
  }

  /** Why a finished listener does not count as verified, or null if it does. */
  private static String verdict(SyntheticListener li, SyntheticSource s) {
    if (li.failure() != null) {
      return li.failure();
    }
    FrameVerifier v = li.verifier;
    if (v.failure() != null) {
      return v.failure();
    }
    if (v.framesVerified() == 0) {
      return "no complete frame received";
    }
    long last = s.lastSeq();
    if (v.lastSeq() != last || v.partialBytes() != 0) {
      return "stream ended at frame " + v.lastSeq() + " + " + v.partialBytes() + " bytes, the source's last was frame "
          + last;
    }
    return null;
  }

  private void awaitConnected(List<SyntheticListener> listeners, long millis) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (true) {
      int up = 0;
      for (SyntheticListener li : listeners) {
        if (li.failure() != null) {
          throw new IOException("listener on " + li.mount + " failed to connect: " + li.failure());
        }
        if (li.connected()) {
          up++;
        }
      }
      if (up == listeners.size()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("only " + up + " of " + listeners.size() + " listeners connected within " + millis + " ms");
      }
      Thread.sleep(20);
    }
  }

  /** Prints a progress line each second until {@code untilSecond} seconds after {@code start}. */
  private void progress(RelayProcess relay, List<SyntheticListener> listeners, long start, int untilSecond,
      String phase) throws IOException, InterruptedException {
    long lastCpu = relay.procCpuNanos();
    long lastT = System.nanoTime();
    for (int sec = (int) ((lastT - start) / 1_000_000_000L) + 1; sec <= untilSecond; sec++) {
      long wake = start + sec * 1_000_000_000L;
      for (long now; (now = System.nanoTime()) < wake; ) {
        Thread.sleep(Math.max(1, (wake - now) / 1_000_000L));
      }
      if (!relay.alive()) {
        throw new IOException("the relay process exited during the run:\n" + relay.logTail(20));
      }
      long cpu = relay.procCpuNanos();
      long t = System.nanoTime();
      int up = 0;
      for (SyntheticListener li : listeners) {
        if (li.connected()) {
          up++;
        }
      }
      String cpuText = cpu < 0 || lastCpu < 0 ? "?" : String.format(Locale.ROOT, "%.0f%%", 100.0 * (cpu - lastCpu) / (t - lastT));
      out.printf(Locale.ROOT, "[%s] %3ds %-9s delivered %9.1f MB  listeners %d/%d  relay CPU %s%n", engine, sec, phase,
          received(listeners) / 1e6, up, listeners.size(), cpuText);
      lastCpu = cpu;
      lastT = t;
    }
  }

  /** Ends every source at a frame boundary, then gives each listener 5 s to see the end. */
  private void stop(List<SyntheticSource> sources, List<SyntheticListener> listeners, List<String> errors)
      throws InterruptedException {
    stopping = true;
    for (SyntheticSource s : sources) {
      closeQuietly(s);
    }
    long deadline = System.nanoTime() + 5_000_000_000L;
    for (SyntheticListener li : listeners) {
      long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000L);
      if (!li.awaitEnd(left)) {
        closeQuietly(li);
        li.awaitEnd(1_000);
        if (errors.size() < 20) {
          errors.add("listener on " + li.mount + " did not see the end of its stream within 5 s of its source stopping");
        }
      }
    }
  }

  private static long received(List<SyntheticListener> listeners) {
    long n = 0;
    for (SyntheticListener li : listeners) {
      n += li.received();
    }
    return n;
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // closing on the way out: nothing more to do
    }
  }
}
