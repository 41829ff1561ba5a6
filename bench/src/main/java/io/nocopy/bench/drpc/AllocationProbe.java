package io.nocopy.bench.drpc;

import io.nocopy.drpc.DrpcClient;
import io.nocopy.drpc.DrpcOptions;
import io.nocopy.drpc.DrpcServer;
import io.nocopy.drpc.protobuf.ProtoStream;
import io.nocopy.example.echo.EchoDrpc;
import io.nocopy.example.echo.EchoOuterClass.EchoMessage;
import io.nocopy.example.echo.EchoService;
import io.nocopy.memory.Allocator;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.TreeMap;

/**
 * Bytes allocated per call by each side of {@link ProtoEchoBenchmark}'s nocopy calls (same
 * service, messages and options), from the JVM's per-thread allocation counters: the caller (the
 * generated client: encode, invoke, decode), the client's reader thread, the server's reader
 * thread (which also runs the unary handler: {@link DrpcOptions#directUnary()}), and the virtual
 * threads' carriers (the server-streaming handler runs on a virtual thread). JMH's {@code -prof
 * gc} gives only the sum; this says where it goes.
 *
 * <p>Run: {@code ./nocopy drpc-alloc [calls]} (default 200,000 unary calls and 2,000 server
 * streams after as many warm-up calls).
 */
public final class AllocationProbe {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private AllocationProbe() {}

  /**
   * Runs the probe and prints bytes per call by side.
   *
   * @param args optional: the number of unary calls (server streams: a hundredth of it)
   * @throws Exception if a call fails
   */
  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int streams = Math.max(1, calls / 100);
    try (Allocator alloc = Allocator.builder().maxBytes(256L << 20).build();
        DrpcServer server = EchoDrpc.register(
            new DrpcServer(alloc, DrpcOptions.builder().directUnary(true).build()),
            new EchoService())) {
      var addr = server.bind(new InetSocketAddress("127.0.0.1", 0));
      try (DrpcClient connection = DrpcClient.connect(addr, alloc, DrpcOptions.DEFAULTS)) {
        EchoDrpc.Client client = EchoDrpc.client(connection);
        EchoMessage request = ProtoEcho.request(64, 100);
        Runnable unary = () -> call(() -> client.unary(request));
        Runnable stream = () -> call(() -> {
          try (ProtoStream<EchoMessage, EchoMessage> s = client.serverStream(request)) {
            while (s.receive() != null) {
              // each reply parsed and dropped
            }
          }
          return null;
        });
        report("unary echo, 64 B", unary, calls);
        report("server stream of 100 x 64 B", stream, streams);
      }
    }
  }

  private interface Call {
    Object run() throws Exception;
  }

  private static void call(Call c) {
    try {
      c.run();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static void report(String what, Runnable call, int n) {
    for (int i = 0; i < n; i++) {
      call.run(); // warm-up: the JIT's code, the pools' blocks
    }
    Map<String, Long> before = bySide();
    for (int i = 0; i < n; i++) {
      call.run();
    }
    Map<String, Long> after = bySide();
    System.out.printf("%s, %,d calls: bytes allocated per call%n", what, n);
    long total = 0;
    for (Map.Entry<String, Long> e : after.entrySet()) {
      long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
      total += d;
      if (d >= n) {
        System.out.printf("  %-45s %,10.0f%n", e.getKey(), d / (double) n);
      }
    }
    System.out.printf("  %-45s %,10.0f%n", "total", total / (double) n);
  }

  /** Allocated bytes so far per side, from every live platform thread's counter. */
  private static Map<String, Long> bySide() {
    Map<String, Long> sides = new TreeMap<>();
    long me = Thread.currentThread().threadId();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      long bytes = THREADS.getThreadAllocatedBytes(t.threadId());
      if (bytes > 0) {
        sides.merge(side(t, me), bytes, Long::sum);
      }
    }
    return sides;
  }

  private static String side(Thread t, long caller) {
    String name = t.getName();
    if (t.threadId() == caller) {
      return "caller (generated client)";
    }
    if (name.startsWith("drpc-reader-client")) {
      return "client reader thread";
    }
    if (name.startsWith("drpc-reader-server")) {
      return "server reader thread (and direct unary handler)";
    }
    if (name.startsWith("ForkJoinPool")) {
      return "virtual threads' carriers (stream handlers)";
    }
    return "other: " + name.replaceAll("[0-9]+", "N");
  }
}
