package io.nocopy.relay;

import io.nocopy.relay.config.IcecastConfig.Master;
import io.nocopy.relay.config.IcecastConfig.RelaySettings;
import io.nocopy.relay.config.Relaying;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The command line's way to say what {@code <relay>} and {@code <master-server>} say in an
 * icecast.xml: {@code --relay URL}, {@code --master URL} and their companions, turned into the
 * same {@link Relaying} settings, over the file's when both are given. Stateless.
 */
final class RelayFlags {
  private RelayFlags() {}

  /**
   * A {@code --relay} URL as a relay: {@code http://[USER:PW@]HOST[:PORT]/MOUNT}, served here under
   * the same mount; whether it asks for ICY titles is {@code --relay-metadata}'s (on by default).
   */
  static RelaySettings relay(String v) {
    URI u = httpUrl("--relay", "http://host:port/mount", v);
    if (u.getPath() == null || u.getPath().length() < 2) {
      throw new IllegalArgumentException("--relay wants http://host:port/mount, got '" + v + "'");
    }
    String mount;
    try {
      mount = MountName.validate(u.getPath());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--relay '" + v + "': " + e.getMessage());
    }
    String[] login = login(u);
    return new RelaySettings(u.getHost(), u.getPort() < 0 ? 80 : u.getPort(), mount, mount, login[0],
        login[1], false, false);
  }

  /** A {@code --master} URL: {@code http://[USER:PW@]HOST[:PORT]}, path empty or {@code /}. */
  static URI master(String v) {
    URI u = httpUrl("--master", "http://user:password@host:port", v);
    if (u.getPath() != null && u.getPath().length() > 1) {
      throw new IllegalArgumentException("--master wants http://user:password@host:port without a path,"
          + " got '" + v + "'");
    }
    return u;
  }

  private static URI httpUrl(String flag, String shape, String v) {
    URI u;
    try {
      u = URI.create(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(flag + " wants " + shape + ", got '" + v + "'");
    }
    if (!"http".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
      throw new IllegalArgumentException(flag + " wants " + shape + ", got '" + v + "'");
    }
    return u;
  }

  /** The user and password of a URL's user info ({@code null}s when it has none). */
  private static String[] login(URI u) {
    String info = u.getUserInfo();
    if (info == null) {
      return new String[2];
    }
    int colon = info.indexOf(':');
    return colon < 0 ? new String[] {info, ""}
        : new String[] {info.substring(0, colon), info.substring(colon + 1)};
  }

  /**
   * The relaying settings with what the flags say over {@code base} (an icecast.xml's, or none):
   * {@code --relay}s are added to the file's relays, the other flags replace the file's values.
   */
  static Relaying relaying(Relaying base, List<RelaySettings> relays, boolean relayMetadata,
      String relayUser, String relayPassword, URI master, Duration masterInterval) {
    List<RelaySettings> all = new ArrayList<>(base.relays());
    for (RelaySettings r : relays) {
      all.add(new RelaySettings(r.server(), r.port(), r.mount(), r.localMount(), r.username(),
          r.password(), relayMetadata, r.onDemand()));
    }
    Optional<Master> m = base.master();
    if (master != null) {
      String[] login = login(master);
      Master old = m.orElse(null);
      m = Optional.of(new Master(master.getHost(), master.getPort() < 0 ? 80 : master.getPort(),
          old != null ? old.updateInterval() : Duration.ofSeconds(120),
          login[0] != null ? login[0] : "relay", login[1], old != null && old.onDemand()));
    }
    if (masterInterval != null) {
      if (masterInterval.isNegative() || masterInterval.isZero()) {
        throw new IllegalArgumentException("--master-interval must be at least 1 second, got "
            + masterInterval.toSeconds());
      }
      Master old = m.orElseThrow(() -> new IllegalArgumentException("--master-interval without --master"));
      m = Optional.of(new Master(old.server(), old.port(), masterInterval, old.username(),
          old.password(), old.onDemand()));
    }
    return new Relaying(relayUser != null ? relayUser : base.user(),
        relayPassword != null ? relayPassword : base.password(), all, m);
  }
}
