package io.nocopy.relay;

import io.nocopy.buffer.Slice;
import io.nocopy.pipe.Fanout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One live stream: its source's metadata, the subscribers it fans out to, and the burst ring that
 * gives a new listener the recent past of the stream.
 *
 * <h2>Fan-out (userspace engine)</h2>
 *
 * The source thread reads the stream into pooled slices and calls {@link #publish} for each: under
 * the mount's lock, every subscriber gets its own reference to the same slice (no byte copied) and
 * the burst ring keeps one too. A subscriber that is too far behind is dropped there and then.
 * Joining happens under the same lock: a new subscriber first gets the burst ring's slices (the
 * last {@code burstSize} bytes, cut exactly), then every slice published after it, so it sees the
 * stream without a gap or a duplicate.
 *
 * <p>The lock is held for a handful of reference-count increments per chunk; subscribers write
 * outside it, each on its own thread.
 *
 * <h2>Fan-out (splice engine)</h2>
 *
 * With {@link #attach(Fanout)} the mount's bytes never enter the JVM: the pipe layer's {@link
 * Fanout} splices the source socket into a pipe, tees it into each sink's pipe (and a burst pipe)
 * and splices those to the sockets and recording files. The mount then only keeps the books:
 * which sinks are listeners, how many bytes they took, when each ended.
 */
final class Mount implements Fanout.Listener {
  private static final System.Logger LOG = System.getLogger(Mount.class.getName());

  final String name;
  final String contentType;
  final String iceName;
  final String iceDescription;
  final String iceGenre;
  final Instant started = Instant.now();
  final String engine;
  volatile String title; // from /admin/metadata updates, may be null
  private final int burstSize;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<Subscriber> subscribers = new ArrayList<>();
  private final ArrayDeque<Slice> burst = new ArrayDeque<>();
  private long burstBytes;
  private volatile long bytesIn;
  private long bytesOutOfGone; // bytes written by subscribers that left (under lock)
  // Subscribers that are listeners, not recordings: written under the lock, read without it.
  private volatile int listenerCount;
  private volatile int listenerPeak;
  private boolean ended;
  private volatile Fanout fanout; // splice engine, else null
  private final ConcurrentHashMap<WritableByteChannel, SpliceSink> spliceSinks = new ConcurrentHashMap<>();

  /** The books of one splice-engine sink. */
  private record SpliceSink(String label, boolean listener, int preambleBytes, CountDownLatch done) {}

  Mount(String name, String contentType, String iceName, String iceDescription, String iceGenre,
      int burstSize, String engine) {
    this.name = name;
    this.contentType = contentType;
    this.iceName = iceName;
    this.iceDescription = iceDescription;
    this.iceGenre = iceGenre;
    this.burstSize = burstSize;
    this.engine = engine;
  }

