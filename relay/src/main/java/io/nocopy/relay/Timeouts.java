package io.nocopy.relay;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Icecast's timeouts after admission, checked by the server's watchdog thread ({@link #check}):
 * {@code --source-timeout} for sources that send nothing, {@code --client-timeout} for listeners
 * that take nothing. Both read only counters the fan-out keeps, on either transport; no stream byte
 * is touched. Used by the watchdog thread only, but for the maps, which the server shares.
 */
final class Timeouts {
  private static final System.Logger LOG = System.getLogger(Timeouts.class.getName());

  private final java.util.function.Supplier<RelayConfig> settings; // the server's current ones
  private final Map<String, Mount> mounts;
  private final Map<String, Live> sources;
  // the client timeout's books: per listener, {bytes written, when that last changed}
  private final IdentityHashMap<MountFanout.Attached, long[]> progress = new IdentityHashMap<>();

  /**
   * @param settings the server's current settings (the timeouts; read at every check, so that a
   *     reload applies at the next one)
   * @param mounts the server's live mounts (read)
   * @param sources the server's live sources by mount name (read; the server adds and removes)
   */
  Timeouts(java.util.function.Supplier<RelayConfig> settings, Map<String, Mount> mounts,
      Map<String, Live> sources) {
    this.settings = settings;
    this.mounts = mounts;
    this.sources = sources;
  }

  /** One round of both checks. */
  void check() {
    checkListeners();
    checkSources();
  }

  /**
   * The client timeout (watchdog thread): a listener with bytes waiting for it that has taken
   * none for {@code --client-timeout} is dropped. A listener that reads slowly still makes
   * progress and stays until it falls {@code --queue-size} behind; this catches the one that
   * stopped reading on a stream too slow to fill its queue soon.
   */
  private void checkListeners() {
    RelayConfig config = settings.get();
    long now = System.nanoTime();
    long limit = config.clientTimeout().toNanos();
    Set<MountFanout.Attached> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Mount m : mounts.values()) {
      for (MountFanout.Attached a : m.listenerSinks()) {
        seen.add(a);
        long written = a.bytesWritten();
        long[] p = progress.get(a);
        if (p == null) {
          progress.put(a, new long[] {written, now});
        } else if (p[0] != written || a.backlog() == 0) {
          p[0] = written;
          p[1] = now;
        } else if (now - p[1] >= limit) {
          progress.remove(a);
          LOG.log(System.Logger.Level.WARNING, "{0}: listener {1} took no byte for {2} s with {3}"
              + " bytes waiting (--client-timeout): dropping it", m.name, a.label,
              config.clientTimeout().toSeconds(), a.backlog());
          m.countDrop(Mount.Drop.CLIENT_TIMEOUT);
          a.drop();
        }
      }
    }
    progress.keySet().retainAll(seen);
  }

  /** A live source as the source timeout watches it: when its byte count last moved. */
  static final class Live {
    final Mount mount;
    final SocketChannel ch;
    long bytes; // watchdog thread only
    long changed;
    boolean cut;

    Live(Mount mount, SocketChannel ch, long now) {
      this.mount = mount;
      this.ch = ch;
      this.changed = now;
    }
  }

  /**
   * The source timeout (watchdog thread): a source whose byte count has not moved for {@code
   * --source-timeout} has its input shut down, so its fan-out sees the end of the stream, the mount
   * ends as if the source had left, and its name is free for the encoder's reconnection. On both
   * transports the count is the fan-out's, so the check reads no stream byte.
   */
  private void checkSources() {
    RelayConfig config = settings.get();
    long now = System.nanoTime();
    long limit = config.sourceTimeout().toNanos();
    for (Live l : sources.values()) {
      long b = l.mount.fanout.bytesIn();
      if (b != l.bytes) {
        l.bytes = b;
        l.changed = now;
      } else if (!l.cut && now - l.changed >= limit) {
        l.cut = true;
        LOG.log(System.Logger.Level.WARNING, "{0}: source sent nothing for {1} s (--source-timeout):"
            + " dropping it, the mount is free again", l.mount.name, config.sourceTimeout().toSeconds());
        try {
          l.ch.shutdownInput();
        } catch (IOException e) {
          RelayServer.closeQuietly(l.ch);
        }
      } else if (l.cut && now - l.changed >= limit + TimeUnit.SECONDS.toNanos(2)) {
        RelayServer.closeQuietly(l.ch); // its reader did not notice the end of the input: cut it off
      }
    }
  }
}
