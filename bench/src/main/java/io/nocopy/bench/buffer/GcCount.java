package io.nocopy.bench.buffer;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.infra.Blackhole;

/**
 * GoMem's own metric: GC runs and bytes allocated for a fixed number of operations (GoMem
 * reads {@code runtime.MemStats} before and after). Runs every contestant of every scenario for
 * {@code ops} operations after a warm-up of the same length, one after another in this JVM, and
 * prints ns/op (wall clock, single run: rough), B/op (thread allocation counter) and the number of
 * collections. Run it with a fixed heap, e.g. {@code java -Xms1g -Xmx1g
 * --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar
 * io.nocopy.bench.buffer.GcCount 5000000}.
 */
public final class GcCount {
  /** One operation of one contestant. */
  @FunctionalInterface
  interface Op {
    void run() throws Exception;
  }

  record Contestant(String name, Op op) {}

  private GcCount() {}

  /**
   * Runs contestants.
   *
   * @param args {@code [ops] [name]}: operations per run (default 5,000,000) and the contestant,
   *     {@code Scenario.contestant} (default: every one, in this JVM, where profiles of different
   *     contestants pollute each other: use one JVM per contestant for figures)
   * @throws Exception from a contestant
   */
  public static void main(String[] args) throws Exception {
    long ops = args.length > 0 ? Long.parseLong(args[0]) : 5_000_000L;
    String only = args.length > 1 ? args[1] : null;
    Blackhole bh =
        new Blackhole(
            "Today's password is swordfish. I understand instantiating Blackholes directly is"
                + " dangerous.");
    List<Contestant> all = new ArrayList<>();
    for (String scenario :
        new String[] {
          "ConcurrentNetworkRead", "ProtocolParsing", "HighFrequencyReads", "GCPressure",
          "StreamingServer"
        }) {
      if (only == null || only.startsWith(scenario + ".")) {
        for (Contestant c : contestants(scenario, bh)) {
          if (only == null || only.equals(c.name())) {
            all.add(c);
          }
        }
      }
    }
    if (all.isEmpty()) {
      throw new IllegalArgumentException("no contestant named " + only);
    }
    System.out.printf(
        Locale.ROOT, "%-42s %12s %12s %8s%n", "contestant (" + ops + " ops)", "ns/op", "B/op", "GCs");
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    for (Contestant c : all) {
      for (long i = 0; i < ops; i++) {
        c.op().run(); // warm-up
      }
      System.gc();
      long gc0 = gcCount();
      long alloc0 = threads.getCurrentThreadAllocatedBytes();
      long t0 = System.nanoTime();
      for (long i = 0; i < ops; i++) {
        c.op().run();
      }
      long t1 = System.nanoTime();
      long alloc1 = threads.getCurrentThreadAllocatedBytes();
      long gc1 = gcCount();
      System.out.printf(
          Locale.ROOT,
          "%-42s %12.1f %12.1f %8d%n",
          c.name(),
          (t1 - t0) / (double) ops,
          (alloc1 - alloc0) / (double) ops,
          gc1 - gc0);
    }
    bh.evaporate("Yes, I am Stephen Hawking, and know a thing or two about black holes.");
  }

