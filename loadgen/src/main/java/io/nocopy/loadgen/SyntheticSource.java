package io.nocopy.loadgen;

import io.nocopy.relay.http.HttpHead;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.locks.LockSupport;

/**
 * One synthetic publisher: {@code PUT /<mount> HTTP/1.1} with Basic auth and
 * {@code Expect: 100-continue}, as Icecast sources speak, then {@link Frames} paced at a fixed rate
 * from its own thread. Owns its socket and a direct buffer of {@value #MAX_BATCH} frames;
 * {@link #close()} ends the stream at a frame boundary and closes the socket.
 */
final class SyntheticSource implements AutoCloseable {
  /** Frames written at most in one write; also the catch-up limit after a stall. */
  static final int MAX_BATCH = 64;
  /** Further behind its schedule than this, a source forgets the missed frames (noted as a stall). */
  private static final long MAX_LAG_NANOS = 250_000_000L;

  final String mount;
  private final SocketChannel ch;
  private final double bytesPerSecond;
  private final ByteBuffer buf = ByteBuffer.allocateDirect(MAX_BATCH * Frames.SIZE);
  private volatile boolean stopping;
  private volatile long lastSeq = -1;
  private volatile boolean skipNext;
  private volatile int stalls;
  private volatile String failure;
  private Thread thread;

  private SyntheticSource(String mount, SocketChannel ch, double bytesPerSecond) {
    this.mount = mount;
    this.ch = ch;
    this.bytesPerSecond = bytesPerSecond;
  }

  /**
   * Connects and publishes the mount: expects {@code HTTP/1.1 100 Continue}, then
   * {@code HTTP/1.0 200 OK}.
   *
   * @param at the relay
   * @param mount e.g. {@code /mount1}
   * @param password the relay's source password
   * @param bytesPerSecond the pace, once {@link #start()}ed
   * @return the connected source; the caller closes it
   * @throws IOException if the connection fails or the relay answers anything else
   */
  static SyntheticSource connect(InetSocketAddress at, String mount, String password, double bytesPerSecond)
      throws IOException {
    SocketChannel ch = SocketChannel.open(at);
    try {
      ch.socket().setSoTimeout(10_000);
      ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
      String auth = Base64.getEncoder().encodeToString(("source:" + password).getBytes(StandardCharsets.UTF_8));
      String req = "PUT " + mount + " HTTP/1.1\r\nHost: " + at.getHostString() + ":" + at.getPort() + "\r\n"
          + "Authorization: Basic " + auth + "\r\nContent-Type: audio/mpeg\r\n"
          + "ice-name: nocopy demo " + mount + "\r\nExpect: 100-continue\r\n\r\n";
      writeFully(ch, ByteBuffer.wrap(req.getBytes(StandardCharsets.US_ASCII)));
      // read one byte at a time: nothing after the heads is consumed
      HttpHead.LineSource lines = HttpHead.LineSource.of(ch.socket().getInputStream());
      HttpHead.Response first = HttpHead.readResponse(lines);
      if (first.status() != 100) {
        throw new IOException("PUT " + mount + ": expected 'HTTP/1.1 100 Continue', got '" + first.statusLine() + "'");
      }
      HttpHead.Response second = HttpHead.readResponse(lines);
      if (second.status() != 200) {
        throw new IOException("PUT " + mount + ": expected 'HTTP/1.0 200 OK', got '" + second.statusLine() + "'");
      }
      return new SyntheticSource(mount, ch, bytesPerSecond);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * Starts streaming from a platform thread of its own: the OS schedules it fairly beside the
   * listeners' virtual threads, so a busy demo process (listeners verifying in the interpreter
   * while the JIT warms up) does not delay the pace.
   */
  void start() {
    thread = Thread.ofPlatform().daemon().name("demo-source" + mount).start(this::run);
  }

  private void run() {
    long t0 = System.nanoTime();
    double framesPerNano = bytesPerSecond / Frames.SIZE / 1e9;
    long scheduled = 0; // frames the schedule has sent since t0 (restarted after a stall)
    try {
      while (!stopping) {
        long now = System.nanoTime();
        long due = (long) ((now - t0) * framesPerNano) + 1 - scheduled;
        if (due <= 0) {
          long next = t0 + (long) Math.ceil(scheduled / framesPerNano);
          LockSupport.parkNanos(Math.min(Math.max(next - now, 10_000L), 50_000_000L));
          continue;
        }
        if (due > MAX_BATCH && (due - MAX_BATCH) / framesPerNano > MAX_LAG_NANOS) {
          stalls++; // far behind (the machine stalled): resume the pace from here
          t0 = now;
          scheduled = 0;
          due = 1;
        }
        int n = (int) Math.min(due, MAX_BATCH);
        long seq = lastSeq;
        long sendNanos = System.nanoTime();
        buf.clear();
        for (int i = 0; i < n; i++) {
          seq++;
          if (skipNext) {
            skipNext = false;
            seq++; // fault injection for tests: this frame number is never sent
          }
          Frames.write(buf, i * Frames.SIZE, seq, sendNanos);
        }
        buf.limit(n * Frames.SIZE);
        writeFully(ch, buf);
        lastSeq = seq;
        scheduled += n;
      }
    } catch (IOException e) {
      if (!stopping) {
        failure = "source " + mount + ": " + e.getMessage();
      }
    } catch (RuntimeException e) {
      failure = "source " + mount + " crashed: " + e;
    }
  }

  private static void writeFully(SocketChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** @return the sequence number of the last frame written, -1 before the first */
  long lastSeq() {
    return lastSeq;
  }

  /**
   * Fault injection for tests: the next frame number is never sent (the one after it follows its
   * predecessor directly), so that every listener must report a gap.
   */
  void skipNextFrame() {
    skipNext = true;
  }

  /** @return how often the source fell so far behind that it skipped ahead */
  int stalls() {
    return stalls;
  }

  /** @return why the source stopped early, or null */
  String failure() {
    return failure;
  }

  /**
   * Stops after the frames in flight (at most one batch), ends the request body and closes the
   * socket; waits at most 5 s for the writing thread.
   */
  @Override
  public void close() throws IOException {
    stopping = true;
    try {
      if (thread != null && !thread.join(java.time.Duration.ofSeconds(5))) {
        failure = "source " + mount + ": could not finish its last write within 5 s";
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      if (ch.isOpen()) {
        ch.shutdownOutput();
      }
    } finally {
      ch.close();
    }
  }
}
