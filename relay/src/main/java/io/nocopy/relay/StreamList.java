package io.nocopy.relay;

import io.nocopy.relay.config.MountTable;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code /admin/streamlist.txt}, what slaves poll: the live mounts that are not hidden, one per
 * line ended by CR LF, in Icecast 2.4's plain-text answer (its headers, no {@code Content-Length}:
 * the body ends with the connection). Only the relay login ({@code relay-user}:{@code
 * relay-password}) may read it, as in Icecast: not the admin's (see {@link
 * Logins#allows}). Stateless.
 */
final class StreamList {
  private StreamList() {}

  /**
   * The body: each live mount and each on-demand relay's mount (connected or not, as Icecast lists
   * them, so that a slave's listener can wake it), in name order, but those {@code table} marks
   * hidden.
   *
   * @param live the live mounts
   * @param onDemand the local mounts of on-demand relays
   * @param table the per-mount settings
   * @return the lines
   */
  static String body(List<MountSnapshot> live, Set<String> onDemand, MountTable table) {
    TreeSet<String> names = new TreeSet<>(onDemand);
    for (MountSnapshot m : live) {
      names.add(m.mount());
    }
    StringBuilder b = new StringBuilder();
    for (String name : names) {
      if (!Boolean.TRUE.equals(table.settings(name).hidden())) {
        b.append(name).append("\r\n");
      }
    }
    return b.toString();
  }

  /**
   * The whole answer, byte for byte Icecast's but the {@code Server} and {@code Date} values.
   *
   * @param body from {@link #body}
   * @return the response
   */
  static byte[] response(String body) {
    return Responses.page(200, "text/plain; charset=utf-8", body, false);
  }
}
