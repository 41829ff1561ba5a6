package io.nocopy.relay;

import io.nocopy.relay.config.IcecastConfig;
import io.nocopy.relay.config.IcecastXml;
import io.nocopy.relay.config.LogSettings;
import io.nocopy.relay.config.Relaying;
import io.nocopy.relay.config.Station;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --config FILE}: an Icecast 2.4 {@code icecast.xml} as relay settings. This is the one
 * place where the file's settings meet {@link RelayConfig}: {@link #apply} sets every group the
 * file speaks for on a builder, and {@link CommandLine#parse} then applies the command-line flags
 * over them, so a flag always wins over the file.
 *
 * <p>What maps to what:
 *
 * <ul>
 *   <li>{@code <listen-socket>}s: the first is {@code --listen}, the others {@link
 *       RelayConfig#extraSockets()}; one without {@code <bind-address>} listens on every address;
 *       a socket with a {@code <shoutcast-mount>} also opens port + 1 for SHOUTcast v1 sources, as
 *       Icecast does.
 *   <li>{@code <limits>}: {@code clients} is {@code --max-clients} and {@code --max-listeners},
 *       {@code sources} {@code --max-sources}, {@code queue-size}, {@code burst-size} ({@code 0}
 *       when {@code burst-on-connect} is off), {@code header-timeout}, {@code source-timeout} and
 *       {@code client-timeout} their flags.
 *   <li>{@code <authentication>}: the source password, the admin user and password; {@code
 *       relay-user}/{@code relay-password} with the {@code <relay>}s and the {@code master-*}
 *       settings are {@link RelayConfig#relaying()}.
 *   <li>{@code <hostname>}, {@code <location>}, {@code <admin>}, {@code <http-headers>}: {@link
 *       RelayConfig#station()}; {@code <mount>}s: {@link RelayConfig#mounts()}; {@code <paths>}
 *       and {@code <logging>}: {@link RelayConfig#logs()} and {@link RelayConfig#pidFile()}.
 * </ul>
 */
final class ConfigFile {
  private static final System.Logger LOG = System.getLogger(ConfigFile.class.getName());

  private ConfigFile() {}

  /**
   * Reads {@code file} and logs, in one warning line, every element in it that the relay does not
   * support (they are ignored).
   *
   * @param file an icecast.xml
   * @return what it says
   * @throws IllegalArgumentException naming the file, the line and the reason, if the file cannot
   *     be read, is malformed or holds an invalid value
   */
  static IcecastConfig read(Path file) {
    IcecastConfig c;
    try {
      c = IcecastXml.read(file);
    } catch (io.nocopy.relay.config.ConfigException e) {
      throw new IllegalArgumentException(e.getMessage());
    } catch (IOException e) {
      throw new IllegalArgumentException("--config: cannot read '" + file + "': " + e);
    }
    if (!c.unsupported().isEmpty()) {
      LOG.log(System.Logger.Level.WARNING, "{0}: not supported, ignored: {1}", file,
          String.join(", ", c.unsupported()));
    }
    return c;
  }

  /**
   * Sets on {@code b} everything {@code c} says.
   *
   * @param c an icecast.xml's settings
   * @param b the settings being made; the caller applies command-line flags afterwards
   */
  static void apply(IcecastConfig c, RelayConfig.Builder b) {
    List<RelayConfig.ListenSocket> extra = new ArrayList<>();
    boolean first = true;
    for (IcecastConfig.ListenSocket s : c.listenSockets()) {
      InetSocketAddress address = address(s.bindAddress(), s.port());
      if (first) {
        b.listen = address;
        first = false;
      } else {
        extra.add(new RelayConfig.ListenSocket(address, null));
      }
      if (s.shoutcastMount() != null && s.port() < 65535) {
        extra.add(new RelayConfig.ListenSocket(address(s.bindAddress(), s.port() + 1), s.shoutcastMount()));
      }
    }
    b.extraSockets = extra;
    IcecastConfig.Limits l = c.limits();
    b.maxClients = l.clients();
    b.maxListeners = l.clients();
    b.maxSources = l.sources();
    b.queueSize = l.queueSize();
    b.burstSize = l.burstOnConnect() ? l.burstSize() : 0;
    b.headerTimeout = l.headerTimeout();
    b.sourceTimeout = l.sourceTimeout();
    b.clientTimeout = l.clientTimeout();
    IcecastConfig.Authentication a = c.authentication();
    b.sourcePassword = orNull(a.sourcePassword());
    if (orNull(a.adminUser()) != null) {
      b.adminUser = a.adminUser();
    }
    b.adminPassword = orNull(a.adminPassword());
    b.relaying = Relaying.from(c);
    b.station = new Station(c.hostname(), c.location(), c.admin(), c.httpHeaders());
    b.mounts = c.mountTable();
    b.logs = new LogSettings(c.paths().logdir(), c.logging().accesslog(), c.logging().errorlog(),
        c.logging().loglevel());
    b.pidFile = c.paths().pidfile();
    b.configFile = c.file();
  }

  /** An empty element is as good as none (a password is then generated, as without the file). */
  private static String orNull(String v) {
    return v == null || v.isEmpty() ? null : v;
  }

  /** Where a listen socket binds: its address, or every address (IPv4 and IPv6) when none is given. */
  private static InetSocketAddress address(String bind, int port) {
    return bind == null ? new InetSocketAddress(port) : new InetSocketAddress(bind, port);
  }
}
