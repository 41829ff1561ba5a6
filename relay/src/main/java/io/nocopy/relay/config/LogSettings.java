package io.nocopy.relay.config;

import java.nio.file.Path;

/**
 * Where the relay logs: icecast.xml's {@code <paths><logdir>} and {@code <logging>}. Immutable.
 *
 * @param dir the directory of the log files, or null to log to standard error only
 * @param accessLog the access log's file name in {@code dir}, or null for none
 * @param errorLog the error log's file name in {@code dir}, or null for standard error
 * @param level 1 error, 2 warn, 3 info, 4 debug
 */
public record LogSettings(Path dir, String accessLog, String errorLog, int level) {

  /** Checks the level. */
  public LogSettings {
    if (level < 1 || level > 4) {
      throw new IllegalArgumentException("log level must be 1 (error) .. 4 (debug), got " + level);
    }
  }

  /** Everything to standard error at level info, no access log: the relay's default. */
  public static LogSettings standardError() {
    return new LogSettings(null, null, null, 3);
  }
}
