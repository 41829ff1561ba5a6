package io.nocopy.internal.linux;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** System constants read from libc through FFM; every native call of nocopy lives in this package. */
public final class Sysconf {
  private static final int SC_OPEN_MAX = 4; // Linux, every architecture
  private static final int SC_PAGESIZE = 30;

  private Sysconf() {}

  /**
   * The OS page size, or {@code -1} if it cannot be read (not Linux, or native access refused).
   *
   * @return the page size in bytes, or -1
   */
  public static long pageSizeOrMinusOne() {
    return sysconf(SC_PAGESIZE);
  }

  /**
   * The process's open-file limit now (the soft {@code RLIMIT_NOFILE}), or {@code -1} if it cannot
   * be read or is unlimited.
   *
   * @return the most descriptors the process may hold, or -1
   */
  public static long openFilesOrMinusOne() {
    return sysconf(SC_OPEN_MAX);
  }

  private static long sysconf(int name) {
    if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
      return -1;
    }
    try {
      Linker linker = Linker.nativeLinker();
      MethodHandle sysconf =
          linker.downcallHandle(
              linker.defaultLookup().findOrThrow("sysconf"),
              FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
      long v = (long) sysconf.invokeExact(name);
      return v > 0 ? v : -1;
    } catch (Throwable t) {
      return -1;
    }
  }
}
