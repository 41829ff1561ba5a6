package io.nocopy.relay;

import io.nocopy.relay.config.IcecastConfig.Master;
import io.nocopy.relay.config.IcecastConfig.RelaySettings;
import io.nocopy.relay.config.Relaying;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The server's relayed mounts: one {@link Cascade} per local mount, from the configured relays
 * ({@code <relay>}, {@code --relay}) and, on a slave, from every mount its master lists ({@link
 * MasterPoll}). A mount of the master that a configured relay already serves locally is left to
 * that relay; one the master stops listing is stopped, as an Icecast slave does.
 *
 * <p>Thread-safety: the cascades are kept in a concurrent map; {@link #demand} is called from
 * listener threads, {@link #master} from the master poll's thread.
 */
final class Relays {
  private static final System.Logger LOG = System.getLogger(Relays.class.getName());
  /** How long a listener of an on-demand mount waits for its upstream before a 404. */
  static final long DEMAND_WAIT_MS = 5000;

  private final RelayServer server;
  private final Map<String, Cascade> byMount = new ConcurrentHashMap<>();
  private final Set<String> fromMaster = ConcurrentHashMap.newKeySet();

  Relays(RelayServer server) {
    this.server = server;
  }

  /** Starts the configured relays, and the master poll of a slave. */
  void start(Relaying relaying) {
    for (RelaySettings r : relaying.relays()) {
      add(r);
    }
    if (relaying.master().isPresent()) {
      Master m = relaying.master().get();
      MasterPoll poll = new MasterPoll(server, m, this);
      server.spawn("relay-master " + m.server() + ":" + m.port(), poll::run);
    }
  }

  private boolean add(RelaySettings r) {
    try {
      MountName.validate(r.localMount());
    } catch (IllegalArgumentException e) {
      LOG.log(System.Logger.Level.ERROR, "relay of {0}: bad local mount {1}: {2}", r.mount(),
          r.localMount(), e.getMessage());
      return false;
    }
    Cascade c = new Cascade(server, r);
    if (byMount.putIfAbsent(r.localMount(), c) != null) {
      LOG.log(System.Logger.Level.WARNING, "{0} is relayed twice: keeping the first, not {1}",
          r.localMount(), c.upstream());
      return false;
    }
    server.spawn("relay-pull " + c.upstream(), c::run);
    return true;
  }

  /**
   * Makes what the master lists the mounts relayed from it: new ones start; ones it no longer lists
   * stop, once the stream being pulled ends (the master ends it when the mount's source leaves).
   *
   * @param master the master
   * @param mounts the mount names it listed, each valid
   */
  void master(Master master, List<String> mounts) {
    Set<String> listed = new LinkedHashSet<>(mounts);
    for (String gone : new ArrayList<>(fromMaster)) {
      if (!listed.contains(gone)) {
        Cascade c = byMount.remove(gone);
        fromMaster.remove(gone);
        if (c != null) {
          LOG.log(System.Logger.Level.INFO, "{0}: the master no longer lists it; relay stopped", gone);
          c.stop();
        }
      }
    }
    for (String m : listed) {
      if (!byMount.containsKey(m)
          && add(new RelaySettings(master.server(), master.port(), m, m, null, null, true,
              master.onDemand()))) {
        fromMaster.add(m);
      }
    }
  }

  /**
   * A listener wants a mount that has no source: if an on-demand relay serves it, the relay
   * connects and this waits (up to {@link #DEMAND_WAIT_MS}) for the mount to go live.
   *
   * @param name the mount
   * @return the live mount, or null (no on-demand relay of that name, or its upstream did not come)
   */
  Mount demand(String name) {
    Cascade c = byMount.get(name);
    if (c == null || !c.onDemand()) {
      return null;
    }
    c.demand();
    long deadline = System.nanoTime() + DEMAND_WAIT_MS * 1_000_000;
    Mount m;
    while ((m = server.mount(name)) == null && System.nanoTime() < deadline && !server.closed()) {
      RelayServer.sleepQuietly(20);
    }
    return m;
  }

  /** The local mounts relayed now (started, whether or not connected), in no order. */
  Set<String> mounts() {
    return Set.copyOf(byMount.keySet());
  }
}
