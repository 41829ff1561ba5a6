package io.nocopy.relay;

import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The userspace engine: the source is read into pooled slices and every sink gets a reference to
 * the same slice (no byte copied per sink), written by a {@link Subscriber}.
 *
 * <h2>Fan-out</h2>
 *
 * The mount's platform thread reads the body ({@link SourceBody}: raw or chunked) and publishes
 * each slice: under the engine's lock, every subscriber gets its own reference (or, idle and
 * keeping up, the slice written straight to its socket) and the burst ring keeps one too. A
 * subscriber that is too far behind is dropped there and then. Joining happens under the same
 * lock: a new subscriber first gets the burst ring's slices (the last {@code burstSize} bytes, cut
 * exactly), then every slice published after it, so it sees the stream without a gap or a
 * duplicate. The lock is held for a handful of reference-count increments per chunk.
 *
 * <h2>Pacing</h2>
 *
 * A packet-paced source (below 8 MiB/s over the last 100 ms) is moved once per {@code --coalesce}
 * window: after a read that blocked, or a publish that left the source drained (fewer than 16 KiB
 * pending in the reader and the socket), the thread waits out the window from the slice's arrival,
 * so the next read and each listener's next write carry a window's worth in one system call. A
 * source that is ahead is never held back.
 */
final class UserspaceEngine implements MountEngine {
  private static final System.Logger LOG = System.getLogger(UserspaceEngine.class.getName());
  /** The most bytes one slice of the source carries. */
  static final int MAX_SLICE = 64 * 1024;
  private static final long COALESCE_BELOW_BYTES_PER_SECOND = 8L << 20;
  /** A publish that leaves fewer bytes than this pending in the source counts as having drained it. */
  private static final long COALESCE_DRAINED_BELOW = 16 << 10;
  /** A recording's backlog bound when --queue-size is smaller. */
  private static final long RECORDING_BACKLOG = 16L << 20;

  private final String mount;
  private final String source; // for logs: the peer or upstream URL
  private final SourceBody body;
  private final LongSupplier pending;
  private final Allocator allocator;
  private final int burstSize;
  private final long queueSize;
  private final long coalesceNanos;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<Subscriber> subscribers = new ArrayList<>(); // guarded by lock
  private final ArrayDeque<Slice> burst = new ArrayDeque<>(); // guarded by lock
  private long burstBytes; // guarded by lock
  private boolean ended; // guarded by lock
  private volatile long bytesIn;

  /**
   * @param mount the mount's name, for logs
   * @param source the source's peer address or upstream URL, for logs
   * @param body the source's body; read only by {@link #run}
   * @param pending bytes waiting in the source (reader and socket), or -1 if unknown
   * @param config burst, queue and coalescing settings
   * @param allocator the pool the body reads into
   */
  UserspaceEngine(String mount, String source, SourceBody body, LongSupplier pending,
      RelayConfig config, Allocator allocator) {
    this.mount = mount;
    this.source = source;
    this.body = body;
    this.pending = pending;
    this.allocator = allocator;
    this.burstSize = config.burstSize();
    this.queueSize = config.queueSize();
    this.coalesceNanos = config.coalesce().toNanos();
  }

  /**
   * Bytes of a source waiting to be read, in the reader and in the socket (FIONREAD through the
   * socket adaptor's {@code available()}), or -1 when the socket cannot tell.
   *
   * @param ch the source socket (its stream is used only for {@code available()}, never read or
   *     closed)
   * @param in the reader over it
   * @return a supplier for the engine's pacing
   */
  static LongSupplier pending(SocketChannel ch, BufReader in) {
    InputStream socket;
    try {
      socket = ch.socket().getInputStream();
    } catch (IOException e) {
      return () -> -1;
    }
    return () -> {
      try {
        return in.buffered() + socket.available();
      } catch (IOException e) {
        return -1;
      }
    };
  }

  @Override
  public String name() {
    return "userspace";
  }

