package io.nocopy.relay;

import java.nio.channels.SocketChannel;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The mounts being served now, by name, each with the socket its bytes come from (a source's, or a
 * cascade's upstream). A name is taken by one mount at a time: {@link #publish} takes it, {@link
 * #unpublish} frees it when that source ends. Thread-safe (concurrent maps); the watchdog's {@link
 * Timeouts} reads the same maps.
 */
final class LiveMounts {
  private final ConcurrentHashMap<String, Mount> mounts = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timeouts.Live> sources = new ConcurrentHashMap<>();

  /**
   * Makes a mount visible to listeners.
   *
   * @param mount the mount
   * @param source the socket the mount's bytes come from (a source's, or a cascade's upstream),
   *     closed first by the server's close so that the mount ends with everything it received
   * @return false if the name is taken (nothing changed)
   */
  boolean publish(Mount mount, SocketChannel source) {
    if (mounts.putIfAbsent(mount.name, mount) != null) {
      return false;
    }
    sources.put(mount.name, new Timeouts.Live(mount, source, System.nanoTime()));
    return true;
  }

  /**
   * Frees the mount's name (its source ended); idempotent.
   *
   * @param mount the mount {@link #publish} took the name for
   * @param source the socket given to {@link #publish}
   */
  void unpublish(Mount mount, SocketChannel source) {
    mounts.remove(mount.name, mount);
    sources.computeIfPresent(mount.name, (k, v) -> v.ch == source ? null : v);
  }

  /** The live mount of that name, or null. */
  Mount get(String name) {
    return mounts.get(name);
  }

  /** The live source of that mount, or null. */
  Timeouts.Live source(String name) {
    return sources.get(name);
  }

  /** The live mounts (a live view). */
  Collection<Mount> all() {
    return mounts.values();
  }

  /** The live sources (a live view). */
  Collection<Timeouts.Live> sources() {
    return sources.values();
  }

  /** How many mounts are live. */
  int size() {
    return mounts.size();
  }

  /** The watchdog's checks over these mounts and their sources. */
  Timeouts timeouts(java.util.function.Supplier<RelayConfig> settings) {
    return new Timeouts(settings, mounts, sources);
  }
}
