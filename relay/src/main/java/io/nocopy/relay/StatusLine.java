package io.nocopy.relay;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The relay's live status: every interval, mounts, listeners, in/out Mbit/s, CPU %, allocation MB/s
 * and GC count. On a terminal it rewrites one line in place; otherwise (a log file, a pipe) it
 * logs a plain line through {@code System.Logger}.
 */
final class StatusLine implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(StatusLine.class.getName());

  private final RelayServer server;
  private final long intervalMs;
  private final boolean tty;
  private final PrintStream out;
  private final Thread thread;
  private volatile boolean stop;

  StatusLine(RelayServer server, long intervalMs, PrintStream out) {
    this.server = server;
    this.intervalMs = intervalMs;
    this.out = out;
    this.tty = System.console() != null && System.console().isTerminal();
    this.thread = Thread.ofPlatform().daemon().name("relay-status").unstarted(this::loop);
  }

  void start() {
    thread.start();
  }

  private void loop() {
    long lastIn = 0;
    long lastOut = 0;
    ProcessStats.Reading last = ProcessStats.read();
    long lastT = System.nanoTime();
    while (!stop) {
      try {
        Thread.sleep(intervalMs);
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      double secs = (now - lastT) / 1e9;
      RelayServer.Totals t = server.totals();
      long in = t.bytesIn();
      long outBytes = t.bytesOut();
      ProcessStats.Reading r = ProcessStats.read();
      String line = render(t.mounts(), t.listeners(), in - lastIn, outBytes - lastOut, last, r, secs);
      if (tty) {
        out.print("\r" + line + "   ");
        out.flush();
      } else {
        LOG.log(System.Logger.Level.INFO, line);
      }
      lastIn = in;
      lastOut = outBytes;
      last = r;
      lastT = now;
    }
  }

  /** One status line from the counters' changes over {@code secs} seconds. */
  static String render(int mounts, int listeners, long inBytes, long outBytes,
      ProcessStats.Reading before, ProcessStats.Reading now, double secs) {
    return String.format(Locale.ROOT,
        "mounts %d | listeners %d | in %.1f Mbit/s | out %.1f Mbit/s | cpu %.0f%% | alloc %.2f MB/s | gc %d",
        mounts, listeners, Math.max(0, inBytes) * 8 / 1e6 / secs, Math.max(0, outBytes) * 8 / 1e6 / secs,
        (now.cpuNanos() - before.cpuNanos()) / 1e7 / secs,
        now.allocatedBytes() < 0 ? 0 : (now.allocatedBytes() - before.allocatedBytes()) / 1e6 / secs,
        now.gcCount());
  }

  @Override
  public void close() {
    stop = true;
    thread.interrupt();
    if (tty) {
      out.println();
    }
  }
}
