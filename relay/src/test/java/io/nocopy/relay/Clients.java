package io.nocopy.relay;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/** Plain-socket clients for the relay tests: sources and listeners as real players speak. */
final class Clients {
  private Clients() {}

  static final String PASSWORD = "hackme-test";
  static final String ADMIN_PASSWORD = "admin-test";

  /**
   * The {@code --engine} of every relay a test starts without choosing one: {@code auto} (the
   * userspace engine with io_uring sends where io_uring works, else splice where available), or
   * the system property {@code relay.test.engine}, which the build's second test run sets to
   * {@code splice} so that every test runs on both transports.
   */
  static final String ENGINE = System.getProperty("relay.test.engine", "auto");

  /**
   * Test settings ({@link #config}) on an engine as tests parametrized by engine name it: {@code
   * splice}, {@code userspace} (io_uring off) or {@code userspace+io_uring}; then {@code extra}.
   * The io_uring engine is skipped (an assumption) where io_uring does not work.
   */
  static RelayConfig configOn(String engine, String... extra) throws Exception {
    String[] flags = switch (engine) {
      case "splice" -> new String[] {"--engine", "splice"};
      case "userspace" -> new String[] {"--engine", "userspace", "--io-uring", "off"};
      case "userspace+io_uring" -> {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.nocopy.fanout.Fanout.whyNoIoUring() == null,
            () -> "io_uring unavailable: " + io.nocopy.fanout.Fanout.whyNoIoUring());
        yield new String[] {"--engine", "userspace", "--io-uring", "on"};
      }
      default -> throw new IllegalArgumentException("no engine " + engine);
    };
    String[] all = new String[flags.length + extra.length];
    System.arraycopy(flags, 0, all, 0, flags.length);
    System.arraycopy(extra, 0, all, flags.length, extra.length);
    return config(all);
  }

  /** A mount's engine as {@link #configOn} names it: its transport, with io_uring if it batches. */
  static String engineOf(MountSnapshot m) {
    return m.ioUring() ? m.engine() + "+io_uring" : m.engine();
  }

  /** Test settings: loopback, any port, the test password, no status line, {@link #ENGINE}; then {@code extra}. */
  static RelayConfig config(String... extra) throws Exception {
    String[] base = {"--listen", "127.0.0.1:0", "--source-password", PASSWORD, "--admin-password",
        ADMIN_PASSWORD, "--status-interval", "0", "--engine", ENGINE};
    String[] all = new String[base.length + extra.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return CommandLine.parse(all);
  }

  /** The admin credentials of {@link #config}, as an {@code Authorization} header line. */
  static String adminAuth() {
    return "Authorization: Basic " + Base64.getEncoder().encodeToString(("admin:" + ADMIN_PASSWORD)
        .getBytes(StandardCharsets.UTF_8)) + "\r\n";
  }

  static String basic(String password) {
    return "Basic " + Base64.getEncoder().encodeToString(("source:" + password).getBytes(StandardCharsets.UTF_8));
  }

  /** A connected source after a successful handshake. */
  static final class Source implements AutoCloseable {
    final Socket socket;
    final OutputStream out;
    final boolean chunked;

    Source(Socket socket, boolean chunked) throws IOException {
      this.socket = socket;
      this.out = socket.getOutputStream();
      this.chunked = chunked;
    }

    void send(byte[] data, int off, int len) throws IOException {
      if (chunked) {
        out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(data, off, len);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
      } else {
        out.write(data, off, len);
      }
      out.flush();
    }

    void finish() throws IOException {
      if (chunked) {
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
      socket.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** Sends a source request; returns the connected source, or throws with the status line. */
  static Source source(InetSocketAddress at, String mount, boolean chunked, boolean legacy)
      throws IOException {
    return source(at, mount, chunked, legacy, "audio/mpeg");
  }

  /** {@link #source(InetSocketAddress, String, boolean, boolean)} with another Content-Type. */
  static Source source(InetSocketAddress at, String mount, boolean chunked, boolean legacy,
      String contentType) throws IOException {
    Socket s = new Socket(at.getAddress(), at.getPort());
    s.setSoTimeout(20_000);
    String req =
        (legacy ? "SOURCE " + mount + " ICE/1.0\r\n" : "PUT " + mount + " HTTP/1.1\r\nHost: x\r\n")
            + "Authorization: " + basic(PASSWORD) + "\r\n"
            + "Content-Type: " + contentType + "\r\nice-name: test stream\r\nice-genre: tests\r\n"
            + (chunked ? "Transfer-Encoding: chunked\r\n" : "")
            + (legacy ? "" : "Expect: 100-continue\r\n")
            + "\r\n";
    s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
    InputStream in = s.getInputStream();
    String first = readHead(in);
    if (!legacy) {
      if (!first.startsWith("HTTP/1.1 100 Continue")) {
        s.close();
        throw new IOException("expected 100 Continue, got: " + first);
      }
      first = readHead(in);
    }
    if (!first.startsWith("HTTP/1.0 200 OK")) {
      s.close();
      throw new IOException("source refused: " + first);
    }
    return new Source(s, chunked);
  }

  /** Reads up to and including the blank line; returns the head as text. */
  static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      b.write(c);
      state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3))
          ? state + 1 : (c == '\r' ? 1 : 0);
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  /** Sends raw bytes as a request and returns everything the server answered until it closed. */
  static String exchange(InetSocketAddress at, String request) throws IOException {
    try (Socket s = new Socket(at.getAddress(), at.getPort())) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  /** Waits until a relay (a child process, say) answers its status page. */
  static void awaitListening(InetSocketAddress at) throws InterruptedException {
    RelayEndToEndTest.await(() -> {
      try {
        return status(exchange(at, "GET /status-json.xsl HTTP/1.0\r\n\r\n")) == 200;
      } catch (Exception e) {
        return false;
      }
    }, "the relay to listen");
  }

  static int status(String response) {
    String[] p = response.split(" ", 3);
    return p.length > 1 ? Integer.parseInt(p[1]) : -1;
  }

  /** Connects and sends {@code GET mount} with {@code headers} (each ending in CRLF). */
  static Socket get(InetSocketAddress at, String mount, String headers) throws IOException {
    Socket socket = new Socket(at.getAddress(), at.getPort());
    socket.setSoTimeout(30_000);
    socket.getOutputStream().write(("GET " + mount + " HTTP/1.0\r\n" + headers + "\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    return socket;
  }

  /** A listener that reads the response head, then the body on its own thread until EOF. */
  static final class Listener implements AutoCloseable {
    final Socket socket;
    final String head;
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    final Thread reader;
    volatile IOException failure;

    Listener(InetSocketAddress at, String mount) throws IOException {
      socket = get(at, mount, "User-Agent: test\r\n");
      InputStream in = socket.getInputStream();
      head = readHead(in);
      reader = Thread.ofPlatform().start(() -> {
        byte[] buf = new byte[16384];
        try {
          for (int n; (n = in.read(buf)) > 0; ) {
            synchronized (body) {
              body.write(buf, 0, n);
            }
          }
        } catch (IOException e) {
          failure = e;
        }
      });
    }

    byte[] awaitEnd() throws InterruptedException {
      reader.join(60_000);
      if (reader.isAlive()) {
        throw new AssertionError("listener did not see the end of the stream");
      }
      synchronized (body) {
        return body.toByteArray();
      }
    }

    int received() {
      synchronized (body) {
        return body.size();
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  static long openFds() throws IOException {
    try (var s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    }
  }
}
