package io.nocopy.relay;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The listeners connected now, each with the id the admin API names it by ({@code listclients},
 * {@code killclient}), its address, {@code User-Agent} and when it connected. A listener's
 * connection takes its id before its response head goes out, adds its entry once its sink is
 * attached and removes it when the sink has ended. Ids count up from 1 in the order listeners are
 * answered and are never reused while the server runs. Thread-safe.
 */
final class ListenerRegistry {
  /** One connected listener. */
  static final class Entry {
    final long id;
    final String ip;
    final String userAgent; // may be null
    private final long connectedNanos = System.nanoTime();
    /** The mount serving it now (a listener moved to another mount has its entry updated). */
    volatile Mount mount;
    /** Its sink on {@link #mount}'s fan-out. */
    volatile MountFanout.Attached sink;

    Entry(long id, String ip, String userAgent, Mount mount, MountFanout.Attached sink) {
      this.id = id;
      this.ip = ip;
      this.userAgent = userAgent;
      this.mount = mount;
      this.sink = sink;
    }

    /** Whole seconds since it connected, as Icecast's {@code Connected}. */
    long connectedSeconds() {
      return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - connectedNanos);
    }
  }

  private final AtomicLong lastId = new AtomicLong();
  private final ConcurrentHashMap<Long, Entry> byId = new ConcurrentHashMap<>();

  /**
   * A fresh id for a listener that is about to be served (before its response head goes out, so
   * that listeners' ids follow the order in which they were answered, as Icecast's follow its
   * accepts). An id that is never {@linkplain #add added} is simply skipped.
   *
   * @return an id no other listener has had
   */
  long nextId() {
    return lastId.incrementAndGet();
  }

  /**
   * Registers a listener whose sink has just been attached.
   *
   * @param id its id from {@link #nextId()}
   * @param ip its address
   * @param userAgent its {@code User-Agent}, or null
   * @param mount the mount serving it
   * @param sink its sink
   * @return its entry; the caller removes it when the sink has ended
   */
  Entry add(long id, String ip, String userAgent, Mount mount, MountFanout.Attached sink) {
    Entry e = new Entry(id, ip, userAgent, mount, sink);
    byId.put(e.id, e);
    return e;
  }

  /** Forgets a listener that has left; idempotent. */
  void remove(Entry e) {
    byId.remove(e.id, e);
  }

  /**
   * The listener with that id, or null.
   *
   * @param id an id from {@link #add}
   * @return the entry, or null if no listener connected now has it
   */
  Entry get(long id) {
    return byId.get(id);
  }

  /**
   * The listeners of one mount, oldest first.
   *
   * @param mount the mount's name
   * @return a new list
   */
  List<Entry> on(String mount) {
    List<Entry> out = new ArrayList<>();
    for (Entry e : byId.values()) {
      if (e.mount.name.equals(mount)) {
        out.add(e);
      }
    }
    out.sort(Comparator.comparingLong(e -> e.id));
    return out;
  }
}
