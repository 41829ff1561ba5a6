package io.nocopy.relay;

import java.util.Map;

/**
 * The SIGHUP reload of {@code ./nocopy relay --config FILE}: reads the same flags and the file
 * again and applies them to the running server ({@link RelayServer#reload}), so that mounts,
 * passwords and limits change without dropping a listener. A file that no longer reads (malformed,
 * an invalid value, a fallback loop) changes nothing: the running configuration stays and the
 * error log says why, with the file, line and reason. A new log level ({@code <loglevel>}, {@code
 * --log-level}) applies to the process's log ({@link ErrorLog#applyLevel}) once the server took the
 * settings.
 */
final class Reload implements Runnable {
  private static final System.Logger LOG = System.getLogger(Reload.class.getName());

  private final RelayServer server;
  private final Map<String, String> env;
  private final String[] args;

  /**
   * @param server the running server
   * @param env the environment the flags were read with (passwords)
   * @param args the command line's flags, read again at each reload
   */
  Reload(RelayServer server, Map<String, String> env, String[] args) {
    this.server = server;
    this.env = env;
    this.args = args.clone();
  }

  @Override
  public void run() {
    try {
      int level = server.config().logs().level();
      server.reload(CommandLine.parse(env, args));
      int next = server.config().logs().level();
      if (next != level) {
        ErrorLog.applyLevel(next);
        LOG.log(System.Logger.Level.INFO, "reload: log level {0} (was {1})", next, level);
      }
    } catch (IllegalArgumentException | CommandLine.HelpRequested e) {
      LOG.log(System.Logger.Level.ERROR, "reload refused, the running configuration stays: "
          + e.getMessage());
    }
  }
}
