package io.nocopy.relay;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * This process's own costs, read from the JVM: CPU time, bytes allocated on the heap, GC count and
 * time, resident memory. Used by the status line and by {@code /admin/nocopy-stats.json}, which
 * the demo and the benchmark harness read from outside the process.
 */
final class ProcessStats {
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private static final List<GarbageCollectorMXBean> GCS = ManagementFactory.getGarbageCollectorMXBeans();

  /**
   * One reading.
   *
   * @param cpuNanos process CPU time (user + system)
   * @param allocatedBytes heap bytes allocated by all threads since start (-1 if unsupported)
   * @param gcCount collections since start, all collectors
   * @param gcMillis time spent in collections since start
   * @param rssBytes resident set size (-1 if unknown)
   */
  record Reading(long cpuNanos, long allocatedBytes, long gcCount, long gcMillis, long rssBytes) {}

  private ProcessStats() {}

  static Reading read() {
    long gcCount = 0;
    long gcMillis = 0;
    for (GarbageCollectorMXBean g : GCS) {
      gcCount += Math.max(0, g.getCollectionCount());
      gcMillis += Math.max(0, g.getCollectionTime());
    }
    long alloc = THREADS.isThreadAllocatedMemorySupported() ? THREADS.getTotalThreadAllocatedBytes() : -1;
    return new Reading(OS.getProcessCpuTime(), alloc, gcCount, gcMillis, rss());
  }

  private static long rss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
