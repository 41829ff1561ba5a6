package io.nocopy.relay;

import io.nocopy.relay.config.MountSettings;
import java.util.List;

/**
 * Icecast's fallback mounts: where a listener goes when the mount it asked for has no source, is
 * full ({@code fallback-when-full}), or loses its source; and the listeners a returning source
 * takes back from its fallback ({@code fallback-override}). Moves between mounts keep the
 * listener's connection and are format-aligned ({@link Moves}); only mounts of the same format
 * (Ogg, MPEG audio, ADTS, other) exchange listeners, since a player cannot change decoders in the
 * middle of a response.
 *
 * <p>A chain of fallbacks is followed up to {@link #MAX_DEPTH} mounts, as in Icecast; a loop is
 * refused when the configuration is read ({@link io.nocopy.relay.config.MountTable#fallbackLoop}).
 * The settings are read from the server's configuration at each call, so a reload applies to the
 * next move.
 *
 * <p>Thread safety: every method may be called from any thread.
 */
final class Fallbacks {
  private static final System.Logger LOG = System.getLogger(Fallbacks.class.getName());
  /** How many mounts a chain of fallbacks may pass through (Icecast's MAX_FALLBACK_DEPTH). */
  static final int MAX_DEPTH = 10;

  private final RelayServer server;

  Fallbacks(RelayServer server) {
    this.server = server;
  }

  private MountSettings settings(String mount) {
    return server.config().mounts().settings(mount);
  }

  /** The fallback of {@code mount}, or null (none, or itself through the defaults). */
  private String fallbackOf(String mount) {
    String f = settings(mount).fallbackMount();
    return f == null || f.equals(mount) ? null : f;
  }

  /**
   * The mount that serves a listener asking for {@code name}: its live mount, else the first live
   * mount along its fallbacks; a full mount with {@code fallback-when-full} passes its listener
   * on to its fallback.
   *
   * @param name the mount asked for
   * @return the live mount, or null (404)
   */
  Mount forListener(String name) {
    String at = name;
    for (int depth = 0; at != null && depth < MAX_DEPTH; depth++) {
      Mount m = server.mount(at);
      MountSettings s = settings(at);
      String next = fallbackOf(at);
      if (m != null && !(next != null && Boolean.TRUE.equals(s.fallbackWhenFull()) && full(m, s))) {
        return m;
      }
      at = next;
    }
    return null;
  }

  private static boolean full(Mount m, MountSettings s) {
    return s.maxListeners() != null && m.full(s.maxListeners());
  }

  /**
   * The first live mount along {@code name} and its fallbacks.
   *
   * @param name a mount name
   * @return the live mount, or null
   */
  Mount live(String name) {
    String at = name;
    for (int depth = 0; at != null && depth < MAX_DEPTH; depth++) {
      Mount m = server.mount(at);
      if (m != null) {
        return m;
      }
      at = fallbackOf(at);
    }
    return null;
  }

  /**
   * Where the listeners of {@code mount} go when its source has ended: the first live mount along
   * its fallbacks, if it has the same format.
   *
   * @param mount a mount whose source ended
   * @return the mount, or null (the listener is disconnected, as without a fallback)
   */
  Mount afterSourceEnd(Mount mount) {
    String f = fallbackOf(mount.name);
    Mount next = f == null ? null : live(f);
    return next != null && next != mount && sameFormat(mount, next) ? next : null;
  }

  /**
   * A source has started on {@code mount}: with {@code fallback-override}, every listener of its
   * fallback's live mount moves to it (those who asked for the fallback too, as in Icecast).
   *
   * @param mount the mount just published
   */
  void sourceStarted(Mount mount) {
    MountSettings s = settings(mount.name);
    String f = fallbackOf(mount.name);
    if (f == null || !Boolean.TRUE.equals(s.fallbackOverride())) {
      return;
    }
    Mount from = live(f);
    if (from != null && from != mount) {
      move(from, mount);
    }
  }

  /**
   * Moves every listener of {@code from} to {@code to}, each at the next boundary of the stream's
   * format, without disconnecting them.
   *
   * @param from a live mount
   * @param to another live mount
   * @return the listeners asked to move; 0 if the formats differ (nobody moves, a warning is
   *     logged, as Icecast does)
   */
  int move(Mount from, Mount to) {
    if (!sameFormat(from, to)) {
      LOG.log(System.Logger.Level.WARNING, "{0} ({1}) and {2} ({3}) are of different formats:"
          + " listeners not moved", from.name, from.contentType, to.name, to.contentType);
      return 0;
    }
    List<MountFanout.Attached> listeners = from.listenerSinks();
    for (MountFanout.Attached a : listeners) {
      from.moves.request(a, to);
    }
    LOG.log(System.Logger.Level.INFO, "{0}: moving {1} listeners to {2}", from.name,
        listeners.size(), to.name);
    return listeners.size();
  }

  /** Whether a player decoding one mount's stream can go on with the other's. */
  static boolean sameFormat(Mount a, Mount b) {
    return a.scanner.formatName().equals(b.scanner.formatName());
  }
}
