package io.nocopy.relay.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What an Icecast 2.4 {@code icecast.xml} says, in the parts the relay supports: read by {@link
 * IcecastXml#read}, with Icecast's defaults where an element is absent. Immutable.
 *
 * @param file the file it was read from
 * @param hostname {@code <hostname>}: the host name in stream URLs (default {@code localhost})
 * @param location {@code <location>} (status pages)
 * @param admin {@code <admin>}: the admin's contact (status pages)
 * @param listenSockets every {@code <listen-socket>}, in file order (at least one)
 * @param limits {@code <limits>}
 * @param authentication {@code <authentication>}
 * @param mountDefaults {@code <mount type="default">}: settings every mount inherits (all unset if absent)
 * @param mounts every {@code <mount>} of type normal, in file order, defaults not yet applied
 * @param relays every {@code <relay>}
 * @param master the {@code master-*} settings of a slave, or empty
 * @param paths {@code <paths>}
 * @param logging {@code <logging>}
 * @param httpHeaders {@code <http-headers>} sent with every answer
 * @param unsupported elements present in the file that the relay does not support, as paths
 *     ({@code paths/webroot}), in file order, each once
 */
public record IcecastConfig(
    Path file,
    String hostname,
    String location,
    String admin,
    List<ListenSocket> listenSockets,
    Limits limits,
    Authentication authentication,
    MountSettings mountDefaults,
    List<MountSettings> mounts,
    List<RelaySettings> relays,
    Optional<Master> master,
    Paths paths,
    Logging logging,
    Map<String, String> httpHeaders,
    List<String> unsupported) {

  /**
   * One {@code <listen-socket>}.
   *
   * @param port the TCP port
   * @param bindAddress the address to bind, or null for every address
   * @param shoutcastMount the mount a SHOUTcast (v1) source on {@code port + 1} publishes to, or null
   */
  public record ListenSocket(int port, String bindAddress, String shoutcastMount) {}

  /**
   * {@code <limits>}.
   *
   * @param clients the most connections at once (listeners, sources, admin requests)
   * @param sources the most sources at once
   * @param queueSize bytes a listener may fall behind before it is dropped
   * @param clientTimeout a listener's allowed silence (Icecast: unused for listeners of live mounts)
   * @param headerTimeout time a new connection has to send its request head
   * @param sourceTimeout a source silent this long is dropped and its mount freed
   * @param burstOnConnect whether new listeners get a burst
   * @param burstSize the burst in bytes
   */
  public record Limits(int clients, int sources, int queueSize, Duration clientTimeout,
      Duration headerTimeout, Duration sourceTimeout, boolean burstOnConnect, int burstSize) {}

  /**
   * {@code <authentication>}; a password that is not set is null (that kind of login is refused).
   *
   * @param sourcePassword the password of user {@code source} on every mount without its own
   * @param relayUser the user slaves and relays log in as (default {@code relay})
   * @param relayPassword that user's password
   * @param adminUser the admin user name
   * @param adminPassword the admin password
   */
  public record Authentication(String sourcePassword, String relayUser, String relayPassword,
      String adminUser, String adminPassword) {}

  /**
   * One {@code <relay>}: a mount pulled from another server.
   *
   * @param server the upstream host
   * @param port the upstream port (default 8000)
   * @param mount the upstream mount (default {@code /})
   * @param localMount the mount here (default: the upstream mount)
   * @param username upstream user for Basic auth, or null
   * @param password upstream password, or null
   * @param relayShoutcastMetadata whether to ask the upstream for ICY metadata and pass titles on
   * @param onDemand whether to pull only while someone listens
   */
  public record RelaySettings(String server, int port, String mount, String localMount,
      String username, String password, boolean relayShoutcastMetadata, boolean onDemand) {}

  /**
   * The master this server is a slave of: every mount the master lists is relayed.
   *
   * @param server the master's host
   * @param port the master's port
   * @param updateInterval how often to ask the master for its mounts
   * @param username the user to log in as ({@code master-username}, default {@code relay}; Icecast
   *     2.4 does not use {@code relay-user} here)
   * @param password {@code master-password}
   * @param onDemand {@code relays-on-demand}: relays pull only while someone listens
   */
  public record Master(String server, int port, Duration updateInterval, String username,
      String password, boolean onDemand) {}

  /**
   * {@code <paths>}.
   *
   * @param logdir where the access and error logs go, or null (logs to standard error)
   * @param pidfile where to write the process id, or null
   */
  public record Paths(Path logdir, Path pidfile) {}

  /**
   * {@code <logging>}.
   *
   * @param accesslog the access log's file name in {@code logdir}, or null for none
   * @param errorlog the error log's file name in {@code logdir}, or null for standard error
   * @param loglevel 1 error, 2 warn, 3 info, 4 debug
   */
  public record Logging(String accesslog, String errorlog, int loglevel) {}

  /**
   * The per-mount settings as a table the relay looks mounts up in.
   *
   * @return the {@code <mount>} elements over the {@code <mount type="default">} settings
   * @throws IllegalArgumentException if a mount name appears twice
   */
  public MountTable mountTable() {
    return new MountTable(mountDefaults, mounts);
  }
}
