package io.nocopy.relay;

import io.nocopy.relay.config.LogSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.logging.ErrorManager;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * The relay's log ({@code System.Logger}, which is {@code java.util.logging} here) at the level
 * icecast.xml's {@code <loglevel>} or {@code --log-level} gives (1 error, 2 warn, 3 info, 4
 * debug), and, with an error log file, written there in Icecast's error-log form instead of to
 * standard error:
 *
 * <pre>
 * [2026-12-03  05:41:59] INFO RelayServer/killSource /hidden.mp3: source removed by an admin request
 * </pre>
 *
 * (Icecast's level names {@code EROR WARN INFO DBUG}, then the class and method where Icecast names
 * its module and function.) {@link #reopen} opens the file anew, for logrotate's SIGHUP. The
 * handler is process-wide: installed once by {@code ./nocopy relay}.
 */
final class ErrorLog extends Handler {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd  HH:mm:ss");
  private static final SimpleFormatter MESSAGES = new SimpleFormatter();

  private final LogFile file;

  private ErrorLog(Path path) throws IOException {
    this.file = new LogFile("error log", path);
  }

  /**
   * Sets the relay's log level and, when {@code settings} names an error log, sends the log there
   * instead of to the console.
   *
   * @param settings the log settings
   * @return the file's handler (the caller reopens it on SIGHUP), or null when logging to
   *     standard error
   * @throws IOException naming the file, if it cannot be opened for appending
   */
  static ErrorLog install(LogSettings settings) throws IOException {
    Logger root = Logger.getLogger("");
    Path p = settings.errorLogPath();
    ErrorLog log = null;
    if (p != null) {
      log = open(p, settings.level());
      for (Handler h : root.getHandlers()) {
        root.removeHandler(h);
      }
      root.addHandler(log);
    }
    applyLevel(settings.level());
    return log;
  }

  /**
   * Sets the relay's log level, at the start and on a reload: the root logger's and that of each
   * handler it writes to (the error log, or the console).
   *
   * @param icecast 1 error .. 4 debug
   */
  static void applyLevel(int icecast) {
    Level level = level(icecast);
    Logger root = Logger.getLogger("");
    root.setLevel(level);
    for (Handler h : root.getHandlers()) {
      h.setLevel(level);
    }
  }

  /**
   * A handler writing to {@code path} (created, appended to) from {@code level} on, not installed.
   *
   * @param path the file
   * @param level 1 error .. 4 debug
   * @return the handler; the caller closes it
   * @throws IOException naming the file, if it cannot be opened for appending
   */
  static ErrorLog open(Path path, int level) throws IOException {
    ErrorLog log = new ErrorLog(path);
    log.setLevel(level(level));
    return log;
  }

  /** The {@code java.util.logging} level of an Icecast log level (1..4). */
  static Level level(int icecast) {
    return switch (icecast) {
      case 1 -> Level.SEVERE;
      case 2 -> Level.WARNING;
      case 3 -> Level.INFO;
      default -> Level.ALL;
    };
  }

  /**
   * One record as Icecast writes its error log, with its line feed (and the stack trace of a
   * throwable after it).
   *
   * @param r the record
   * @param when its time, local
   * @return the text
   */
  static String format(LogRecord r, LocalDateTime when) {
    String cls = r.getSourceClassName() == null ? r.getLoggerName() : r.getSourceClassName();
    cls = cls == null ? "-" : cls.substring(cls.lastIndexOf('.') + 1);
    StringBuilder b = new StringBuilder(128).append('[').append(TIME.format(when)).append("] ")
        .append(name(r.getLevel())).append(' ').append(cls).append('/')
        .append(r.getSourceMethodName() == null ? "-" : r.getSourceMethodName()).append(' ')
        .append(MESSAGES.formatMessage(r)).append('\n');
    if (r.getThrown() != null) {
      StringWriter w = new StringWriter();
      r.getThrown().printStackTrace(new PrintWriter(w));
      b.append(w);
    }
    return b.toString();
  }

  private static String name(Level l) {
    int v = l.intValue();
    return v >= Level.SEVERE.intValue() ? "EROR" : v >= Level.WARNING.intValue() ? "WARN"
        : v >= Level.INFO.intValue() ? "INFO" : "DBUG";
  }

  @Override
  public void publish(LogRecord r) {
    if (!isLoggable(r)) {
      return;
    }
    try {
      file.write(format(r, LocalDateTime.now()).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      reportError(e.getMessage(), e, ErrorManager.WRITE_FAILURE);
    }
  }

  /** Opens the path anew (logrotate moved the file away); on failure the old file stays in use. */
  void reopen() {
    try {
      file.reopen();
    } catch (IOException e) {
      reportError(e.getMessage() + " (still writing to the old file)", e, ErrorManager.OPEN_FAILURE);
    }
  }

  @Override
  public void flush() {
    // every line is written at once
  }

  @Override
  public void close() {
    file.close();
  }
}