  /**
   * Fans a slice out to every subscriber and keeps it for the burst ring. The caller keeps its own
   * reference and closes it afterwards.
   */
  void publish(Slice s) {
    lock.lock();
    try {
      bytesIn += s.length();
      for (int i = subscribers.size() - 1; i >= 0; i--) {
        Subscriber sub = subscribers.get(i);
        if (!sub.offer(s)) {
          LOG.log(System.Logger.Level.WARNING,
              "{0}: dropping {1}: more than {2} bytes behind", name, sub.label, sub.maxBacklogBytes);
          removeLocked(i);
          sub.drop();
        }
      }
      if (burstSize > 0) {
        burst.addLast(s.retain());
        burstBytes += s.length();
        while (burstBytes - burst.peekFirst().length() >= burstSize) {
          Slice old = burst.pollFirst();
          burstBytes -= old.length();
          old.close();
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Adds a subscriber: it gets the burst first, then the live stream.
   *
   * @return false if the mount has already ended (the subscriber was not added)
   */
  boolean join(Subscriber sub) {
    lock.lock();
    try {
      if (ended) {
        return false;
      }
      long skip = burstBytes - burstSize;
      for (Slice s : burst) {
        if (skip >= s.length()) {
          skip -= s.length();
          continue;
        }
        if (skip > 0) {
          try (Slice tail = s.slice(skip, s.length() - skip)) {
            sub.offer(tail);
          }
          skip = 0;
        } else {
          sub.offer(s);
        }
      }
      subscribers.add(sub);
      if (sub.listener) {
        listenerCount++;
        if (listenerCount > listenerPeak) {
          listenerPeak = listenerCount;
        }
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Removes a subscriber whose writer ended (idempotent). */
  void leave(Subscriber sub) {
    lock.lock();
    try {
      int i = subscribers.indexOf(sub);
      if (i < 0 && sub.left) {
        return;
      }
      sub.left = true;
      if (i >= 0) {
        removeLocked(i);
      }
      if (sub.listener) {
        bytesOutOfGone += sub.bytesWritten();
        listenerCount--;
      }
    } finally {
      lock.unlock();
    }
  }

  private void removeLocked(int i) {
    int last = subscribers.size() - 1;
    subscribers.set(i, subscribers.get(last));
    subscribers.remove(last);
  }

  /**
   * The source is gone: every subscriber drains what it has and ends its response; the burst ring
   * is released. Idempotent.
   */
  void end() {
    lock.lock();
    try {
      if (ended) {
        return;
      }
      ended = true;
      for (Subscriber sub : subscribers) {
        sub.finish();
      }
      for (Slice s; (s = burst.pollFirst()) != null; ) {
        s.close();
      }
      burstBytes = 0;
    } finally {
      lock.unlock();
    }
  }

  /** Serves this mount with the splice engine from now on (before any sink is added). */
  void attach(Fanout f) {
    this.fanout = f;
  }

  /** Whether the splice engine serves this mount. */
  boolean spliced() {
    return fanout != null;
  }

  /**
   * Splice engine: adds a listener's socket or a recording's file. The fan-out writes {@code
   * preamble} first, then the burst, then the live stream.
   *
   * @return a latch that opens when the sink has ended (its channel is the caller's again)
   * @throws IOException if the sink's pipe cannot be made (for example the per-user pipe memory
   *     limit of a non-root process)
   * @throws IllegalStateException if the source has already ended
   */
  CountDownLatch addSink(String label, WritableByteChannel ch, byte[] preamble, boolean listener)
      throws IOException {
    SpliceSink info = new SpliceSink(label, listener, preamble.length, new CountDownLatch(1));
    spliceSinks.put(ch, info);
    if (listener) {
      lock.lock();
      try {
        listenerCount++;
        listenerPeak = Math.max(listenerPeak, listenerCount);
      } finally {
        lock.unlock();
      }
    }
    try {
      fanout.add(ch, preamble.length == 0 ? null : ByteBuffer.wrap(preamble));
    } catch (IOException | RuntimeException e) {
      spliceSinks.remove(ch);
      if (listener) {
        lock.lock();
        try {
          listenerCount--;
        } finally {
          lock.unlock();
        }
      }
      throw e;
    }
    return info.done();
  }

  private final CountDownLatch sourceEnded = new CountDownLatch(1);

  @Override
  public void sourceEnded(long bytes, IOException error) {
    if (error != null) {
      LOG.log(System.Logger.Level.INFO, "{0}: source read failed: {1}", name, error.getMessage());
    }
    sourceEnded.countDown();
  }

  /** Splice engine: waits until the fan-out's source has ended. */
  void awaitSourceEnd() throws InterruptedException {
    sourceEnded.await();
  }

  @Override
  public void sinkClosed(Fanout.Sink sink, Fanout.Reason reason, IOException error) {
    SpliceSink info = spliceSinks.remove(sink.channel());
    if (info == null) {
      return;
    }
    if (reason == Fanout.Reason.TOO_SLOW) {
      LOG.log(System.Logger.Level.WARNING, "{0}: dropping {1}: more than the queue size behind", name,
          info.label());
    } else if (reason == Fanout.Reason.FAILED && !info.listener()) {
      LOG.log(System.Logger.Level.ERROR, "{0}: recording {1} failed: {2}", name, info.label(),
          String.valueOf(error));
    }
    if (info.listener()) {
      lock.lock();
      try {
        bytesOutOfGone += Math.max(0, sink.bytesWritten() - info.preambleBytes());
        listenerCount--;
      } finally {
        lock.unlock();
      }
    }
    info.done().countDown();
  }

  /** Drops every subscriber at once (server shutdown). */
  void dropAll() {
    Fanout f = fanout;
    if (f != null) {
      f.close();
    }
    lock.lock();
    try {
      for (Subscriber sub : subscribers) {
        sub.drop();
      }
    } finally {
      lock.unlock();
    }
  }

  long bytesIn() {
    Fanout f = fanout;
    return f != null ? f.bytesIn() : bytesIn;
  }

  int listeners() {
    return listenerCount;
  }

  MountSnapshot snapshot() {
    long out;
    lock.lock();
    try {
      out = bytesOutOfGone;
      for (Subscriber s : subscribers) {
        out += s.listener ? s.bytesWritten() : 0;
      }
    } finally {
      lock.unlock();
    }
    Fanout f = fanout;
    if (f != null) {
      for (Fanout.Sink sk : f.sinks()) {
        SpliceSink info = spliceSinks.get(sk.channel());
        if (info != null && info.listener()) {
          out += Math.max(0, sk.bytesWritten() - info.preambleBytes());
        }
      }
    }
    return new MountSnapshot(name, contentType, iceName, iceDescription, iceGenre, listenerCount,
        listenerPeak, started, bytesIn(), out, f != null ? "splice" : engine, title);
  }
}
