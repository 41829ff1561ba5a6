package io.nocopy.relay;

import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.Slice;
import io.nocopy.pipe.Fanout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * The splice engine: the mount's bytes never enter the JVM. The pipe layer's {@link Fanout}
 * splices the source socket into a pipe, tees it into each sink's pipe (and a burst pipe) and
 * splices those to the listeners' sockets and the recordings' files; bytes that arrived with the
 * request head go first. This class opens the fan-out and keeps the books: which sink is which,
 * and when each ended.
 */
final class SpliceEngine implements MountEngine, Fanout.Listener {
  private static final System.Logger LOG = System.getLogger(SpliceEngine.class.getName());

  private final String mount;
  private final String source; // for logs: the peer
  private final Fanout fanout;
  private final CountDownLatch sourceEnded = new CountDownLatch(1);
  private final ConcurrentHashMap<WritableByteChannel, Books> sinks = new ConcurrentHashMap<>();
  private volatile boolean ran;

  /** The books of one sink: set up before the fan-out knows it, ended by its callback. */
  private static final class Books implements Sink {
    final String label;
    final Role role;
    final int preambleBytes;
    final CountDownLatch done = new CountDownLatch(1);
    volatile Fanout.Sink sink; // set by add(), or by the callback if that comes first
    volatile boolean slow;

    Books(String label, Role role, int preambleBytes) {
      this.label = label;
      this.role = role;
      this.preambleBytes = preambleBytes;
    }

    @Override
    public void awaitEnd() {
      MountEngine.awaitUninterruptibly(done);
    }

    @Override
    public long bytesWritten() {
      Fanout.Sink s = sink;
      return s == null ? 0 : Math.max(0, s.bytesWritten() - preambleBytes);
    }

    @Override
    public boolean droppedAsSlow() {
      return slow;
    }
  }

  /**
   * Opens the fan-out over the source socket. The reader's buffered bytes (what came with the
   * request head) are taken as the fan-out's leading bytes and the reader is closed: from here on
   * the fan-out alone reads the socket.
   *
   * @param mount the mount's name, for logs
   * @param source the source's peer address, for logs
   * @param ch the source socket
   * @param in the reader the request head was read with
   * @param config burst, queue and coalescing settings
   * @param sinkBound each sink's pipe size: {@code --queue-size}, at most the pipe size limit
   * @throws IOException if the fan-out's pipes cannot be made
   */
  SpliceEngine(String mount, String source, SocketChannel ch, BufReader in, RelayConfig config,
      int sinkBound) throws IOException {
    this.mount = mount;
    this.source = source;
    ByteBuffer leading = null;
    long ahead = in.buffered();
    if (ahead > 0) {
      try (Slice s = in.readSlice(ahead)) {
        leading = ByteBuffer.wrap(s.toByteArray()); // once per source: what came with the head
      }
    }
    in.close();
    this.fanout = Fanout.builder()
        .sinkBound(sinkBound)
        // at most half a listener's pipe, so a new listener has room for the live stream
        .burst(Math.min(config.burstSize(), sinkBound / 2))
        .leading(leading)
        .coalesce(config.coalesce())
        .listener(this)
        // one platform thread per mount does the steady work (see Fanout.Builder)
        .sourceThreadFactory(Thread.ofPlatform().daemon().name("nocopy-mount-", 0).factory())
        .open(ch);
  }

  @Override
  public String name() {
    return "splice";
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalStateException if the source has already ended
   */
  @Override
  public Sink attach(String label, GatheringByteChannel ch, byte[] preamble, Role role)
      throws IOException {
    Books books = new Books(label, role, preamble.length);
    sinks.put(ch, books);
    try {
      Fanout.Sink s = fanout.add(ch, preamble.length == 0 ? null : ByteBuffer.wrap(preamble));
      if (books.sink == null) {
        books.sink = s;
      }
    } catch (IllegalStateException e) {
      sinks.remove(ch);
      return null;
    } catch (IOException | RuntimeException e) {
      sinks.remove(ch);
      throw e;
    }
    return books;
  }

  /**
   * Starts the fan-out, waits for the source to end, reports it, then waits for every sink to
   * drain and closes the fan-out.
   */
  @Override
  public void run(Runnable onSourceEnd) {
    ran = true;
    try (Fanout f = fanout) {
      f.start();
      try {
        sourceEnded.await();
        onSourceEnd.run();
        LOG.log(System.Logger.Level.INFO, "{0}: source {1} ended after {2} bytes", mount, source,
            f.bytesIn());
        f.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void sourceEnded(long bytes, IOException error) {
    if (error != null) {
      LOG.log(System.Logger.Level.INFO, "{0}: source read failed: {1}", mount, error.getMessage());
    }
    sourceEnded.countDown();
  }

  @Override
  public void sinkClosed(Fanout.Sink sink, Fanout.Reason reason, IOException error) {
    Books books = sinks.remove(sink.channel());
    if (books == null) {
      return;
    }
    books.sink = sink;
    if (reason == Fanout.Reason.TOO_SLOW) {
      books.slow = true;
      LOG.log(System.Logger.Level.WARNING, "{0}: dropping {1}: more than the queue size behind", mount,
          books.label);
    } else if (reason == Fanout.Reason.FAILED && books.role == Role.RECORDING) {
      LOG.log(System.Logger.Level.ERROR, "{0}: recording {1} failed: {2}", mount, books.label,
          String.valueOf(error));
    }
    books.done.countDown();
  }

  @Override
  public long bytesIn() {
    return fanout.bytesIn();
  }

  /** Nothing to do: the fan-out ends its sinks when the source socket closes. */
  @Override
  public void end() {}

  @Override
  public void dropAll() {
    fanout.close();
  }

  @Override
  public void close() {
    if (!ran) {
      fanout.close();
    }
  }
}
