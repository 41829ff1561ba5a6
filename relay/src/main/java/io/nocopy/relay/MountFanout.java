package io.nocopy.relay;

import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.ChunkConsumer;
import io.nocopy.buffer.Slice;
import io.nocopy.fanout.Fanout;
import io.nocopy.fanout.FanoutListener;
import io.nocopy.fanout.Insertions;
import io.nocopy.fanout.Reason;
import io.nocopy.fanout.Sink;
import io.nocopy.fanout.SliceSource;
import io.nocopy.fanout.StartPosition;
import io.nocopy.fanout.Source;
import io.nocopy.fanout.TransportKind;
import io.nocopy.memory.Allocator;
import io.nocopy.relay.format.FormatScanner;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * A mount's delivery: one fan-out from core ({@link Fanout}) from the source to the mount's
 * listeners and recordings. The relay moves no byte itself; this class opens the fan-out with the
 * relay's settings, adds sinks, runs it to the end, and keeps the books the relay needs: which sink
 * is a listener or a recording, and when each ended.
 *
 * <h2>Sources and transports</h2>
 *
 * <ul>
 *   <li>A raw socket body ({@link #ofSocket}): the bytes read ahead with the request head come
 *       first, then the socket. The fan-out uses the kernel transport (splice and tee: the payload
 *       never enters the JVM) unless {@code --engine userspace} or the platform says otherwise.
 *   <li>A body parsed in userspace ({@link #ofBody}: chunked coding, a {@code Content-Length}, a
 *       cascaded pull): its slices are published as they are read; always the userspace
 *       transport, the same retained slice written to every sink.
 * </ul>
 *
 * The transport is chosen once, when the fan-out opens, and {@link #name()} reports it; a listener
 * that the kernel transport could not give a pipe is served in userspace and its own transport is
 * in {@link Attached#transport()}.
 *
 * <h2>Bounds</h2>
 *
 * A listener may fall {@code --queue-size} behind (on the kernel transport its pipe, so at most the
 * pipe size limit); a recording on the userspace transport at least 16 MiB, so a slow disk is not
 * dropped at once. The burst is {@code --burst-size}, at most half a kernel listener's pipe so a new
 * listener has room for the live stream.
 */
final class MountFanout implements FanoutListener, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MountFanout.class.getName());
  /** The most bytes one slice of a parsed body carries. */
  static final int MAX_SLICE = 64 * 1024;
  /** A userspace recording's bound when --queue-size is smaller. */
  private static final int RECORDING_BOUND = 16 << 20;

  /** A sink's role: listeners are counted and logged as such; recordings have a wider bound. */
  enum Role {
    /** A listener's socket: gets the response head, the burst, then the live stream. */
    LISTENER,
    /** A recording's file: the stream from the moment it was added. */
    RECORDING
  }

  /** One destination of the mount's stream, from {@link #attach} until it ends. */
  static final class Attached {
    final String label;
    final Role role;
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile Sink sink; // set by attach, or by the callback if that comes first
    private volatile Reason reason;
    private volatile Mount moveTo; // where an admin or a returning source sends it, or null

    private Attached(String label, Role role) {
      this.label = label;
      this.role = role;
    }

    /**
     * Blocks until the sink has ended (stream written out, destination failed, or dropped); its
     * channel is the caller's alone again then.
     */
    void awaitEnd() {
      awaitUninterruptibly(done);
    }

    /** Stream bytes written to the destination so far (the response head not counted). */
    long bytesWritten() {
      Sink s = sink;
      return s == null ? 0 : Math.max(0, s.bytesWritten() - s.prefixLength());
    }

    /** Bytes waiting for the destination now (0 before the sink is made). */
    long backlog() {
      Sink s = sink;
      return s == null ? 0 : s.backlog();
    }

    /** Ends the sink now, its waiting bytes discarded (a stalled listener). Idempotent. */
    void drop() {
      Sink s = sink;
      if (s != null) {
        s.remove();
      }
    }

    /**
     * Why it ended, or null while it runs.
     *
     * @return the fan-out's reason
     */
    Reason reason() {
      return reason;
    }

    /**
     * The stream position after the last stream byte it was given (see {@link Sink#endPosition}).
     *
     * @return a position of the source's stream
     */
    long endPosition() {
      Sink s = sink;
      return s == null ? 0 : s.endPosition();
    }

    /** Records where it goes once it leaves its mount (see {@link Moves}). */
    void moveTo(Mount destination) {
      moveTo = destination;
    }

    /** The mount it was moved to, or null. */
    Mount movedTo() {
      return moveTo;
    }

    /**
     * Leaves the mount's stream at stream position {@code position}, its socket open.
     *
     * @return false if it was given bytes past that position or has ended
     */
    boolean detachAt(long position) {
      Sink s = sink;
      return s != null && s.detach(position);
    }

    /** Leaves the mount's stream after the bytes it was given so far, its socket open. */
    void detachNow() {
      Sink s = sink;
      for (int i = 0; s != null && s.isOpen() && i < 100 && !s.detach(s.endPosition()); i++) {
        Thread.onSpinWait(); // a chunk was delivered between the two reads: its end, then
      }
    }

    /** Whether the fan-out dropped it for falling more than its bound behind. */
    boolean droppedAsSlow() {
      return reason == Reason.TOO_SLOW;
    }

    /**
     * The stream position of this destination's first stream byte (see {@link StartPosition}).
     *
     * @return a position of the source's stream
     */
    long startPosition() {
      Sink s = sink;
      return s == null ? 0 : s.startPosition();
    }

    /** The transport serving this destination. */
    String transport() {
      Sink s = sink;
      return s == null ? "?" : name(s.transport());
    }
  }

  private final String mount;
  private final String source; // for logs: the peer or upstream URL
  private final Fanout fanout;
  private final int listenerBound;
  private final int recordingBound;
  private final int burst;
  private final CountDownLatch sourceEnded = new CountDownLatch(1);
  private final ConcurrentHashMap<WritableByteChannel, Attached> sinks = new ConcurrentHashMap<>();
  private volatile boolean ran;

  private MountFanout(Mount m, String source, Source src, TransportKind transport,
      RelayConfig config, int pipeBound, Allocator allocator) throws IOException {
    this.mount = m.name;
    this.source = source;
    boolean kernel = transport == TransportKind.KERNEL;
    this.listenerBound = kernel ? pipeBound : config.queueSize();
    this.recordingBound = kernel ? pipeBound : Math.max(config.queueSize(), RECORDING_BOUND);
    this.burst = kernel ? Math.min(config.burstSize(), pipeBound / 2) : config.burstSize();
    Fanout.Builder b = Fanout.builder();
    if (!m.scanner.formatName().equals("opaque")) {
      // the format scanner reads each source byte once, never per listener; a format without
      // boundaries needs no tap (on the kernel transport its bytes then never enter the JVM)
      // listeners being moved to another mount leave at a boundary the scanner finds here
      FormatScanner scanner = m.scanner;
      Moves moves = m.moves;
      ChunkConsumer scan = seg -> {
        long before = scanner.position();
        scanner.scan(seg);
        moves.scanned(before);
      };
      b.tap(scan);
    }
    RelayConfig.Coalescing c = config.coalesce();
    if (c.auto()) {
      b.coalesceFor(RelayConfig.Coalescing.AUTO_BYTES, RelayConfig.Coalescing.least(config.maxLatency()),
          RelayConfig.Coalescing.most(config.maxLatency()));
    } else {
      b.coalesce(c.window());
    }
    this.fanout = b
        .transport(transport)
        .sinkBound(listenerBound)
        .burst(burst)
        .ioUring(ioUring(config))
        .allocator(allocator)
        .listener(this)
        // one platform thread per mount does the steady work, waiting for the source in poll(2)
        // without the virtual-thread scheduler in between
        .sourceThreadFactory(Thread.ofPlatform().daemon().name("nocopy-mount-", 0).factory())
        .open(src);
  }

  /**
   * A fan-out over a raw socket body. The reader's buffered bytes (what came with the request
   * head) become the stream's first bytes and the reader is closed: from here on the fan-out alone
   * reads the socket.
   *
   * @param mount the mount being made: its name (for logs) and its format scanner (the tap)
   * @param source the source's peer address, for logs
   * @param ch the source socket; stays the caller's
   * @param in the reader the request head was read with; closed here
   * @param kernel whether to use the kernel transport (else userspace)
   * @param config burst, queue and coalescing settings
   * @param pipeBound a kernel sink's pipe size: {@code --queue-size}, at most the pipe size limit
   * @param allocator the relay's pooled memory
   * @return the fan-out, not started
   * @throws IOException if the fan-out's pipes cannot be made
   */
  static MountFanout ofSocket(Mount mount, String source, SocketChannel ch, BufReader in,
      boolean kernel, RelayConfig config, int pipeBound, Allocator allocator) throws IOException {
    long ahead = in.buffered();
    Slice leading = ahead > 0 ? in.readSlice(ahead) : null;
    in.close();
    return new MountFanout(mount, source, Source.channel(ch, leading),
        kernel ? TransportKind.KERNEL : TransportKind.USERSPACE, config, pipeBound, allocator);
  }

  /**
   * A fan-out over a body parsed in userspace, published slice by slice.
   *
   * @param mount the mount being made: its name (for logs) and its format scanner (the tap)
   * @param source the source's peer address or upstream URL, for logs
   * @param body the body's slices; read by the fan-out's source thread only
   * @param in the reader under the body (asked how many bytes it holds, for pacing)
   * @param ch the socket under the reader (asked how many bytes wait in it, for pacing)
   * @param config burst, queue and coalescing settings
   * @param allocator the relay's pooled memory
   * @return the fan-out, not started
   * @throws IOException if the fan-out cannot be opened
   */
  static MountFanout ofBody(Mount mount, String source, SliceSource body, BufReader in,
      SocketChannel ch, RelayConfig config, Allocator allocator) throws IOException {
    SliceSource slices = new SliceSource() {
      @Override
      public Slice next() throws IOException {
        return body.next();
      }

      @Override
      public long buffered() {
        return in.buffered();
      }
    };
    return new MountFanout(mount, source, Source.slices(slices, ch), TransportKind.USERSPACE,
        config, 0, allocator);
  }

  /** The status page's name of a transport. */
  static String name(TransportKind kind) {
    return kind == TransportKind.KERNEL ? "splice" : "userspace";
  }

  /**
   * Whether the userspace engine batches its sends through io_uring with these settings here:
   * {@code --io-uring on} (the server refuses to start where it does not work) or {@code auto}
   * where it works. Where it does not, the server says why once and the fan-outs are opened
   * without it.
   *
   * @param config the settings
   * @return true if userspace fan-outs are opened with io_uring sends
   */
  static boolean ioUring(RelayConfig config) {
    return config.ioUring() != RelayConfig.IoUring.OFF && Fanout.whyNoIoUring() == null;
  }

  /**
   * The transport serving the mount, as the status page names it.
   *
   * @return {@code splice} or {@code userspace} (whether its sends go through io_uring is {@link
   *     #ioUring()})
   */
  String name() {
    return name(fanout.transport());
  }

  /**
   * The engine for log lines: {@code "splice engine"}, {@code "userspace engine"} or {@code
   * "userspace engine, io_uring sends"}.
   *
   * @return the words
   */
  String describe() {
    return name() + (ioUring() ? " engine, io_uring sends" : " engine");
  }

  /**
   * Whether the mount's sends to idle listeners are batched through io_uring now.
   *
   * @return true on the userspace transport with io_uring sends
   */
  boolean ioUring() {
    return fanout.ioUring();
  }

  /**
   * Adds a destination: it gets {@code preamble}, then (a listener) the burst, then the live
   * stream without a gap or a duplicate.
   *
   * @param label for logs: the peer address or the recording's file name
   * @param ch the destination; the fan-out writes to it until the sink ends, never closes it
   * @param preamble bytes written before the stream (a listener's response head), may be empty
   * @param role listener or recording
   * @return the sink, or null if the source has already ended (nothing was added)
   * @throws IOException if the sink cannot be made now (for example no pipe memory is left)
   */
  Attached attach(String label, WritableByteChannel ch, byte[] preamble, Role role) throws IOException {
    return attach(label, ch, preamble, role, StartPosition.BURST, null);
  }

  /**
   * Like {@link #attach(String, WritableByteChannel, byte[], Role)}, starting where {@code start}
   * chooses (a recording that resumes after falling behind; a listener at a frame or page
   * boundary, with its header), with {@code insertions} in its stream (a listener's ICY blocks).
   *
   * @param start chooses the first stream byte (and maybe its header), once, while deliveries wait
   * @param insertions the sink's inserted bytes, or null for none
   */
  Attached attach(String label, WritableByteChannel ch, byte[] preamble, Role role, StartPosition start,
      Insertions insertions) throws IOException {
    Attached a = new Attached(label, role);
    sinks.put(ch, a);
    try {
      Sink s = fanout.sink(ch)
          .prefix(preamble.length == 0 ? null : ByteBuffer.wrap(preamble))
          .startAt(start)
          .insert(insertions)
          .bound(role == Role.LISTENER ? listenerBound : recordingBound)
          .add();
      if (a.sink == null) {
        a.sink = s;
      }
    } catch (IllegalStateException e) {
      sinks.remove(ch);
      return null;
    } catch (IOException | RuntimeException e) {
      sinks.remove(ch);
      throw e;
    }
    return a;
  }

  /**
   * Starts the fan-out, waits for the source to end, reports it, then waits for every sink to
   * drain and closes the fan-out. Errors end the source, never the server.
   *
   * @param onSourceEnd called once when the source's last byte is in, before the sinks drain
   */
  void run(Runnable onSourceEnd) {
    ran = true;
    try (Fanout f = fanout) {
      f.start();
      awaitUninterruptibly(sourceEnded);
      onSourceEnd.run();
      LOG.log(System.Logger.Level.INFO, "{0}: source {1} ended after {2} bytes", mount, source,
          f.bytesIn());
      f.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void sourceEnded(long bytes, IOException error) {
    if (error != null) {
      LOG.log(System.Logger.Level.INFO, "{0}: source {1} ended: {2}", mount, source, error.getMessage());
    }
    sourceEnded.countDown();
  }

  @Override
  public void sinkClosed(Sink sink, Reason reason, IOException error) {
    Attached a = sinks.remove(sink.channel());
    if (a == null) {
      return;
    }
    a.sink = sink;
    a.reason = reason;
    if (reason == Reason.TOO_SLOW) {
      LOG.log(System.Logger.Level.WARNING, "{0}: dropping {1}: more than its queue size behind", mount,
          a.label);
    } else if (reason == Reason.FAILED && a.role == Role.RECORDING) {
      LOG.log(System.Logger.Level.ERROR, "{0}: recording {1} failed: {2}", mount, a.label,
          String.valueOf(error));
    }
    a.done.countDown();
  }

  /** The burst's size: the most recent stream bytes a new listener gets first. */
  int burst() {
    return burst;
  }

  /** Bytes received from the source. */
  long bytesIn() {
    return fanout.bytesIn();
  }

  /** Ends the stream at the next chunk boundary as if the source had left ({@link Fanout#endSource}). */
  void endSource() {
    fanout.endSource();
  }

  /** Ends every sink at once, written out or not (server shutdown). */
  void dropAll() {
    fanout.close();
  }

  /** Frees a fan-out that never ran; a no-op after {@link #run}. */
  @Override
  public void close() {
    if (!ran) {
      fanout.close();
    }
  }

  /**
   * Waits for a latch, keeping the thread's interrupt for later: a connection waits for its sink
   * or source whatever happens, and the server's close ends both.
   */
  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
