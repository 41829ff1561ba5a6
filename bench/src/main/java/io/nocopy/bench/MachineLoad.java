package io.nocopy.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How busy the rest of the machine was while a benchmark ran: CPU time used by every process
 * except this one and the JMH forks it started and reaped, in cores (1.0 = one core fully used by
 * others). Read from Linux's {@code /proc/stat} and {@code /proc/self/stat}; {@code NaN}
 * elsewhere. On a shared machine this is the figure that says whether a slow result is the code or
 * the neighbours.
 *
 * <p>Ownership: an immutable snapshot; take one before and one after and call {@link
 * #otherCoresSince(MachineLoad)}.
 *
 * @param machineTicks busy clock ticks of all CPUs since boot (user, nice, system, irq, softirq,
 *     steal)
 * @param ownTicks this process's user and system ticks plus those of its reaped children
 * @param nanos {@link System#nanoTime()} when taken
 */
record MachineLoad(long machineTicks, long ownTicks, long nanos) {
  /** Linux's USER_HZ, the unit of both files: 100 on every mainstream architecture. */
  private static final double TICKS_PER_SECOND = 100.0;

  /**
   * Takes a snapshot.
   *
   * @return the snapshot, with -1 tick counts when the files cannot be read (not Linux)
   */
  static MachineLoad now() {
    long nanos = System.nanoTime();
    try {
      String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = cpu.trim().split("\\s+"); // "cpu" user nice system idle iowait irq softirq steal
      long busy = 0;
      for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
        busy += Long.parseLong(f[i]);
      }
      String self = Files.readString(Path.of("/proc/self/stat"));
      String[] g = self.substring(self.lastIndexOf(')') + 2).trim().split("\\s+");
      // g[0] is field 3 (state): utime, stime, cutime, cstime are fields 14..17.
      long own = 0;
      for (int i = 11; i <= 14; i++) {
        own += Long.parseLong(g[i]);
      }
      return new MachineLoad(busy, own, nanos);
    } catch (IOException | RuntimeException e) {
      return new MachineLoad(-1, -1, nanos);
    }
  }

  /**
   * Cores used by other processes between {@code before} and this snapshot.
   *
   * @param before the earlier snapshot
   * @return average cores busy with other work, or NaN when unknown
   */
  double otherCoresSince(MachineLoad before) {
    if (machineTicks < 0 || before.machineTicks < 0 || nanos <= before.nanos) {
      return Double.NaN;
    }
    long others = (machineTicks - before.machineTicks) - (ownTicks - before.ownTicks);
    double seconds = (nanos - before.nanos) / 1e9;
    return Math.max(0, others / TICKS_PER_SECOND / seconds);
  }
}
