package io.nocopy.loadgen;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The demo's load (one {@link SyntheticSource}, N listeners of a {@link ListenerCrowd}, every byte
 * verified, delivery latency from the timestamps in the frames) against a relay that something else
 * started:
 * nocopy, Icecast 2.4, the Netty baseline. The relay's CPU time and peak RSS come from
 * {@code /proc/<pid>}; its allocation and GC count only from a {@code /admin/nocopy-stats.json}
 * it may expose ({@code --stats-path}), else they are reported as "n/a".
 *
 * <p>Prints progress, a summary and one {@code ROW} line of tab-separated fields for the
 * benchmark script ({@link PeerResult#row()}). The crowd's own CPU (its selector threads) is
 * reported apart from the relay's. Exit status 0 if every listener's bytes were
 * clean, 1 if not, 2 for bad flags, 3 if the run could not be done. Everything it opens is closed
 * before it returns.
 */
public final class PeerLoad {
  static final String HELP =
      """
      usage: PeerLoad --target HOST:PORT --pid PID [options]

        --target HOST:PORT   the relay (Icecast source and listener protocol)
        --pid PID            the relay's process id: CPU and peak RSS come from /proc/PID
        --password PW        source password (user "source"), default hackme
        --mount PATH         mount to publish and listen to, default /bench.mp3
        --listeners N        listeners, default 10
        --rate RATE          source rate: 2mbit, 500k, ... or "max" (as fast as the generator goes)
        --seconds N          measured window, default 12
        --warmup N           seconds before measuring, default 3
        --name TEXT          the peer's name in the report, default "relay"
        --stats-path PATH    a /admin/nocopy-stats.json-style document with allocated_bytes and
                             gc_count (JVM peers); without it allocation and GC are "n/a"
        --admin-password PW  sent as user "admin" with the stats request (the nocopy relay's
                             /admin/ pages need credentials, as Icecast's do)
        --threads N          the listener crowd's selector threads, default 2
        --connect-rate N     listeners connected per second at most, default 1000 (Icecast:
                             lower; its listen backlog is 5)
        --connect-pending N  listeners connected whose response head has not come yet, at
                             most, default 64 (Icecast sends a head on its next source read)
      """;

  /** {@code SyntheticSource}'s pace for "max": far more than loopback carries, so it never waits. */
  static final long MAX_RATE_BITS = 10_000_000_000L;

  /** Above this source rate the listeners connect before the source starts streaming. */
  static final long LISTENERS_FIRST_ABOVE_BITS = 20_000_000L;

  private PeerLoad() {}

  /**
   * Runs it and exits with its status.
   *
   * @param args see {@link #HELP}
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    System.exit(run(System.out, args));
  }

  /**
   * The testable part of {@link #main}.
   *
   * @param out where progress, the summary and the ROW line go
   * @param args see {@link #HELP}
   * @return the exit status
   * @throws InterruptedException if interrupted
   */
  public static int run(PrintStream out, String... args) throws InterruptedException {
    PeerLoadConfig c;
    try {
      c = PeerLoadConfig.parse(args);
    } catch (IllegalArgumentException e) {
      out.println("PeerLoad: " + e.getMessage());
      out.print(HELP);
      return 2;
    }
    try {
      PeerResult r = new PeerLoad.Run(c, out).run();
      out.println(r.summary());
      out.println(r.row());
      return r.clean() == c.listeners() ? 0 : 1;
    } catch (IOException e) {
      out.println("[" + c.name() + "] run failed: " + e.getMessage());
      out.println(PeerResult.failedRow(c, e.getMessage()));
      return 3;
    }
  }

  /** One run; holds the flags the listeners read. */
  static final class Run {
    private final PeerLoadConfig c;
    private final PrintStream out;
    private final ProcStats proc;
    private volatile boolean measuring;
    private volatile boolean stopping;

    Run(PeerLoadConfig c, PrintStream out) {
      this.c = c;
      this.out = out;
      this.proc = ProcStats.of(c.pid());
    }

    PeerResult run() throws IOException, InterruptedException {
      if (!proc.alive()) {
        throw new IOException("no process " + c.pid());
      }
      warmVerifier();
      SyntheticSource source = null;
      ListenerCrowd crowd = new ListenerCrowd(c.target(), c.mount(), c.threads(), () -> measuring,
          () -> stopping);
      List<ListenerCrowd.Member> listeners = new ArrayList<>();
      try {
        source = SyntheticSource.connect(c.target(), c.mount(), c.password(), c.bitsPerSecond() / 8.0);
        if (c.bitsPerSecond() > LISTENERS_FIRST_ABOVE_BITS) {
          // at high rates listeners join before the stream starts: one still reading its response
          // head would fall a whole queue behind and be dropped
          connectListeners(crowd, listeners);
          source.start();
        } else {
          // at low rates the stream starts first: Icecast admits waiting listeners only as source
          // data arrives and drops a source that sends nothing for its source-timeout
          source.start();
          connectListeners(crowd, listeners);
        }
        long start = System.nanoTime();
        progress(listeners, start, c.warmupSeconds(), "warm-up");
        long cpuA = proc.cpuNanos();
        long ownA = crowd.cpuNanos();
        long[] jvmA = jvmStats();
        long bytesA = received(listeners);
        long tA = System.nanoTime();
        measuring = true;
        progress(listeners, start, c.warmupSeconds() + c.seconds(), "measuring");
        measuring = false;
        long tB = System.nanoTime();
        long bytesB = received(listeners);
        long cpuB = proc.cpuNanos();
        long ownB = crowd.cpuNanos();
        long[] jvmB = jvmStats();
        long peak = proc.peakRssBytes();

        stopping = true;
        source.close();
        String sourceFailure = source.failure();
        long lastSeq = source.lastSeq();
        int connectedAtEnd = 0;
        for (ListenerCrowd.Member li : listeners) {
          connectedAtEnd += li.connected() ? 1 : 0;
        }
        crowd.finish();
        if (!crowd.awaitEnd(5_000 + listeners.size())) {
          crowd.close();
          crowd.awaitEnd(2_000);
        }
        LatencyHistogram latency = crowd.latency();
        int clean = 0;
        int complete = 0;
        List<String> errors = new ArrayList<>();
        if (sourceFailure != null) {
          errors.add(sourceFailure);
        }
        for (int i = 0; i < listeners.size(); i++) {
          ListenerCrowd.Member li = listeners.get(i);
          FrameVerifier v = li.verifier;
          String why = li.failure() != null && !li.failure().startsWith("stream broke while the source was stopping")
              ? li.failure() : v.failure();
          if (why == null && v.framesVerified() == 0) {
            why = "no complete frame received";
          }
          if (why == null) {
            clean++;
            if (v.lastSeq() == lastSeq && v.partialBytes() == 0) {
              complete++;
            }
          } else if (errors.size() < 10) {
            errors.add("listener " + (i + 1) + ": " + why);
          }
        }
        return new PeerResult(c, tB - tA, bytesB - bytesA, cpuB - cpuA,
            jvmA == null || jvmB == null ? -1 : jvmB[0] - jvmA[0],
            jvmA == null || jvmB == null ? -1 : jvmB[1] - jvmA[1],
            peak, latency, clean, complete, connectedAtEnd, errors, ownB - ownA);
      } finally {
        stopping = true;
        if (source != null) {
          source.close();
        }
        crowd.close();
        crowd.awaitEnd(5_000);
      }
    }

    /**
     * Runs the frame writer and verifier over 256 MiB in this process first, so that they are
     * compiled before the listeners need them: at high rates an interpreted verifier falls a queue
     * behind in the first second and the relay rightly drops it.
     */
    static long warmVerifier() {
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(64 * Frames.SIZE);
      FrameVerifier v = new FrameVerifier(new LatencyHistogram());
      long seq = 0;
      for (int round = 0; round < 4096; round++) {
        buf.clear();
        for (int i = 0; i < 64; i++) {
          Frames.write(buf, i * Frames.SIZE, seq++, System.nanoTime());
        }
        buf.limit(64 * Frames.SIZE);
        v.accept(buf, System.nanoTime(), true);
      }
      if (v.failure() != null) {
        throw new IllegalStateException("the frame verifier rejects the frame writer's output: " + v.failure());
      }
      return v.framesVerified();
    }

    /** The listeners' connect deadline: this much, plus the time the connect rate needs. */
    static final long CONNECT_BASE_NANOS = 30_000_000_000L;

    /**
     * Connects the listeners at most {@code --connect-rate} a second, with at most {@code
     * --connect-pending} still waiting for their response head: Icecast's listen backlog is 5 (SYNs
     * beyond it are retried a second or more later) and it writes a listener's head only on its next
     * source read. The deadline is {@link #CONNECT_BASE_NANOS} plus twice what the rate needs.
     */
    private void connectListeners(ListenerCrowd crowd, List<ListenerCrowd.Member> listeners)
        throws IOException, InterruptedException {
      long started = System.nanoTime();
      long budget = CONNECT_BASE_NANOS + 2_000_000_000L * c.listeners() / c.connectRate();
      long deadline = started + budget;
      long gap = 1_000_000_000L / c.connectRate();
      long nextAt = started;
      int up = 0;
      while (up < c.listeners()) {
        // counters, not a scan: at 10,000 listeners a scan per millisecond takes a core
        if (crowd.ended() > 0) {
          for (ListenerCrowd.Member li : listeners) {
            if (li.ended()) {
              throw new IOException("listener " + (listeners.indexOf(li) + 1) + " failed to connect: "
                  + li.failure());
            }
          }
        }
        up = crowd.answered();
        int waiting = listeners.size() - up;
        long now = System.nanoTime();
        if (now > deadline) {
          throw new IOException(up + " of " + c.listeners() + " listeners connected, not all within "
              + budget / 1_000_000_000L + " s");
        }
        while (listeners.size() < c.listeners() && waiting < c.connectPending() && now >= nextAt) {
          listeners.add(crowd.add());
          waiting++;
          nextAt += gap;
        }
        Thread.sleep(listeners.size() < c.listeners() ? 1 : 5);
      }
      out.printf(Locale.ROOT, "[%s] %d listeners connected in %.1f s%n", c.name(), c.listeners(),
          (System.nanoTime() - started) / 1e9);
    }

    /** {allocated bytes, gc count} from the peer's stats document, or null without one. */
    private long[] jvmStats() throws IOException {
      if (c.statsPath() == null) {
        return null;
      }
      String j = RelayProcess.get(c.target(), c.statsPath(),
          c.adminPassword() == null ? null : RelayProcess.basic("admin", c.adminPassword()));
      return new long[] {Json.number(j, "allocated_bytes"), Json.number(j, "gc_count")};
    }

    private void progress(List<ListenerCrowd.Member> listeners, long start, int untilSecond, String phase)
        throws IOException, InterruptedException {
      long lastCpu = proc.cpuNanos();
      long lastT = System.nanoTime();
      long lastBytes = received(listeners);
      for (int sec = (int) ((lastT - start) / 1_000_000_000L) + 1; sec <= untilSecond; sec++) {
        long wake = start + sec * 1_000_000_000L;
        for (long now; (now = System.nanoTime()) < wake; ) {
          Thread.sleep(Math.max(1, (wake - now) / 1_000_000L));
        }
        if (!proc.alive()) {
          throw new IOException("the relay (pid " + c.pid() + ") exited during the run");
        }
        long cpu = proc.cpuNanos();
        long t = System.nanoTime();
        long bytes = received(listeners);
        int up = 0;
        for (ListenerCrowd.Member li : listeners) {
          up += li.connected() ? 1 : 0;
        }
        out.printf(Locale.ROOT, "[%s] %3ds %-9s %8.1f MB/s delivered  listeners %d/%d  relay CPU %.0f%%%n", c.name(),
            sec, phase, (bytes - lastBytes) * 1e3 / (t - lastT), up, listeners.size(), 100.0 * (cpu - lastCpu) / (t - lastT));
        lastCpu = cpu;
        lastT = t;
        lastBytes = bytes;
      }
    }

    private static long received(List<ListenerCrowd.Member> listeners) {
      long n = 0;
      for (ListenerCrowd.Member li : listeners) {
        n += li.received();
      }
      return n;
    }
  }
}
