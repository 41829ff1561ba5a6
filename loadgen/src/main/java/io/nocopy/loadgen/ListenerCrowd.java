package io.nocopy.loadgen;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BooleanSupplier;

/**
 * Many synthetic listeners on a few selector threads: light enough for 10,000 listeners that each
 * verify every byte ({@link FrameVerifier}, as {@link SyntheticListener} does) on a machine that
 * also runs the relay. Each listener is a non-blocking socket: {@code GET /<mount>}, the response
 * head, then the body fed to its own verifier. A thread reads into one direct buffer of its own and
 * verifies at once, so the memory per listener is its verifier's few kilobytes; latencies go into
 * one histogram per thread ({@link #latency()} after the end). An ICY listener asks for metadata
 * ({@code Icy-MetaData: 1}, as players do) and needs an {@code icy-metaint} in the answer; its
 * body goes through an {@link IcyStream}, which takes the metadata blocks out, counts the titles
 * and passes the audio to the verifier.
 *
 * <p>{@link #add()} queues a listener to the next thread round-robin, which connects it; the caller
 * paces the connects (a relay with a short listen backlog, such as Icecast, loses SYNs otherwise).
 * {@link #cpuNanos()} is the threads' own CPU time, reported apart from the relay's.
 *
 * <p>Thread safety: {@link #add()}, {@link #close()} and the progress figures from any thread;
 * each listener's verifier and each histogram belong to its selector thread until {@link
 * #awaitEnd} returned true.
 */
final class ListenerCrowd implements AutoCloseable {
  private static final byte[] END_OF_HEAD = {'\r', '\n', '\r', '\n'};
  private static final int MAX_HEAD = 16 << 10;

  private final InetSocketAddress at;
  private final String mount;
  private final BooleanSupplier measuring;
  private final BooleanSupplier stopping;
  private final Loop[] loops;
  private final List<Member> members = new ArrayList<>();
  private int next;
  private volatile boolean closed;
  private final java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger ended = new java.util.concurrent.atomic.AtomicInteger();

  /**
   * Starts the selector threads.
   *
   * @param at the relay
   * @param mount e.g. {@code /bench.mp3}
   * @param threads selector threads, at least 1
   * @param measuring whether latencies are recorded now (the steady-state window)
   * @param stopping whether the source is being stopped, so that the stream's end is expected
   * @throws IOException if a selector cannot be opened
   */
  ListenerCrowd(InetSocketAddress at, String mount, int threads, BooleanSupplier measuring,
      BooleanSupplier stopping) throws IOException {
    this.at = at;
    this.mount = mount;
    this.measuring = measuring;
    this.stopping = stopping;
    this.loops = new Loop[Math.max(1, threads)];
    for (int i = 0; i < loops.length; i++) {
      loops[i] = new Loop(i);
    }
    for (Loop l : loops) {
      l.thread.start();
    }
  }

  /**
   * Adds a listener: its thread connects it and sends the request.
   *
   * @param icy whether it asks for ICY metadata
   * @return the listener's handle
   */
  synchronized Member add(boolean icy) {
    Loop l = loops[next++ % loops.length];
    Member m = new Member(l, icy);
    members.add(m);
    l.pending.add(m);
    l.selector.wakeup();
    return m;
  }

  /** The listeners added so far, in order. */
  synchronized List<Member> members() {
    return List.copyOf(members);
  }

  /** Listeners whose response head was a 200, ended or not (a counter: no scan of the crowd). */
  int answered() {
    return answered.get();
  }

  /** Listeners that have ended (failed, dropped or closed). */
  int ended() {
    return ended.get();
  }

  /** CPU time of the crowd's threads so far (nanoseconds). */
  long cpuNanos() {
    var mx = ManagementFactory.getThreadMXBean();
    long n = 0;
    for (Loop l : loops) {
      long t = mx.getThreadCpuTime(l.thread.threadId());
      n += Math.max(0, t);
    }
    return n;
  }

  /** Every thread's latencies together; call after {@link #awaitEnd} returned true. */
  LatencyHistogram latency() {
    LatencyHistogram all = new LatencyHistogram();
    for (Loop l : loops) {
      all.add(l.latency);
    }
    return all;
  }

