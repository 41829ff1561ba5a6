package io.nocopy.relay;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Listener admission: at most {@code --max-listeners} over all mounts and {@code
 * --max-listeners-per-ip} from one address. A listener holds its place from {@link #reserve} to
 * {@link #release}; the per-address counts of addresses with no listener are forgotten, so the
 * table stays as small as the set of connected addresses. Thread-safe, lock-free.
 */
final class ListenerLimits {
  private volatile int maxTotal;
  private volatile int maxPerIp;
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, AtomicInteger> perIp = new ConcurrentHashMap<>();

  ListenerLimits(int maxTotal, int maxPerIp) {
    this.maxTotal = maxTotal;
    this.maxPerIp = maxPerIp;
  }

  /**
   * Changes the limits (a reload); listeners already admitted stay, new ones count against the
   * new limits.
   *
   * @param maxTotal the most listeners over all mounts
   * @param maxPerIp the most listeners from one address
   */
  void limits(int maxTotal, int maxPerIp) {
    this.maxTotal = maxTotal;
    this.maxPerIp = maxPerIp;
  }

  /**
   * Takes a place for a listener from {@code ip}.
   *
   * @return false if a limit is reached (nothing was taken)
   */
  boolean reserve(InetAddress ip) {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      return false;
    }
    AtomicInteger n = perIp.computeIfAbsent(ip, k -> new AtomicInteger());
    if (n.incrementAndGet() > maxPerIp) {
      n.decrementAndGet();
      total.decrementAndGet();
      return false;
    }
    return true;
  }

  /** Gives back a place taken by {@link #reserve} for {@code ip}. */
  void release(InetAddress ip) {
    total.decrementAndGet();
    perIp.computeIfPresent(ip, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
  }
}
