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
 * them is verified as a plain listener's. Runs on its own virtual thread; owns its socket, a 64 KiB
 * direct read buffer and its verifier and histogram, which the caller reads after {@link
 * #awaitEnd} (progress figures may be read at any time).
 */
final class SyntheticListener implements AutoCloseable {
  private final InetSocketAddress at;
  final String mount;
  private final BooleanSupplier measuring;
  private final BooleanSupplier stopping;
  final boolean icy;
  private volatile IcyStream icyStream;
  final LatencyHistogram latency = new LatencyHistogram();
  final FrameVerifier verifier = new FrameVerifier(latency);
  private volatile SocketChannel ch;
  private volatile boolean connected;
  private volatile boolean ended;
  private volatile long received;
  private volatile String failure;
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
    this.at = at;
    this.mount = mount;
    this.measuring = measuring;
    this.stopping = stopping;
    this.icy = icy;
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
      if (answer.status() != 200) {
        failure = "GET " + mount + " answered '" + answer.statusLine() + "'";
        return;
      }
      IcyStream strip = null;
      if (icy) {
        int metaint = IcyStream.metaint(answer.header("icy-metaint"));
        if (metaint < 1) {
          failure = "GET " + mount + " with Icy-MetaData: 1 answered without a valid icy-metaint ('"
              + answer.header("icy-metaint") + "')";
          return;
        }
        strip = new IcyStream(metaint, verifier);
        icyStream = strip;
      }
      connected = true;
      ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
      while (true) {
        buf.clear();
        int n = c.read(buf);
        if (n < 0) {
          break;
        }
        buf.flip();
        if (strip != null) {
          strip.accept(buf, System.nanoTime(), measuring.getAsBoolean());
        } else {
          verifier.accept(buf, System.nanoTime(), measuring.getAsBoolean());
        }
        received += n;
      }
      if (!stopping.getAsBoolean()) {
        failure = "the relay ended the stream after " + received + " bytes while the source was live";
      } else {
        verifier.end("the source stopped");
      }
    } catch (IOException e) {
      if (!stopping.getAsBoolean() || !connected) {
        failure = (connected ? "" : "GET " + mount + ": ") + e;
      } else {
        failure = "stream broke while the source was stopping: " + e;
      }
    } finally {
      ended = true;
    }
  }

  /** @return whether the response head was a 200 and the body is being read */
  boolean connected() {
    return connected && !ended;
  }

  /** @return whether the listener has finished (stream ended, failed or closed) */
  boolean ended() {
    return ended;
  }

  /** @return the ICY metadata read so far, or null (not an ICY listener, or not connected yet) */
  IcyStream icyStream() {
    return icyStream;
  }

  /** @return body bytes received so far, metadata blocks included (racy progress figure) */
  long received() {
    return received;
  }

  /** @return why the listener failed apart from the verifier's verdict, or null */
  String failure() {
    return failure;
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
