package io.nocopy.bench.pipe;

import io.nocopy.pipe.Transfer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The pieces of the end-to-end proxy comparison ({@code bench/scripts/proxy-compare.sh}), one
 * process each, all on 127.0.0.1:
 *
 * <ul>
 *   <li>{@code sink PORT}: accepts connections, reads and discards until end of stream, then
 *       closes (one virtual thread per connection).
 *   <li>{@code client PORT BYTES WRITE}: sends BYTES in WRITE-byte writes, shuts its output down,
 *       waits for the other side to close (so every byte reached the sink), prints {@code
 *       bytes seconds GB/s}.
 *   <li>{@code proxy LISTEN UPSTREAM}: nocopy's TCP proxy: per connection one thread running
 *       {@link Transfer#proxy} (both directions on one epoll loop), or with {@code
 *       -Dnocopy.bench.proxyMode=transfers} two threads each running {@link Transfer#transfer} one
 *       way, then shutting the far side's output. Threads are virtual unless {@code
 *       -Dnocopy.bench.proxyThreads=platform}. {@code -Dnocopy.pipe.accelerate=false} makes it the
 *       userspace path.
 * </ul>
 */
public final class ProxyBench {
  private ProxyBench() {}

  /**
   * Entry point.
   *
   * @param args see the class comment
   * @throws Exception on failure
   */
  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "sink" -> sink(Integer.parseInt(args[1]));
      case "client" ->
          client(Integer.parseInt(args[1]), Long.parseLong(args[2]), Integer.parseInt(args[3]));
      case "proxy" -> proxy(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
      default -> throw new IllegalArgumentException("sink | client | proxy");
    }
  }

  private static ServerSocketChannel listen(int port) throws IOException {
    ServerSocketChannel ss = ServerSocketChannel.open();
    ss.bind(new InetSocketAddress("127.0.0.1", port), 128);
    return ss;
  }

  private static void sink(int port) throws IOException {
    try (ServerSocketChannel ss = listen(port)) {
      while (true) {
        SocketChannel c = ss.accept();
        Thread.startVirtualThread(
            () -> {
              ByteBuffer bb = ByteBuffer.allocateDirect(1 << 20);
              try (c) {
                while (c.read(bb.clear()) >= 0) {
                  // discard
                }
              } catch (IOException ignored) {
                // peer gone
              }
            });
      }
    }
  }

  private static void client(int port, long total, int write) throws IOException {
    try (SocketChannel c = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
      ByteBuffer bb = ByteBuffer.allocateDirect(write);
      long t0 = System.nanoTime();
      long left = total;
      while (left > 0) {
        bb.clear();
        if (left < write) {
          bb.limit((int) left);
        }
        left -= bb.remaining();
        while (bb.hasRemaining()) {
          c.write(bb);
        }
      }
      c.shutdownOutput();
      while (c.read(bb.clear()) >= 0) {
        // wait for the sink's close to come back
      }
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.printf("%d %.3f %.3f%n", total, s, total / s / 1e9);
    }
  }

  /** {@code -Dnocopy.bench.proxyThreads=platform}: platform threads per direction, else virtual. */
  private static final Thread.Builder PROXY_THREADS =
      "platform".equals(System.getProperty("nocopy.bench.proxyThreads"))
          ? Thread.ofPlatform()
          : Thread.ofVirtual();

  /** {@code -Dnocopy.bench.proxyMode=transfers}: two Transfer.transfer threads, else Transfer.proxy. */
  private static final boolean TWO_TRANSFERS =
      "transfers".equals(System.getProperty("nocopy.bench.proxyMode"));

  private static void proxy(int port, int upstream) throws IOException {
    try (ServerSocketChannel ss = listen(port)) {
      while (true) {
        SocketChannel down = ss.accept();
        PROXY_THREADS.start(
            () -> {
              try (down;
                  SocketChannel up =
                      SocketChannel.open(new InetSocketAddress("127.0.0.1", upstream))) {
                if (TWO_TRANSFERS) {
                  Thread back = PROXY_THREADS.start(() -> half(up, down));
                  half(down, up);
                  back.join();
                } else {
                  Transfer.proxy(down, up);
                }
              } catch (IOException | InterruptedException ignored) {
                // connection ended
              }
            });
      }
    }
  }

  private static void half(SocketChannel from, SocketChannel to) {
    try {
      Transfer.transfer(from, to);
      to.shutdownOutput();
    } catch (IOException ignored) {
      // the other side went away
    }
  }
}