  /**
   * Waits until every listener has ended (the threads exit when all of theirs have, once closing).
   *
   * @param millis at most this long
   * @return true if every thread ended
   * @throws InterruptedException if interrupted
   */
  boolean awaitEnd(long millis) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    for (Loop l : loops) {
      long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000L);
      if (!l.thread.join(java.time.Duration.ofMillis(left))) {
        return false;
      }
    }
    return true;
  }

  /** Lets the threads end once their listeners have (call after the source stopped). */
  void finish() {
    for (Loop l : loops) {
      l.finishing = true;
      l.selector.wakeup();
    }
  }

  /** Closes every listener's socket and ends the threads. */
  @Override
  public void close() {
    closed = true;
    for (Loop l : loops) {
      l.selector.wakeup();
    }
  }

  /** One listener of the crowd: its state ({@link ListenerState}), read by its loop's thread. */
  final class Member extends ListenerState {
    private SocketChannel ch; // its loop's
    private ByteBuffer head = ByteBuffer.allocate(1024); // until the head is in, then null

    Member(Loop loop, boolean icy) {
      super(ListenerCrowd.this.mount, icy, loop.latency);
    }
  }

  /** One selector thread and its listeners. */
  private final class Loop {
    final Selector selector;
    final Thread thread;
    final ConcurrentLinkedQueue<Member> pending = new ConcurrentLinkedQueue<>();
    final LatencyHistogram latency = new LatencyHistogram();
    final ByteBuffer buf = ByteBuffer.allocateDirect(256 << 10);
    volatile boolean finishing;
    int open; // listeners of this loop not yet ended

    Loop(int i) throws IOException {
      this.selector = Selector.open();
      this.thread = Thread.ofPlatform().daemon().name("crowd-" + i).unstarted(this::run);
    }

    private void run() {
      try {
        while (!closed && !(finishing && open == 0 && pending.isEmpty())) {
          for (Member m; (m = pending.poll()) != null; ) {
            open++;
            connect(m);
          }
          selector.select(100);
          for (SelectionKey k : selector.selectedKeys()) {
            Member m = (Member) k.attachment();
            try {
              if (k.isValid() && k.isConnectable()) {
                connected(m, k);
              } else if (k.isValid() && k.isReadable()) {
                read(m, k);
              }
            } catch (IOException e) {
              m.broke(e, stopping.getAsBoolean());
              end(m, k, null);
            }
          }
          selector.selectedKeys().clear();
        }
      } catch (IOException | ClosedSelectorException e) {
        // the crowd is closing
      } finally {
        for (SelectionKey k : selector.keys()) {
          end((Member) k.attachment(), k, null);
        }
        try {
          selector.close();
        } catch (IOException ignored) {
          // nothing left to do
        }
      }
    }

    private void connect(Member m) {
      try {
        SocketChannel c = SocketChannel.open();
        m.ch = c;
        c.configureBlocking(false);
        SelectionKey k = c.register(selector, SelectionKey.OP_CONNECT, m);
        if (c.connect(at)) {
          connected(m, k);
        }
      } catch (IOException e) {
        m.fail("GET " + mount + ": " + e);
        m.markEnded();
        ended.incrementAndGet();
        open--;
        if (m.ch != null) {
          try {
            m.ch.close();
          } catch (IOException ignored) {
            // failed already
          }
        }
      }
    }

    private void connected(Member m, SelectionKey k) throws IOException {
      m.ch.finishConnect();
      ByteBuffer req = ByteBuffer.wrap(("GET " + mount + " HTTP/1.1\r\nHost: " + at.getHostString() + ":"
          + at.getPort() + "\r\nUser-Agent: nocopy-crowd\r\n" + (m.icy ? "Icy-MetaData: 1\r\n" : "")
          + "Connection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      while (req.hasRemaining()) {
        if (m.ch.write(req) == 0) {
          throw new IOException("the request did not fit an empty socket buffer");
        }
      }
      k.interestOps(SelectionKey.OP_READ);
    }

    private void read(Member m, SelectionKey k) throws IOException {
      buf.clear();
      int n = m.ch.read(buf);
      if (n < 0) {
        if (m.head != null) {
          end(m, k, "GET " + mount + ": the relay closed before answering");
        } else {
          m.bodyEnded(stopping.getAsBoolean());
          end(m, k, null);
        }
        return;
      }
      buf.flip();
      if (m.head != null && !takeHead(m, k)) {
        return;
      }
      if (buf.hasRemaining()) {
        m.body(buf, System.nanoTime(), measuring.getAsBoolean());
      }
    }

    /** Moves head bytes out of {@code buf}; true once the head is complete and a 200. */
    private boolean takeHead(Member m, SelectionKey k) {
      ByteBuffer h = m.head;
      while (buf.hasRemaining()) {
        if (!h.hasRemaining()) {
          if (h.capacity() >= MAX_HEAD) {
            end(m, k, "GET " + mount + ": a response head over " + MAX_HEAD + " bytes");
            return false;
          }
          ByteBuffer bigger = ByteBuffer.allocate(h.capacity() * 2);
          bigger.put(h.flip());
          h = m.head = bigger;
        }
        h.put(buf.get());
        if (endsWithEndOfHead(h)) {
          String text = new String(h.array(), 0, h.position(), StandardCharsets.ISO_8859_1);
          String status = text.substring(0, Math.max(0, text.indexOf('\r')));
          m.head = null;
          if (!m.answered(status.matches("(HTTP/1\\.[01]|ICY) 200( .*)?"), status,
              m.icy ? header(text, "icy-metaint") : null)) {
            end(m, k, null);
            return false;
          }
          answered.incrementAndGet();
          return true;
        }
      }
      return false;
    }

    /** The value of the head's first field {@code name} (any case), or null. */
    private static String header(String head, String name) {
      for (String line : head.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase(name)) {
          return line.substring(colon + 1).strip();
        }
      }
      return null;
    }

    private boolean endsWithEndOfHead(ByteBuffer h) {
      int p = h.position();
      if (p < END_OF_HEAD.length) {
        return false;
      }
      for (int i = 0; i < END_OF_HEAD.length; i++) {
        if (h.get(p - END_OF_HEAD.length + i) != END_OF_HEAD[i]) {
          return false;
        }
      }
      return true;
    }

    private void end(Member m, SelectionKey k, String why) {
      if (m.ended()) {
        return;
      }
      if (why != null) {
        m.fail(why);
      }
      k.cancel();
      try {
        m.ch.close();
      } catch (IOException ignored) {
        // ending anyway
      }
      m.markEnded();
      ended.incrementAndGet();
      open--;
    }
  }
}
