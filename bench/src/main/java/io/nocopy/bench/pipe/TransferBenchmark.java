package io.nocopy.bench.pipe;

import io.nocopy.pipe.Transfer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * zerocopy's Transfer benchmark: a stream written in {@code chunk}-byte writes goes from a socket
 * pair through one long-running mover to another socket pair, and each operation reads {@code
 * chunk} bytes at the far end. Movers ({@code mode}):
 *
 * <ul>
 *   <li>{@code splice}: {@link Transfer#transfer} with acceleration (adaptive: small reads go
 *       through read/write with a pooled block, fast streams splice);
 *   <li>{@code spliceOnly}: the same with {@code -Dnocopy.pipe.adaptive=false} (always splice);
 *   <li>{@code fallback}: {@link Transfer#transfer} with {@code -Dnocopy.pipe.accelerate=false}
 *       (nocopy's userspace path: pooled 128 KiB block);
 *   <li>{@code jdk}: a plain JDK read/write loop with a 128 KiB direct {@link ByteBuffer}.
 * </ul>
 *
 * Throughput is ops/s (multiply by {@code chunk} for bytes/s). The auxiliary counters {@code
 * cpuNanos} and {@code bytes} (JMH sums them over the measured iterations) give the process CPU
 * time per byte read: CPU seconds per GB = {@code cpuNanos / bytes}. It is the whole process
 * (writer, mover, reader), the same harness for every mode, so differences are the mover's;
 * {@code moverCpuNanos} is the mover thread's own CPU time (the cost of the path under test).
 * {@code bench/scripts/transfer-table.py} turns the JSON result into the table.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--enable-native-access=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      "-Xms1g",
      "-Xmx1g"
    })
@State(Scope.Thread)
public class TransferBenchmark {
  @Param({"1024", "4096", "8192", "65536", "262144", "1048576"})
  public int chunk;

  @Param({"tcp", "unix"})
  public String kind;

  @Param({"splice", "spliceOnly", "fallback", "jdk"})
  public String mode;

  private SocketChannel writerEnd;
  private SocketChannel srcEnd;
  private SocketChannel dstEnd;
  private SocketChannel readerEnd;
  private Thread writer;
  private Thread mover;
  private ByteBuffer readBuf;
  private volatile boolean stop;

  /** The running trial's mover thread (one parameter combination, one benchmark thread per fork). */
  static volatile long moverThreadId;

  /** Process CPU time and bytes of each iteration, reported next to the throughput. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.EVENTS)
  public static class Cpu {
    private final com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private long cpu0;
    private long mover0;
    private long moverId;

    /** Process CPU nanoseconds of the iteration. */
    public long cpuNanos;

    /** CPU nanoseconds of the mover thread alone in the iteration. */
    public long moverCpuNanos;

    /** Bytes read at the far end in the iteration. */
    public long bytes;

    @Setup(Level.Iteration)
    public void start() {
      moverId = moverThreadId;
      cpu0 = os.getProcessCpuTime();
      mover0 = threads.getThreadCpuTime(moverId);
      cpuNanos = 0;
      moverCpuNanos = 0;
      bytes = 0;
    }

    @TearDown(Level.Iteration)
    public void stop() {
      cpuNanos = os.getProcessCpuTime() - cpu0;
      moverCpuNanos = threads.getThreadCpuTime(moverId) - mover0;
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    // each parameter combination runs in its own fork, so these are set before nocopy loads
    System.setProperty("nocopy.pipe.accelerate", mode.equals("fallback") ? "false" : "true");
    System.setProperty("nocopy.pipe.adaptive", mode.equals("spliceOnly") ? "false" : "true");
    SocketChannel[] a = pair();
    SocketChannel[] b = pair();
    writerEnd = a[0];
    srcEnd = a[1];
    dstEnd = b[0];
    readerEnd = b[1];
    readBuf = ByteBuffer.allocateDirect(chunk);
    if (!mode.equals("jdk") && Transfer.accelerated(srcEnd, dstEnd) != !mode.equals("fallback")) {
      throw new IllegalStateException("mode " + mode + " but accelerated=" + !mode.equals("fallback"));
    }
    writer = Thread.ofPlatform().daemon().name("writer").start(this::writeForever);
    mover = Thread.ofPlatform().daemon().name("mover").start(this::move);
    moverThreadId = mover.threadId();
  }

  private SocketChannel[] pair() throws IOException {
    if (kind.equals("tcp")) {
      try (ServerSocketChannel ss = ServerSocketChannel.open()) {
        ss.bind(new InetSocketAddress("127.0.0.1", 0));
        SocketChannel c = SocketChannel.open(ss.getLocalAddress());
        return new SocketChannel[] {c, ss.accept()};
      }
    }
    Path dir = Files.createTempDirectory("nocopy-bench");
    Path sock = dir.resolve("s");
    try (ServerSocketChannel ss = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      ss.bind(UnixDomainSocketAddress.of(sock));
      SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock));
      return new SocketChannel[] {c, ss.accept()};
    } finally {
      Files.deleteIfExists(sock);
      Files.deleteIfExists(dir);
    }
  }

  private void writeForever() {
    ByteBuffer bb = ByteBuffer.allocateDirect(chunk);
    try {
      while (!stop) {
        bb.clear();
        while (bb.hasRemaining()) {
          writerEnd.write(bb);
        }
      }
    } catch (IOException closed) {
      // tear-down
    }
  }

  private void move() {
    try {
      if (mode.equals("jdk")) {
        ByteBuffer bb = ByteBuffer.allocateDirect(128 * 1024);
        while (srcEnd.read(bb.clear()) >= 0) {
          bb.flip();
          while (bb.hasRemaining()) {
            dstEnd.write(bb);
          }
        }
      } else {
        Transfer.transfer(srcEnd, dstEnd);
      }
    } catch (IOException closed) {
      // tear-down
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    stop = true;
    writerEnd.close();
    srcEnd.close();
    dstEnd.close();
    readerEnd.close();
    writer.join(5000);
    mover.join(5000);
  }

  /** Reads one chunk at the far end. */
  @Benchmark
  public int transfer(Cpu cpu) throws IOException {
    ByteBuffer bb = readBuf;
    bb.clear();
    while (bb.hasRemaining()) {
      readerEnd.read(bb);
    }
    cpu.bytes += chunk;
    return bb.position();
  }
}
