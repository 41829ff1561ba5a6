package io.nocopy.relay;

import io.nocopy.relay.config.MountSettings;
import java.util.HashMap;
import java.util.Map;

/**
 * Who may publish to which mount, as Icecast 2.4 decides it: a mount with its own {@code
 * <username>} or {@code <password>} (its {@code <mount>}, or the {@code <mount type="default">})
 * takes those, user {@code source} and the global source password filling what it leaves unset;
 * every other mount takes {@code source} and the global source password. Made from one
 * configuration, immutable, shared by every connection; a reload makes a new one.
 */
final class SourceLogins {
  /** Icecast's source user where a mount names none. */
  static final String DEFAULT_USER = "source";

  private final Login global;
  private final Login defaults;
  private final Map<String, Login> named = new HashMap<>();

  /** A user and the credentials it is checked with. */
  private record Login(String user, BasicAuth auth) {}

  /**
   * @param config the settings whose source password and per-mount settings apply
   */
  SourceLogins(RelayConfig config) {
    this.global = new Login(DEFAULT_USER, new BasicAuth(DEFAULT_USER, config.sourcePassword()));
    this.defaults = login(config.mounts().defaults(), config.sourcePassword(), global);
    for (Map.Entry<String, MountSettings> e : config.mounts().named().entrySet()) {
      named.put(e.getKey(), login(e.getValue(), config.sourcePassword(), global));
    }
  }

  private static Login login(MountSettings s, String sourcePassword, Login global) {
    if (s.username() == null && s.password() == null) {
      return global;
    }
    String user = s.username() != null ? s.username() : DEFAULT_USER;
    return new Login(user, new BasicAuth(user, s.password() != null ? s.password() : sourcePassword));
  }

  private Login of(String mount) {
    Login l = mount == null ? null : named.get(mount);
    return l != null ? l : defaults;
  }

  /**
   * The credentials a source of {@code mount} must send.
   *
   * @param mount a mount name, or null for the global login
   * @return the credentials
   */
  BasicAuth auth(String mount) {
    return mount == null ? global.auth : of(mount).auth;
  }

  /**
   * The user a source of {@code mount} logs in as (a SHOUTcast source sends only a password).
   *
   * @param mount a mount name
   * @return the user name
   */
  String user(String mount) {
    return of(mount).user;
  }
}
