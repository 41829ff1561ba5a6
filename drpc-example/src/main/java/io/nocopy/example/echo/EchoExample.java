package io.nocopy.example.echo;

import io.nocopy.drpc.DrpcClient;
import io.nocopy.drpc.DrpcOptions;
import io.nocopy.drpc.DrpcServer;
import io.nocopy.memory.Allocator;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.List;

/**
 * {@code ./nocopy drpc-example server ADDRESS} serves {@code echo.proto}'s Echo service; {@code
 * ./nocopy drpc-example client ADDRESS} calls every method of one ({@link EchoCheck}) and exits
 * with status 1 on any mismatch. ADDRESS is {@code host:port} or {@code unix:/path}.
 */
public final class EchoExample {
  private EchoExample() {}

  /**
   * Runs the server (until killed) or the client check.
   *
   * @param args {@code server ADDRESS} or {@code client ADDRESS}
   * @throws Exception if the server cannot bind or the client cannot connect
   */
  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !(args[0].equals("server") || args[0].equals("client"))) {
      System.err.println("usage: drpc-example server ADDRESS | client ADDRESS");
      System.err.println("  ADDRESS is host:port (e.g. 127.0.0.1:7777) or unix:/path/to/socket");
      System.exit(2);
    }
    SocketAddress address = parseAddress(args[1]);
    try (Allocator alloc = Allocator.builder().maxBytes(256L << 20).build()) {
      if (args[0].equals("server")) {
        DrpcServer server = EchoDrpc.register(new DrpcServer(alloc, DrpcOptions.DEFAULTS),
            new EchoService());
        SocketAddress bound = server.bind(address);
        System.out.println("serving " + EchoDrpc.SERVICE_NAME + " on " + bound);
        Thread.currentThread().join(); // until killed
      }
      List<String> failures;
      try (DrpcClient c = DrpcClient.connect(address, alloc, DrpcOptions.DEFAULTS)) {
        failures = new EchoCheck(EchoDrpc.client(c), System.out).run();
      }
      System.out.println(failures.isEmpty() ? "all rpcs answered as expected"
          : failures.size() + " check(s) failed");
      System.exit(failures.isEmpty() ? 0 : 1);
    }
  }

  /**
   * Parses {@code host:port} (a bracketed IPv6 host allowed) or {@code unix:/path}.
   *
   * @param s the text
   * @return the address
   * @throws IllegalArgumentException if it is neither
   */
  static SocketAddress parseAddress(String s) {
    if (s.startsWith("unix:")) {
      return UnixDomainSocketAddress.of(s.substring("unix:".length()));
    }
    int colon = s.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("address must be host:port or unix:/path, got " + s);
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new InetSocketAddress(host, Integer.parseInt(s.substring(colon + 1)));
  }
}
