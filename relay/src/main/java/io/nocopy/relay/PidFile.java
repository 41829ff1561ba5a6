package io.nocopy.relay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process id in a file while the relay runs ({@code <paths><pidfile>} or {@code --pidfile}),
 * for init scripts and logrotate's {@code kill -HUP $(cat ...)}. Written at start, removed at a
 * clean stop if it still holds this process's id. A file that cannot be written is logged and the
 * relay runs on, as Icecast does.
 */
final class PidFile {
  private static final System.Logger LOG = System.getLogger(PidFile.class.getName());
  private static final PidFile NONE = new PidFile(null, null);

  private final Path file;
  private final String content;

  private PidFile(Path file, String content) {
    this.file = file;
    this.content = content;
  }

  /**
   * Writes this process's id to {@code file}.
   *
   * @param file where, or null for no pid file
   * @return the written file, to {@link #remove()} at the stop
   */
  static PidFile write(Path file) {
    if (file == null) {
      return NONE;
    }
    String content = ProcessHandle.current().pid() + "\n";
    try {
      Files.writeString(file, content, StandardCharsets.US_ASCII);
      return new PidFile(file, content);
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot write the pid file " + file + ": " + e);
      return NONE;
    }
  }

  /** Removes the file if it still holds this process's id; idempotent. */
  void remove() {
    if (file == null) {
      return;
    }
    try {
      if (content.equals(Files.readString(file, StandardCharsets.US_ASCII))) {
        Files.delete(file);
      }
    } catch (IOException | RuntimeException e) {
      // gone already, or replaced: nothing of ours to remove
    }
  }
}
