package io.nocopy.bench.memory;

/**
 * JVM flags every memory-benchmark fork runs with (JMH annotations need them as constants).
 *
 * <ul>
 *   <li>{@link #NATIVE_ACCESS}: nocopy's FFM allocation, as the launcher passes it.
 *   <li>{@link #UNSAFE}: lets Netty use {@code sun.misc.Unsafe} on JDK 25 (its fast path, and what
 *       Netty deployments on new JDKs configure) instead of warning or falling back.
 *   <li>{@link #NETTY_NO_LEAK_DETECTION}: Netty's sampling leak detector off, as in Netty's own
 *       microbenchmarks; nocopy's leak mode is off by default too.
 *   <li>{@link #HEAP}: a fixed 1 GiB heap so that GC sizing does not differ between forks.
 *   <li>{@link #EXECUTOR} and {@link #EXECUTOR_CLASS}: JMH runs the benchmark threads on
 *       {@link NettyThreadExecutor}'s Netty event-loop-style threads.
 * </ul>
 *
 * <p>JMH's command-line {@code -jvmArgsAppend} replaces these rather than adding to them: pass
 * them again when you use it.
 */
public final class BenchFlags {
  /** {@code --enable-native-access=ALL-UNNAMED}. */
  public static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";

  /** {@code --sun-misc-unsafe-memory-access=allow}. */
  public static final String UNSAFE = "--sun-misc-unsafe-memory-access=allow";

  /** {@code -Dio.netty.leakDetection.level=disabled}. */
  public static final String NETTY_NO_LEAK_DETECTION = "-Dio.netty.leakDetection.level=disabled";

  /** The same for the Netty that gRPC-java shades (its property is relocated with it). */
  public static final String GRPC_NETTY_NO_LEAK_DETECTION =
      "-Dio.grpc.netty.shaded.io.netty.leakDetection.level=disabled";

  /** {@code -Xms1g -Xmx1g} (two flags: see {@link #HEAP_MAX}). */
  public static final String HEAP = "-Xms1g";

  /** The other half of {@link #HEAP}. */
  public static final String HEAP_MAX = "-Xmx1g";

  /** {@code -Djmh.executor=CUSTOM}. */
  public static final String EXECUTOR = "-Djmh.executor=CUSTOM";

  /** {@code -Djmh.executor.class=}{@link NettyThreadExecutor}. */
  public static final String EXECUTOR_CLASS =
      "-Djmh.executor.class=io.nocopy.bench.memory.NettyThreadExecutor";

  private BenchFlags() {}

  /**
   * All of them, for programmatic JMH options.
   *
   * @return a fresh array of the flags
   */
  public static String[] all() {
    return new String[] {
      NATIVE_ACCESS, UNSAFE, NETTY_NO_LEAK_DETECTION, HEAP, HEAP_MAX, EXECUTOR, EXECUTOR_CLASS
    };
  }
}
