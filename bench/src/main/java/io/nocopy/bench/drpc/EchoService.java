package io.nocopy.bench.drpc;

import io.nocopy.buffer.Slice;
import io.nocopy.drpc.DrpcClient;
import io.nocopy.drpc.DrpcOptions;
import io.nocopy.drpc.DrpcServer;
import io.nocopy.drpc.DrpcStream;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

/**
 * An example of the drpc user API: the echo service other DRPC implementations test against, and
 * a command-line server and client for it ({@code ./nocopy drpc-echo server|client ADDRESS}). The
 * echo benchmarks serve it too.
 *
 * <ul>
 *   <li>{@value #UNARY}: returns the request (sent from the blocks it was received into);
 *   <li>{@value #STREAM}: echoes each message, in order, until the client closes its send side.
 * </ul>
 *
 * <pre>
 *   ./nocopy drpc-echo server 127.0.0.1:7777
 *   ./nocopy drpc-echo client 127.0.0.1:7777 [calls] [bytes]
 *   (an address is host:port or unix:/path/to/socket)
 * </pre>
 */
public final class EchoService {
  /** The unary echo rpc. */
  public static final String UNARY = "/nocopy.Echo/Unary";

  /** The streaming echo rpc. */
  public static final String STREAM = "/nocopy.Echo/Stream";

  private EchoService() {}

  /**
   * Registers both echo rpcs.
   *
   * @param server the server
   * @return the server
   */
  public static DrpcServer register(DrpcServer server) {
    server.register(UNARY, (stream, request) -> request);
    server.register(
        STREAM,
        stream -> {
          while (true) {
            try (Slice m = stream.receive()) {
              if (m == null) {
                return;
              }
              stream.send(m);
            }
          }
        });
    return server;
  }

  /**
   * Parses {@code host:port} or {@code unix:/path}.
   *
   * @param s the text
   * @return the address
   * @throws IllegalArgumentException if it is neither
   */
  public static SocketAddress parseAddress(String s) {
    if (s.startsWith("unix:")) {
      return UnixDomainSocketAddress.of(s.substring(5));
    }
    int colon = s.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("address must be host:port or unix:/path, got " + s);
    }
    return new InetSocketAddress(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1)));
  }

  /**
   * Runs the server (until killed) or the client.
   *
   * @param args {@code server ADDRESS} or {@code client ADDRESS [calls] [bytes]}
   * @throws Exception on failure (the client exits non-zero on a wrong echo)
   */
  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    if (args.length < 2) {
      out.println("usage: drpc-echo server ADDRESS | client ADDRESS [calls] [bytes]");
      out.println("  ADDRESS is host:port (e.g. 127.0.0.1:7777) or unix:/path/to/socket");
      System.exit(2);
    }
    SocketAddress address = parseAddress(args[1]);
    switch (args[0]) {
      case "server" -> {
        try (Allocator alloc = Allocator.create();
            DrpcServer server = register(new DrpcServer(alloc, DrpcOptions.DEFAULTS))) {
          SocketAddress bound = server.bind(address);
          out.println("drpc echo server on " + bound + ": rpcs " + UNARY + ", " + STREAM);
          new CountDownLatch(1).await();
        }
      }
      case "client" -> {
        int calls = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int bytes = args.length > 3 ? Integer.parseInt(args[3]) : 16;
        client(address, calls, bytes, out);
      }
      default -> {
        out.println("unknown mode " + args[0] + "; use server or client");
        System.exit(2);
      }
    }
  }

  private static void client(SocketAddress address, int calls, int bytes, PrintStream out)
      throws IOException {
    try (DrpcClient c = DrpcClient.connect(address)) {
      byte[] req = new byte[bytes];
      for (int i = 0; i < bytes; i++) {
        req[i] = (byte) ('a' + i % 26);
      }
      long t0 = System.nanoTime();
      for (int i = 0; i < calls; i++) {
        byte[] resp = c.invoke(UNARY, req);
        if (!Arrays.equals(req, resp)) {
          throw new IOException("unary echo returned different bytes on call " + i);
        }
      }
      long t1 = System.nanoTime();
      out.printf("%s: %d calls of %d bytes ok, %.1f us/call%n", UNARY, calls, bytes,
          (t1 - t0) / 1e3 / Math.max(1, calls));
      try (DrpcStream s = c.openStream(STREAM)) {
        for (int i = 0; i < calls; i++) {
          byte[] msg = ("message " + i).getBytes(StandardCharsets.UTF_8);
          s.send(msg);
          try (Slice back = s.receive()) {
            if (back == null || !Arrays.equals(msg, back.toByteArray())) {
              throw new IOException("stream echo returned different bytes for message " + i);
            }
          }
        }
        s.closeSend();
        if (s.receive() != null) {
          throw new IOException("stream echo sent more messages than it received");
        }
      }
      out.printf("%s: %d messages echoed in order%n", STREAM, calls);
    }
  }
}
