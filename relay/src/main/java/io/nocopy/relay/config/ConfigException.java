package io.nocopy.relay.config;

import java.io.IOException;
import java.nio.file.Path;

/** A configuration file that cannot be used: says which file, which line and why. */
public final class ConfigException extends IOException {
  private static final long serialVersionUID = 1L;

  /** @param line the line of the offending element, 0 if unknown */
  ConfigException(Path file, int line, String reason) {
    super(file + (line > 0 ? ":" + line : "") + ": " + reason);
  }
}
