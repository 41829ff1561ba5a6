package io.nocopy.relay;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream server for relay tests: records every request head it gets and answers each with a
 * fixed response head and then a body from {@link Body}, on a thread per connection. Counts the
 * connections open now, so tests see when a relay connects and when it lets go.
 */
final class FakeUpstream implements AutoCloseable {
  /** Writes one connection's body; returns to end it (the connection is closed). */
  @FunctionalInterface
  interface Body {
    void write(OutputStream out) throws IOException, InterruptedException;
  }

  private final ServerSocket server;
  private final String head;
  private final Body body;
  final List<String> requests = new CopyOnWriteArrayList<>();
  final AtomicInteger open = new AtomicInteger();
  final AtomicInteger accepted = new AtomicInteger();
  private final Thread acceptor;

  /**
   * @param port the port to listen on, 0 for any
   * @param head the response head, blank line included
   * @param body the body each connection gets
   */
  FakeUpstream(int port, String head, Body body) throws IOException {
    this.server = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
    this.head = head;
    this.body = body;
    this.acceptor = Thread.ofPlatform().daemon().start(this::accept);
  }

  int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        return;
      }
      accepted.incrementAndGet();
      open.incrementAndGet();
      Thread.ofPlatform().daemon().start(() -> serve(s));
    }
  }

  private void serve(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      requests.add(Clients.readHead(in));
      OutputStream out = s.getOutputStream();
      out.write(head.getBytes(StandardCharsets.ISO_8859_1));
      body.write(out);
    } catch (IOException | InterruptedException e) {
      // the relay went away
    } finally {
      open.decrementAndGet();
    }
  }

  /** A body that never ends: 4 KiB every 20 ms until the reader goes away. */
  static void endless(OutputStream out) throws IOException, InterruptedException {
    byte[] chunk = RelayEndToEndTest.random(4096, 7);
    while (true) {
      out.write(chunk);
      out.flush();
      Thread.sleep(20);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
