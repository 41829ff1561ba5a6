package io.nocopy.relay;

import io.nocopy.buffer.Slice;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
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
 */
final class Mount {
  private static final System.Logger LOG = System.getLogger(Mount.class.getName());

  final String name;
  final String contentType;
  final String iceName;
  final String iceDescription;
  final String iceGenre;
  final Instant started = Instant.now();
  final String engine;
  private final int burstSize;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<Subscriber> subscribers = new ArrayList<>();
  private final ArrayDeque<Slice> burst = new ArrayDeque<>();
  private long burstBytes;
  private volatile long bytesIn;
  private long bytesOutOfGone; // bytes written by subscribers that left (under lock)
  private int listenerCount; // subscribers that are listeners, not recordings (under lock)
  private volatile int listeners;
  private volatile int listenerPeak;
  private boolean ended;

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
        listeners = listenerCount;
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
        listeners = listenerCount;
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

  /** Drops every subscriber at once (server shutdown). */
  void dropAll() {
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
    return bytesIn;
  }

  int listeners() {
    return listeners;
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
    return new MountSnapshot(name, contentType, iceName, iceDescription, iceGenre, listeners,
        listenerPeak, started, bytesIn, out, engine);
  }
}
