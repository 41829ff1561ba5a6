package io.nocopy.relay;

import io.nocopy.relay.config.IcecastConfig.Master;
import io.nocopy.relay.config.IcecastConfig.RelaySettings;
import io.nocopy.relay.config.Relaying;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The server's relayed mounts: one {@link Cascade} per local mount, from the configured relays
 * ({@code <relay>}, {@code --relay}) and, on a slave, from every mount its master lists ({@link
 * MasterPoll}). A mount of the master that a configured relay already serves locally is left to
 * that relay; one the master stops listing is stopped once its stream ends, as an Icecast slave
 * does. {@link #reload} applies new settings (SIGHUP): relays removed or changed are cut and
 * restarted, the others keep their listeners.
 *
 * <p>Thread-safety: the cascades are kept in a concurrent map; changes to the set ({@link #reload},
 * {@link #master}) are serialised on this object; {@link #demand} is called from listener threads
 * without the lock.
 */
final class Relays {
  private static final System.Logger LOG = System.getLogger(Relays.class.getName());
  /** How long a listener of an on-demand mount waits for its upstream before a 404. */
  static final long DEMAND_WAIT_MS = 5000;

  private final RelayServer server;
  private final Map<String, Cascade> byMount = new ConcurrentHashMap<>();
  private final Set<String> fromMaster = new HashSet<>(); // guarded by this
  private volatile Master master; // null: not a slave
  private boolean polling; // guarded by this: a MasterPoll thread runs

  Relays(RelayServer server) {
    this.server = server;
  }

  /** Starts the configured relays, and the master poll of a slave. */
  void start(Relaying relaying) {
    reload(relaying);
  }

  /**
   * Makes the relays what {@code relaying} says: configured relays that are gone or changed are
   * stopped and their streams cut, new ones start, unchanged ones keep running; a new or changed
   * master is polled from now on, and without a master the mounts relayed from the old one stop.
   *
   * @param relaying the settings to run with
   */
  synchronized void reload(Relaying relaying) {
    Map<String, RelaySettings> wanted = new LinkedHashMap<>();
    for (RelaySettings r : relaying.relays()) {
      wanted.putIfAbsent(r.localMount(), r);
    }
    for (Map.Entry<String, Cascade> e : new ArrayList<>(byMount.entrySet())) {
      String mount = e.getKey();
      if (!fromMaster.contains(mount) && !e.getValue().settings().equals(wanted.get(mount))) {
        LOG.log(System.Logger.Level.INFO, "{0}: relay {1} removed or changed by the new settings",
            mount, e.getValue().upstream());
        byMount.remove(mount);
        e.getValue().stop(true);
      }
    }
    for (RelaySettings r : relaying.relays()) {
      Cascade running = byMount.get(r.localMount());
      if (running != null && fromMaster.remove(r.localMount())) {
        running.stop(true); // a configured relay takes the mount over from the master's
        byMount.remove(r.localMount());
      }
      if (!byMount.containsKey(r.localMount())) {
        add(r);
      }
    }
    Master next = relaying.master().orElse(null);
    if (!java.util.Objects.equals(next, master)) {
      master = next;
      master(next, List.of()); // the old master's relays stop; the next poll lists the new one's
    }
    if (next != null && !polling) {
      polling = true;
      MasterPoll poll = new MasterPoll(server, this);
      server.spawn("relay-master", poll::run);
    }
  }

  /** The master to poll now, or null when this server is no longer a slave. */
  Master currentMaster() {
    return master;
  }

  /**
   * Called by the poll when it finds no master to poll: it may end unless a master came back.
   *
   * @return true if the poll ends (a later master starts a new one)
   */
  synchronized boolean pollEnds() {
    if (master != null) {
      return false;
    }
    polling = false;
    return true;
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
   * @param from the master that listed them (ignored unless it is still the current one), or null
   *     to stop every mount relayed from a master
   * @param mounts the mount names it listed, each valid
   */
  synchronized void master(Master from, List<String> mounts) {
    if (from != null && !from.equals(master)) {
      return; // a poll of a master replaced meanwhile
    }
    Set<String> listed = from == null ? Set.of() : new java.util.LinkedHashSet<>(mounts);
    for (String gone : new ArrayList<>(fromMaster)) {
      Cascade c = byMount.get(gone);
      if (!listed.contains(gone)) {
        byMount.remove(gone);
        fromMaster.remove(gone);
        if (c != null) {
          LOG.log(System.Logger.Level.INFO, "{0}: the master no longer lists it; relay stopped", gone);
          c.stop(from == null);
        }
      }
    }
    for (String m : listed) {
      if (!byMount.containsKey(m)
          && add(new RelaySettings(from.server(), from.port(), m, m, null, null, true, from.onDemand()))) {
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

  /** The local mounts of on-demand relays, connected or not, in no order. */
  Set<String> onDemandMounts() {
    Set<String> out = new HashSet<>();
    for (Cascade c : byMount.values()) {
      if (c.onDemand()) {
        out.add(c.mountName());
      }
    }
    return out;
  }
}
