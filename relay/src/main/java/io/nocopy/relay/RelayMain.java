package io.nocopy.relay;

import java.util.concurrent.CountDownLatch;

/**
 * {@code ./nocopy relay}: parses flags (and the {@code --config} file under them), starts the
 * server, writes the pid file, prints where to publish and listen, shows the status line, reloads
 * the file on SIGHUP ({@link Reload}), and shuts down cleanly on SIGINT/SIGTERM (recordings closed
 * complete, pid file removed). Bad flags or a bad configuration file exit with status 2 and one
 * line naming the flag, or the file, line and reason; an address that cannot be bound exits with
 * status 1.
 */
public final class RelayMain {
  private RelayMain() {}

  /**
   * Runs the relay until the process is signalled.
   *
   * @param args flags, see {@link CommandLine#HELP}
   * @throws Exception if the server cannot start (the message says why)
   */
  public static void main(String[] args) throws Exception {
    RelayConfig config;
    try {
      config = CommandLine.parse(args);
    } catch (CommandLine.HelpRequested e) {
      System.out.print(CommandLine.HELP);
      return;
    } catch (IllegalArgumentException e) {
      System.err.println("nocopy relay: " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      ErrorLog errorLog = ErrorLog.install(config.logs());
      if (errorLog != null) {
        Hangup.onSignal(errorLog::reopen);
        System.out.println("nocopy relay: logging to " + config.logs().errorLogPath());
      }
    } catch (java.io.IOException e) {
      System.err.println("nocopy relay: " + e.getMessage());
      System.exit(1);
      return;
    }
    // the hook is in place before the server accepts anyone: a SIGTERM at any later point stops it
    Stop stop = new Stop();
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(stop::run));
    RelayServer server;
    try {
      server = RelayServer.start(config);
    } catch (java.io.IOException e) { // a BindException among them
      System.err.println("nocopy relay: " + e.getMessage());
      stop.started(null, null, null);
      System.exit(1);
      return;
    }
    PidFile pid = PidFile.write(config.pidFile());
    if (config.configFile() != null) {
      Hangup.onSignal(new Reload(server, System.getenv(), args));
    }
    String base = "http://" + server.address().getHostString() + ":" + server.address().getPort();
    System.out.println("nocopy relay listening on " + base + " (engine " + server.transports().engineSummary() + ")");
    for (int i = 1; i < server.addresses().size(); i++) {
      java.net.InetSocketAddress a = server.addresses().get(i);
      System.out.println("  and on " + a.getHostString() + ":" + a.getPort());
    }
    if (config.passwordGenerated()) {
      System.out.println("source password (generated): " + config.sourcePassword());
    }
    if (config.adminPasswordGenerated()) {
      System.out.println("admin credentials (generated) for /admin/: " + config.adminUser() + ":"
          + config.adminPassword());
    }
    System.out.println("publish: ffmpeg -re -i FILE -c copy -f mp3 icecast://source:"
        + config.sourcePassword() + "@" + server.address().getHostString() + ":"
        + server.address().getPort() + "/live.mp3");
    System.out.println("listen:  curl -o out.mp3 " + base + "/live.mp3   status: " + base + "/status-json.xsl");
    StatusLine status =
        config.statusInterval().isZero()
            ? null
            : new StatusLine(server, config.statusInterval().toMillis(), System.out);
    if (status != null) {
      status.start();
    }
    stop.started(server, pid, status);
    stop.done.await();
  }

  /**
   * The shutdown hook (SIGINT, SIGTERM): stops what {@link #main} started, once main says what that
   * is. Registered before the server starts, so that a signal that comes while main is still
   * starting waits for it (at most 30 seconds) instead of finding no hook or half a relay.
   */
  private static final class Stop implements Runnable {
    private final CountDownLatch started = new CountDownLatch(1);
    final CountDownLatch done = new CountDownLatch(1);
    private volatile RelayServer server;
    private volatile PidFile pid;
    private volatile StatusLine status;

    /** What is running (all null when the server did not start): the hook may stop it now. */
    void started(RelayServer server, PidFile pid, StatusLine status) {
      this.server = server;
      this.pid = pid;
      this.status = status;
      started.countDown();
    }

    @Override
    public void run() {
      try {
        started.await(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      RelayServer s = server;
      if (s == null) {
        return;
      }
      if (status != null) {
        status.close();
      }
      System.out.println("nocopy relay: shutting down");
      s.close();
      pid.remove();
      // System.out, not the logger: java.util.logging resets its handlers in its own shutdown hook
      System.out.println("nocopy relay: stopped (recordings closed)");
      done.countDown();
    }
  }
}
