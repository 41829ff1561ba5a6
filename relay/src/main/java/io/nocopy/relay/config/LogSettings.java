package io.nocopy.relay.config;

import java.nio.file.Path;

/**
 * Where the relay logs: icecast.xml's {@code <paths><logdir>} and {@code <logging>}, or the flags
 * {@code --log-dir}, {@code --access-log}, {@code --error-log}, {@code --log-level}. Immutable.
 *
 * @param dir the directory the log file names are in, or null for the working directory
 * @param accessLog the access log's file name (in {@code dir}), or null for none
 * @param errorLog the error log's file name (in {@code dir}), or null for standard error
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

  /**
   * The same places with another level.
   *
   * @param level 1 error .. 4 debug
   * @return the settings
   */
  public LogSettings withLevel(int level) {
    return new LogSettings(dir, accessLog, errorLog, level);
  }

  /**
   * The access log's file.
   *
   * @return the path, or null for none
   */
  public Path accessLogPath() {
    return resolve(accessLog);
  }

  /**
   * The error log's file.
   *
   * @return the path, or null for standard error
   */
  public Path errorLogPath() {
    return resolve(errorLog);
  }

  private Path resolve(String name) {
    if (name == null || name.isEmpty()) {
      return null;
    }
    return dir == null ? Path.of(name) : dir.resolve(name);
  }
}
