package io.nocopy.loadgen;

import io.nocopy.relay.http.HttpHead;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * One synthetic listener: {@code GET /<mount>}, then reads the body until the relay closes it,
 * feeding every byte to a {@link FrameVerifier}. An ICY listener asks for metadata ({@code
 * Icy-MetaData: 1}, as players do) and needs an {@code icy-metaint} in the answer: its body's
 * metadata blocks are taken out and their titles counted ({@link IcyStream}) and the audio between
 * them is verified as a plain listener's ({@link ListenerState} keeps the state and the verdict's
 * rules). Runs on its own virtual thread; owns its socket, a 64 KiB direct read buffer and its
 * verifier and histogram, which the caller reads after {@link #awaitEnd} (progress figures may be
 * read at any time).
 */
final class SyntheticListener extends ListenerState implements AutoCloseable {
  private final InetSocketAddress at;
  private final BooleanSupplier measuring;
  private final BooleanSupplier stopping;
  /** This listener's latencies (its verifier records them). */
  final LatencyHistogram latency;
  private volatile SocketChannel ch;
  private Thread thread;

  /**
   * @param at the relay
   * @param mount e.g. {@code /mount1}
   * @param measuring whether latencies are recorded now (the steady-state window)
   * @param stopping whether the sources are being stopped, so that the stream's end is expected
   */
  SyntheticListener(InetSocketAddress at, String mount, BooleanSupplier measuring, BooleanSupplier stopping) {
    this(at, mount, measuring, stopping, false);
  }

  /**
   * @param at the relay
   * @param mount e.g. {@code /mount1}
   * @param measuring whether latencies are recorded now (the steady-state window)
   * @param stopping whether the sources are being stopped, so that the stream's end is expected
   * @param icy whether it asks for ICY metadata
   */
  SyntheticListener(InetSocketAddress at, String mount, BooleanSupplier measuring, BooleanSupplier stopping,
      boolean icy) {
    this(at, mount, measuring, stopping, icy, new LatencyHistogram());
  }

  private SyntheticListener(InetSocketAddress at, String mount, BooleanSupplier measuring,
      BooleanSupplier stopping, boolean icy, LatencyHistogram latency) {
    super(mount, icy, latency);
    this.at = at;
    this.measuring = measuring;
    this.stopping = stopping;
    this.latency = latency;
  }

  /** Connects and listens from a new virtual thread. */
  void start() {
    thread = Thread.ofVirtual().name("demo-listener" + mount).start(this::run);
  }

  private void run() {
    try (SocketChannel c = SocketChannel.open()) {
      ch = c;
      c.connect(at);
      c.socket().setSoTimeout(10_000);
      c.write(ByteBuffer.wrap(("GET " + mount + " HTTP/1.1\r\nHost: " + at.getHostString() + ":" + at.getPort()
          + "\r\nUser-Agent: nocopy-demo\r\n" + (icy ? "Icy-MetaData: 1\r\n" : "")
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
      // the socket's stream reads the head one byte at a time: the body stays for the channel
      HttpHead.Response answer = HttpHead.readResponse(HttpHead.LineSource.of(c.socket().getInputStream()));
      if (!answered(answer.status() == 200, answer.statusLine(), answer.header("icy-metaint"))) {
        return;
      }
      ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
      while (true) {
        buf.clear();
        int n = c.read(buf);
        if (n < 0) {
          break;
        }
        buf.flip();
        body(buf, System.nanoTime(), measuring.getAsBoolean());
      }
      bodyEnded(stopping.getAsBoolean());
    } catch (IOException e) {
      broke(e, stopping.getAsBoolean());
    } finally {
      markEnded();
    }
  }

  /**
   * Waits for the listener's thread to finish.
   *
   * @param millis at most this long
   * @return true if it finished
   * @throws InterruptedException if interrupted
   */
  boolean awaitEnd(long millis) throws InterruptedException {
    return thread == null || thread.join(java.time.Duration.ofMillis(millis));
  }

  /** Closes the socket, which ends the thread if it is still reading. */
  @Override
  public void close() throws IOException {
    SocketChannel c = ch;
    if (c != null) {
      c.close();
    }
  }
}