  private static long gcCount() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, gc.getCollectionCount());
    }
    return n;
  }

  private static List<Contestant> contestants(String scenario, Blackhole bh) {
    List<Contestant> out = new ArrayList<>();
    Sources.Bufio bufio = new Sources.Bufio();
    Sources.Bufio8k bufio8k = new Sources.Bufio8k();
    Sources.Nocopy nocopy = new Sources.Nocopy();
    Sources.Netty netty = new Sources.Netty();
    Sources.Okio3 okio = new Sources.Okio3();
    Sources.Floor floor = new Sources.Floor();
    bufio.open();
    bufio8k.open();
    nocopy.open();
    netty.open();
    okio.open();
    floor.open();
    switch (scenario) {
      case "ConcurrentNetworkRead" -> {
        ConcurrentNetworkRead b = new ConcurrentNetworkRead();
        six(out, scenario, () -> bh.consume(b.seedBufio(bufio)), () -> bh.consume(b.fairBufio(bufio)),
            () -> bh.consume(b.nocopy(nocopy)), () -> bh.consume(b.netty(netty)),
            () -> bh.consume(b.okio(okio)), () -> bh.consume(b.memcpyFloor(floor)));
      }
      case "ProtocolParsing" -> {
        ProtocolParsing b = new ProtocolParsing();
        six(out, scenario, () -> bh.consume(b.seedBufio(bufio)), () -> bh.consume(b.fairBufio(bufio)),
            () -> bh.consume(b.nocopy(nocopy)), () -> bh.consume(b.netty(netty)),
            () -> bh.consume(b.okio(okio)), () -> bh.consume(b.memcpyFloor(floor)));
      }
      case "HighFrequencyReads" -> {
        HighFrequencyReads b = new HighFrequencyReads();
        six(out, scenario, () -> bh.consume(b.seedBufio(bufio)), () -> bh.consume(b.fairBufio(bufio)),
            () -> bh.consume(b.nocopy(nocopy)), () -> bh.consume(b.netty(netty)),
            () -> bh.consume(b.okio(okio)), () -> bh.consume(b.memcpyFloor(floor)));
      }
      case "GCPressure" -> {
        GCPressure b = new GCPressure();
        six(out, scenario, () -> bh.consume(b.seedBufio(bufio)), () -> bh.consume(b.fairBufio(bufio)),
            () -> bh.consume(b.nocopy(nocopy)), () -> bh.consume(b.netty(netty)),
            () -> bh.consume(b.okio(okio)), () -> bh.consume(b.memcpyFloor(floor)));
      }
      default -> {
        StreamingServer b = new StreamingServer();
        StreamingServer.Frames f = new StreamingServer.Frames();
        StreamingServer.NocopyFanOut fanOut = new StreamingServer.NocopyFanOut();
        StreamingServer.NocopyWriters writers = new StreamingServer.NocopyWriters();
        StreamingServer.OkioFanOut okioFanOut = new StreamingServer.OkioFanOut();
        fanOut.open();
        writers.open();
        okioFanOut.open();
        out.add(new Contestant(scenario + ".seedBufio", () -> b.seedBufio(bufio8k, f, bh)));
        out.add(new Contestant(scenario + ".fairBufio", () -> b.fairBufio(bufio8k, f, bh)));
        out.add(new Contestant(scenario + ".nocopyRange", () -> b.nocopyRange(fanOut, f, bh)));
        out.add(new Contestant(scenario + ".nocopySlice", () -> b.nocopySlice(nocopy, f, bh)));
        out.add(new Contestant(scenario + ".nocopySliceWrite", () -> bh.consume(b.nocopySliceWrite(writers, f))));
        out.add(new Contestant(scenario + ".nocopyWriters", () -> bh.consume(b.nocopyWriters(writers, f))));
        out.add(new Contestant(scenario + ".netty", () -> b.netty(netty, f, bh)));
        out.add(new Contestant(scenario + ".okio", () -> b.okio(okioFanOut, f, bh)));
        out.add(new Contestant(scenario + ".memcpyFloor", () -> bh.consume(b.memcpyFloor(floor, f))));
      }
    }
    return out;
  }

  /** The six contestants every packet scenario has, in the JMH order. */
  private static void six(List<Contestant> out, String scenario, Op seed, Op fair, Op nocopy,
      Op netty, Op okio, Op floor) {
    out.add(new Contestant(scenario + ".seedBufio", seed));
    out.add(new Contestant(scenario + ".fairBufio", fair));
    out.add(new Contestant(scenario + ".nocopy", nocopy));
    out.add(new Contestant(scenario + ".netty", netty));
    out.add(new Contestant(scenario + ".okio", okio));
    out.add(new Contestant(scenario + ".memcpyFloor", floor));
  }
}
