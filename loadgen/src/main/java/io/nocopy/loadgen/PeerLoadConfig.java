package io.nocopy.loadgen;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;

/**
 * The flags of {@link PeerLoad}. Immutable.
 *
 * @param target the relay
 * @param pid the relay's process id
 * @param password the source password
 * @param mount the mount, starting with '/'
 * @param listeners listeners on the mount
 * @param bitsPerSecond the source's pace ({@link PeerLoad#MAX_RATE_BITS} for "max")
 * @param seconds the measured window
 * @param warmupSeconds seconds before it
 * @param name the peer's name in the report
 * @param statsPath the peer's stats document, or null
 * @param adminPassword the password of user {@code admin} sent with the stats request, or null
 * @param threads the listener crowd's selector threads
 * @param connectRate listeners connected per second at most
 * @param connectPending listeners waiting for their response head at most
 */
public record PeerLoadConfig(InetSocketAddress target, long pid, String password, String mount, int listeners,
    long bitsPerSecond, int seconds, int warmupSeconds, String name, String statsPath,
    String adminPassword, int threads, int connectRate, int connectPending) {

  /** Validates. */
  public PeerLoadConfig {
    if (pid <= 0) {
      throw new IllegalArgumentException("--pid is required and must be positive");
    }
    if (!mount.startsWith("/")) {
      throw new IllegalArgumentException("--mount must start with '/', got '" + mount + "'");
    }
    if (listeners < 1 || listeners > 10_000) {
      throw new IllegalArgumentException("--listeners must be 1..10000, got " + listeners);
    }
    if (bitsPerSecond < 8L * Frames.SIZE || bitsPerSecond > PeerLoad.MAX_RATE_BITS) {
      throw new IllegalArgumentException("--rate must be between 8kbit and 10gbit (or max), got " + bitsPerSecond);
    }
    if (seconds < 1 || seconds > 3600 || warmupSeconds < 0 || warmupSeconds > 600) {
      throw new IllegalArgumentException("--seconds must be 1..3600 and --warmup 0..600");
    }
    if (threads < 1 || threads > 64 || connectRate < 1 || connectRate > 100_000 || connectPending < 1) {
      throw new IllegalArgumentException(
          "--threads must be 1..64, --connect-rate 1..100000 and --connect-pending at least 1");
    }
  }

  /** @return whether the source runs as fast as it can */
  public boolean maxRate() {
    return bitsPerSecond == PeerLoad.MAX_RATE_BITS;
  }

  /** @return the rate as the report shows it: "max" or e.g. "2 Mbit/s" */
  public String rateLabel() {
    return maxRate() ? "max" : DemoReport.rate(bitsPerSecond);
  }

  /**
   * Parses the flags.
   *
   * @param args see {@link PeerLoad#HELP}
   * @return the settings
   * @throws IllegalArgumentException naming the flag, for anything missing or malformed
   */
  public static PeerLoadConfig parse(String... args) {
    InetSocketAddress target = null;
    long pid = 0;
    String password = "hackme";
    String mount = "/bench.mp3";
    int listeners = 10;
    long rate = 2_000_000;
    int seconds = 12;
    int warmup = 3;
    String name = "relay";
    String statsPath = null;
    String adminPassword = null;
    int threads = 2;
    int connectRate = 1000;
    int connectPending = 64;
    List<String> known = List.of("--target", "--pid", "--password", "--mount", "--listeners", "--rate", "--seconds",
        "--warmup", "--name", "--stats-path", "--admin-password", "--threads", "--connect-rate",
        "--connect-pending");
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (!known.contains(flag)) {
        throw new IllegalArgumentException("unknown option " + flag);
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      String v = args[++i];
      switch (flag) {
        case "--target" -> target = parseTarget(v);
        case "--pid" -> pid = parseLong(flag, v);
        case "--password" -> password = v;
        case "--mount" -> mount = v;
        case "--listeners" -> listeners = (int) parseLong(flag, v);
        case "--rate" -> rate = v.strip().toLowerCase(Locale.ROOT).equals("max") ? PeerLoad.MAX_RATE_BITS
            : DemoConfig.parseRate(v);
        case "--seconds" -> seconds = (int) parseLong(flag, v);
        case "--warmup" -> warmup = (int) parseLong(flag, v);
        case "--name" -> name = v;
        case "--stats-path" -> statsPath = v;
        case "--admin-password" -> adminPassword = v;
        case "--threads" -> threads = (int) parseLong(flag, v);
        case "--connect-rate" -> connectRate = (int) parseLong(flag, v);
        case "--connect-pending" -> connectPending = (int) parseLong(flag, v);
        default -> throw new IllegalArgumentException("unknown option " + flag);
      }
    }
    if (target == null) {
      throw new IllegalArgumentException("--target HOST:PORT is required");
    }
    return new PeerLoadConfig(target, pid, password, mount, listeners, rate, seconds, warmup, name, statsPath,
        adminPassword, threads, connectRate, connectPending);
  }

  static InetSocketAddress parseTarget(String v) {
    int colon = v.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("--target wants HOST:PORT, got '" + v + "'");
    }
    long port = parseLong("--target port", v.substring(colon + 1));
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("--target port out of range: " + port);
    }
    return new InetSocketAddress(v.substring(0, colon), (int) port);
  }

  private static long parseLong(String flag, String v) {
    try {
      return Long.parseLong(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " wants a whole number, got '" + v + "'");
    }
  }
}
