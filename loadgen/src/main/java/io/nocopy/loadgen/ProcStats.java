package io.nocopy.loadgen;

import java.io.IOException;
import java.net.ProtocolException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads another process's CPU time and peak resident memory from {@code /proc/<pid>/stat} and
 * {@code /proc/<pid>/status}, so that a process under test (any language) is measured from outside
 * without being asked. Stateless apart from the pid; the parsing methods are pure functions of the
 * text, shared by the readers and the tests.
 */
public final class ProcStats {
  private final long pid;
  private final long nanosPerTick;

  /**
   * @param pid the process to read
   * @param clockTicksPerSecond the kernel's {@code CLK_TCK} (almost always 100)
   */
  public ProcStats(long pid, long clockTicksPerSecond) {
    if (pid <= 0 || clockTicksPerSecond <= 0) {
      throw new IllegalArgumentException("pid and clock ticks must be positive, got " + pid + ", " + clockTicksPerSecond);
    }
    this.pid = pid;
    this.nanosPerTick = 1_000_000_000L / clockTicksPerSecond;
  }

  /**
   * For a process of this machine.
   *
   * @param pid the process to read
   * @return a reader using the kernel's {@code CLK_TCK} ({@code getconf CLK_TCK}, 100 if that fails)
   */
  public static ProcStats of(long pid) {
    long t = 100;
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).strip();
      if (p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0) {
        t = Long.parseLong(out);
      }
    } catch (IOException | RuntimeException e) {
      t = 100;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return new ProcStats(pid, t);
  }

  /** @return the process id read */
  public long pid() {
    return pid;
  }

  /**
   * The process's CPU time so far (user + system, all threads).
   *
   * @return nanoseconds
   * @throws IOException if the process is gone or the file is malformed
   */
  public long cpuNanos() throws IOException {
    return cpuTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat"))) * nanosPerTick;
  }

  /**
   * The process's peak resident set size ({@code VmHWM}).
   *
   * @return bytes
   * @throws IOException if the process is gone or the file lacks the line
   */
  public long peakRssBytes() throws IOException {
    return statusKb(Files.readString(Path.of("/proc", Long.toString(pid), "status")), "VmHWM") * 1024;
  }

  /** @return whether {@code /proc/<pid>} exists */
  public boolean alive() {
    return Files.isDirectory(Path.of("/proc", Long.toString(pid)));
  }

  /**
   * utime + stime from the text of {@code /proc/<pid>/stat}. The command name (field 2) is in
   * parentheses and may itself hold spaces and parentheses, so fields are counted from the last
   * {@code ')'}.
   *
   * @param stat the whole file
   * @return clock ticks
   * @throws ProtocolException if the text is not a stat line
   */
  static long cpuTicks(String stat) throws ProtocolException {
    int close = stat.lastIndexOf(')');
    if (close < 0 || close + 2 > stat.length()) {
      throw new ProtocolException("not a /proc/<pid>/stat line: '" + stat.strip() + "'");
    }
    String[] f = stat.substring(close + 2).strip().split(" +");
    // f[0] is field 3 (state); utime and stime are fields 14 and 15
    if (f.length < 13) {
      throw new ProtocolException("/proc/<pid>/stat has only " + (f.length + 2) + " fields");
    }
    try {
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (NumberFormatException e) {
      throw new ProtocolException("/proc/<pid>/stat utime/stime not numbers: '" + f[11] + "', '" + f[12] + "'");
    }
  }

  /**
   * A {@code kB} value from the text of {@code /proc/<pid>/status}, e.g. {@code VmHWM}.
   *
   * @param status the whole file
   * @param key the name before the colon
   * @return the value in kB
   * @throws ProtocolException if the key is missing or its value is not {@code <number> kB}
   */
  static long statusKb(String status, String key) throws ProtocolException {
    for (String line : status.split("\n")) {
      if (line.startsWith(key + ":")) {
        String v = line.substring(key.length() + 1).strip();
        if (!v.endsWith(" kB")) {
          throw new ProtocolException(key + " is not in kB: '" + v + "'");
        }
        try {
          return Long.parseLong(v.substring(0, v.length() - 3).strip());
        } catch (NumberFormatException e) {
          throw new ProtocolException(key + " is not a number: '" + v + "'");
        }
      }
    }
    throw new ProtocolException("no " + key + " line in /proc/<pid>/status");
  }
}
