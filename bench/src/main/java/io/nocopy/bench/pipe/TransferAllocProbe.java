package io.nocopy.bench.pipe;

import io.nocopy.pipe.Transfer;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.*;
import java.nio.file.Path;
import java.util.*;
import jdk.jfr.Recording;
import jdk.jfr.consumer.*;

/**
 * Finds what the thread running {@link Transfer#transfer} allocates: moves a stream between two
 * loopback socket pairs on a thread named {@code mover} (platform, or {@code virtual} as first
 * argument), prints the mover's allocated bytes per MiB (ThreadMXBean), then records one more run
 * with JFR allocation events (with stack traces) and prints the heaviest stacks of the mover.
 * Run with {@code -XX:TLABSize=2k -XX:-ResizeTLAB} for finer samples. Usage: {@code
 * TransferAllocProbe [platform|virtual] [MiB]}.
 */
public final class TransferAllocProbe {
  private TransferAllocProbe() {}

  static SocketChannel[] pair() throws Exception {
    try (ServerSocketChannel ss = ServerSocketChannel.open()) {
      ss.bind(new InetSocketAddress("127.0.0.1", 0));
      SocketChannel a = SocketChannel.open(ss.getLocalAddress());
      return new SocketChannel[] {a, ss.accept()};
    }
  }

  static long run(long total, boolean virtual, Recording rec) throws Exception {
    SocketChannel[] s = pair(), d = pair();
    Thread w = Thread.ofPlatform().start(() -> {
      try { ByteBuffer bb = ByteBuffer.allocateDirect(1 << 20); long left = total;
        while (left > 0) { bb.clear(); if (left < bb.capacity()) bb.limit((int) left); left -= bb.remaining(); while (bb.hasRemaining()) s[0].write(bb); }
        s[0].shutdownOutput(); } catch (Exception e) { e.printStackTrace(); } });
    Thread r = Thread.ofPlatform().start(() -> {
      try { ByteBuffer bb = ByteBuffer.allocateDirect(1 << 20); while (d[1].read(bb.clear()) >= 0) {} } catch (Exception e) { e.printStackTrace(); } });
    long[] alloc = new long[1];
    var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    Runnable body = () -> {
      try {
        if (rec != null) rec.start();
        long a0 = mx.getCurrentThreadAllocatedBytes();
        long n = Transfer.transfer(s[1], d[0]);
        alloc[0] = mx.getCurrentThreadAllocatedBytes() - a0;
        if (n != total) throw new AssertionError(n);
        d[0].shutdownOutput();
      } catch (Exception e) { e.printStackTrace(); }
    };
    Thread m = virtual ? Thread.ofVirtual().name("mover").start(body) : Thread.ofPlatform().name("mover").start(body);
    m.join(); w.join(); r.join();
    if (rec != null) rec.stop();
    for (SocketChannel c : new SocketChannel[] {s[0], s[1], d[0], d[1]}) c.close();
    return alloc[0];
  }

  /**
   * Entry point.
   *
   * @param args {@code platform|virtual} and the MiB of the measured run (default 1024)
   * @throws Exception on failure
   */
  public static void main(String[] args) throws Exception {
    boolean virtual = args.length > 0 && args[0].equals("virtual");
    long total = (args.length > 1 ? Long.parseLong(args[1]) : 1024) << 20;
    for (int i = 0; i < 3; i++) run(256L << 20, virtual, null);
    long a8 = run(8L << 20, virtual, null);
    long a = run(total, virtual, null);
    System.out.printf("mover (%s) allocated %d B for 8 MiB, %d B for %d MiB: %.1f B/MiB%n",
        virtual ? "virtual" : "platform", a8, a, total >> 20, (a - a8) / (double) ((total - (8L << 20)) >> 20));
    Recording rec = new Recording();
    rec.enable("jdk.ObjectAllocationSample").with("throttle", "off").withStackTrace();
    rec.enable("jdk.ObjectAllocationInNewTLAB").withStackTrace();
    rec.enable("jdk.ObjectAllocationOutsideTLAB").withStackTrace();
    Path f = Path.of(System.getProperty("java.io.tmpdir"), "transfer-alloc.jfr");
    rec.setDestination(f);
    long ar = run(total, virtual, rec);
    rec.close();
    System.out.println("recorded run allocated " + ar + " B");
    Map<String, Long> top = new HashMap<>();
    Map<String, Long> cnt = new HashMap<>();
    for (RecordedEvent e : RecordingFile.readAllEvents(f)) {
      if (e.getThread() == null || !"mover".equals(e.getThread().getJavaName())) continue;
      RecordedStackTrace st = e.getStackTrace();
      StringBuilder sb = new StringBuilder(e.getEventType().getName().replace("jdk.ObjectAllocation", "") + " " + e.getClass("objectClass").getName() + "\n");
      if (st != null) for (int i = 0; i < Math.min(14, st.getFrames().size()); i++) {
        var fr = st.getFrames().get(i);
        sb.append("    ").append(fr.getMethod().getType().getName()).append('.').append(fr.getMethod().getName()).append(':').append(fr.getLineNumber()).append(' ').append(fr.getType()).append('\n');
      }
      long w = e.hasField("weight") ? e.getLong("weight") : e.hasField("allocationSize") ? e.getLong("allocationSize") : 0;
      top.merge(sb.toString(), w, Long::sum);
      cnt.merge(sb.toString(), 1L, Long::sum);
    }
    top.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue(), x.getValue())).limit(8)
        .forEach(en -> System.out.println(en.getValue() + " B (" + cnt.get(en.getKey()) + " events) " + en.getKey()));
  }
}
