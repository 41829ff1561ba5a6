package io.nocopy.relay;

import java.io.File;
import org.junit.jupiter.api.Assumptions;

/**
 * External tools (curl, ffmpeg, ezstream) for the tests that drive real clients. A test never
 * installs anything: it is skipped, saying which tool is missing, and {@code .ci/run} installs the
 * Debian packages before it runs the suite.
 */
final class Tools {
  private Tools() {}

  static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (new File(dir, tool).canExecute()) {
        return true;
      }
    }
    return false;
  }

  /** Skips the calling test unless every tool is on the PATH. */
  static void require(String... tools) {
    for (String tool : tools) {
      Assumptions.assumeTrue(onPath(tool), () -> tool + " is not on the PATH (.ci/run installs it:"
          + " apt-get install " + tool + "); skipping");
    }
  }
}
