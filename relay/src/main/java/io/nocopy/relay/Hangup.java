package io.nocopy.relay;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import sun.misc.Signal;

/**
 * SIGHUP, the signal logrotate and {@code systemctl reload} send: every registered action runs
 * once per signal, in registration order, on the JVM's signal thread. An action that throws is
 * logged and the others still run. The process-wide handler is installed on the first {@link
 * #onSignal}; where the JVM cannot take SIGHUP (e.g. {@code -Xrs}) a warning says so once and
 * actions can still be run with {@link #raise()}.
 */
final class Hangup {
  private static final System.Logger LOG = System.getLogger(Hangup.class.getName());
  private static final List<Runnable> ACTIONS = new CopyOnWriteArrayList<>();
  private static boolean installed;

  private Hangup() {}

  /**
   * Runs {@code action} on every SIGHUP until {@link #remove} takes it away.
   *
   * @param action what to do; it must return soon (it holds up the actions after it)
   */
  static synchronized void onSignal(Runnable action) {
    ACTIONS.add(action);
    if (!installed) {
      installed = true;
      try {
        Signal.handle(new Signal("HUP"), s -> raise());
      } catch (IllegalArgumentException | UnsupportedOperationException e) {
        LOG.log(System.Logger.Level.WARNING, "SIGHUP cannot be handled here (" + e.getMessage()
            + "): log reopening and reloading need a restart");
      }
    }
  }

  /**
   * Stops running {@code action} on SIGHUP.
   *
   * @param action an action given to {@link #onSignal}
   */
  static void remove(Runnable action) {
    ACTIONS.remove(action);
  }

  /** Runs every registered action now, as a SIGHUP does. */
  static void raise() {
    for (Runnable r : ACTIONS) {
      try {
        r.run();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "a SIGHUP action failed", e);
      }
    }
  }
}
