package io.nocopy.relay;

import java.io.File;
import java.util.concurrent.TimeUnit;

/** Finds external tools for integration tests, installing Debian packages when missing and root. */
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

  /** True if {@code tool} is on the PATH, after trying {@code apt-get install} when it is not. */
  static synchronized boolean ensure(String tool) {
    if (onPath(tool)) {
      return true;
    }
    if (!onPath("apt-get") || !"root".equals(System.getProperty("user.name"))) {
      return false;
    }
    try {
      Process p = new ProcessBuilder("sh", "-c",
          "(apt-get install -y -qq " + tool + " || (apt-get update -qq && apt-get install -y -qq " + tool
              + ")) >/dev/null 2>&1").inheritIO().start();
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
    } catch (Exception e) {
      return false;
    }
    return onPath(tool);
  }
}
