package io.nocopy.relay.config;

import java.util.List;
import java.util.Optional;

/**
 * Pulling mounts from other servers and being pulled from: icecast.xml's {@code <relay>} elements,
 * the {@code master-*} settings of a slave and the {@code relay-user}/{@code relay-password} that
 * slaves log in with. Immutable.
 *
 * @param user the user slaves of this server log in as
 * @param password that user's password, or null (no slave may pull)
 * @param relays the mounts pulled from other servers
 * @param master the master this server pulls every mount of, or empty
 */
public record Relaying(String user, String password, List<IcecastConfig.RelaySettings> relays,
    Optional<IcecastConfig.Master> master) {

  /** Copies the list. */
  public Relaying {
    relays = List.copyOf(relays);
    java.util.Objects.requireNonNull(master, "master");
  }

  /**
   * What an icecast.xml says: its {@code relay-user} and {@code relay-password}, its {@code <relay>}s
   * and its {@code master-*} settings.
   *
   * @param c the file's settings
   * @return the relaying settings
   */
  public static Relaying from(IcecastConfig c) {
    return new Relaying(c.authentication().relayUser(), c.authentication().relayPassword(), c.relays(),
        c.master());
  }

  /** No relays, no master, no slave login. */
  public static Relaying none() {
    return new Relaying("relay", null, List.of(), Optional.empty());
  }
}
