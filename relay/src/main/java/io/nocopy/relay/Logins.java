package io.nocopy.relay;

import io.nocopy.relay.http.HttpHead;

/**
 * Who may do what on the server, as one configuration says it: sources by mount, the admin pages,
 * and the slaves' {@code /admin/streamlist.txt}. Immutable: a reload makes a new one and the server
 * swaps it whole, so a request never sees half of the old passwords and half of the new.
 *
 * @param sources who may publish to which mount
 * @param admin the admin pages' credentials
 * @param relay the slaves' login, or null when there is no {@code relay-password} (no slave may log
 *     in)
 */
record Logins(SourceLogins sources, BasicAuth admin, BasicAuth relay) {
  /**
   * The logins a configuration gives.
   *
   * @param config the settings
   * @return their logins
   */
  static Logins of(RelayConfig config) {
    return new Logins(new SourceLogins(config), new BasicAuth(config.adminUser(), config.adminPassword()),
        config.relaying().password() == null ? null
            : new BasicAuth(config.relaying().user(), config.relaying().password()));
  }

  /**
   * Whether a request may see its page: any path outside {@code /admin/}; an {@code /admin/} path
   * with the admin credentials, and {@code /admin/metadata} also with the source credentials (as
   * encoders send them), as in Icecast; {@code /admin/streamlist.txt} with the relay login only
   * (Icecast refuses the admin's there too).
   *
   * @param head the request
   * @return true if it may be answered
   */
  boolean allows(HttpHead.Request head) {
    String p = head.path();
    if (!p.equals("/admin") && !p.startsWith("/admin/")) {
      return true;
    }
    String a = head.header("Authorization");
    if (p.equals("/admin/streamlist.txt")) {
      return relay != null && relay.accepts(a);
    }
    return admin.accepts(a)
        || (p.equals("/admin/metadata") && sources.auth(head.query().get("mount")).accepts(a));
  }
}