  @Override
  public Sink attach(String label, GatheringByteChannel ch, byte[] preamble, Role role) {
    boolean listener = role == Role.LISTENER;
    Subscriber sub = new Subscriber(label, listener, ch, preamble,
        listener ? queueSize : Math.max(queueSize, RECORDING_BACKLOG), allocator);
    if (!join(sub)) {
      return null;
    }
    return new Sink() {
      @Override
      public void awaitEnd() throws IOException {
        try {
          sub.run();
        } finally {
          leave(sub);
          sub.releaseQueued();
        }
      }

      @Override
      public long bytesWritten() {
        return sub.bytesWritten();
      }

      @Override
      public boolean droppedAsSlow() {
        return sub.dropped;
      }
    };
  }

  /** Adds a subscriber: it gets the burst first, then the live stream; false if the mount ended. */
  private boolean join(Subscriber sub) {
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
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Removes a subscriber whose writer ended (idempotent). */
  private void leave(Subscriber sub) {
    lock.lock();
    try {
      int i = subscribers.indexOf(sub);
      if (i >= 0) {
        removeLocked(i);
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
   * Fans a slice out to every subscriber and keeps it for the burst ring. The caller keeps its own
   * reference and closes it afterwards.
   */
  private void publish(Slice s) {
    lock.lock();
    try {
      bytesIn += s.length();
      if (ended) {
        return; // shutting down: the sinks are finishing and the burst is released
      }
      for (int i = subscribers.size() - 1; i >= 0; i--) {
        Subscriber sub = subscribers.get(i);
        if (!sub.offer(s)) {
          LOG.log(System.Logger.Level.WARNING,
              "{0}: dropping {1}: more than {2} bytes behind", mount, sub.label, sub.maxBacklogBytes);
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

  @Override
  public void end() {
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

  @Override
  public void dropAll() {
    lock.lock();
    try {
      for (Subscriber sub : subscribers) {
        sub.drop();
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public long bytesIn() {
    return bytesIn;
  }

  @Override
  public void close() {
    end();
  }

  /**
   * Moves the body into the subscribers until it ends, on a platform thread of its own (this thread
   * waits for it): the mount's steady work, one read and one write per idle listener per chunk,
   * then waits for the source in poll(2) directly, without the virtual-thread scheduler and poller
   * in between (measured: less CPU per chunk). Subscribers then write out what they have and end.
   */
  @Override
  public void run(Runnable sourceEnded) {
    CountDownLatch done = new CountDownLatch(1);
    Thread.ofPlatform().daemon().name("nocopy-mount-" + mount).start(() -> {
      try {
        pump();
      } finally {
        done.countDown();
      }
    });
    MountEngine.awaitUninterruptibly(done); // the pump ends when its source is closed (server close does that)
    sourceEnded.run();
    end();
  }

  private void pump() {
    String why = "end of stream";
    long windowStart = System.nanoTime();
    long windowBytes = 0;
    boolean slow = true;
    try {
      while (true) {
        long t0 = System.nanoTime();
        Slice s = body.next();
        if (s == null) {
          break;
        }
        long t1 = System.nanoTime();
        boolean waited = t1 - t0 > 200_000; // the read blocked: nothing was waiting
        try {
          publish(s);
        } finally {
          s.close();
        }
        long now = System.nanoTime();
        if (now - windowStart >= 100_000_000L) {
          long in = bytesIn;
          slow = (in - windowBytes) * 1_000_000_000L / (now - windowStart) < COALESCE_BELOW_BYTES_PER_SECOND;
          windowStart = now;
          windowBytes = in;
        }
        if (slow && coalesceNanos > 0) {
          // See "Pacing": with many listeners a publish takes milliseconds, and a drained source
          // would otherwise be moved a packet or two at a time.
          boolean gather = waited;
          if (!gather) {
            long p = pending.getAsLong();
            gather = p >= 0 && p < COALESCE_DRAINED_BELOW;
          }
          long wait = t1 + coalesceNanos - System.nanoTime();
          if (gather && wait > 0) {
            LockSupport.parkNanos(wait);
          }
        }
      }
    } catch (ProtocolException e) {
      why = "malformed body: " + e.getMessage();
      LOG.log(System.Logger.Level.WARNING, "{0}: closing source {1}: {2}", mount, source, why);
    } catch (IOException e) {
      why = e.getMessage();
    }
    LOG.log(System.Logger.Level.INFO, "{0}: source {1} ended ({2}) after {3} bytes", mount, source,
        why, bytesIn);
  }
}
