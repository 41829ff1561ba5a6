package io.nocopy.relay;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Recording ({@code --record-dir DIR}): each mount to {@code DIR/<mount>-<UTC time>.<ext>}, a new
 * file (never overwritten) in that directory and nowhere else. The file is a sink of the mount's
 * fan-out, added before the stream starts (the fan-out writes files from a thread of the sink's
 * own); a thread of the recorder waits for its end and closes the file. On shutdown the server
 * waits for these threads first, so every recording is complete.
 */
final class Recorder {
  private static final System.Logger LOG = System.getLogger(Recorder.class.getName());
  /** The name prefix of recording threads, which the server's close waits for first. */
  static final String THREAD_PREFIX = "relay-record";
  private static final DateTimeFormatter FILE_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private final RelayServer server;
  private final Path dir; // null: no recording

  /**
   * @param server spawns the recording threads
   * @param dir where recordings go, or null for none; created if missing
   * @throws IOException if the directory cannot be created
   */
  Recorder(RelayServer server, Path dir) throws IOException {
    this.server = server;
    this.dir = dir;
    if (dir != null) {
      Files.createDirectories(dir);
    }
  }

  /**
   * Starts recording a mount whose stream has not started yet. Failures are logged; the mount is
   * served without a recording then.
   *
   * @param mount the new mount
   */
  void start(Mount mount) {
    if (dir == null) {
      return;
    }
    Path file = dir.resolve(MountName.fileStem(mount.name) + "-" + FILE_TIME.format(Instant.now()) + "."
        + MountName.extension(mount.name, mount.contentType)).normalize();
    if (!file.getParent().equals(dir.normalize())) {
      LOG.log(System.Logger.Level.ERROR, "{0}: refusing to record outside {1}", mount.name, dir);
      return;
    }
    FileChannel fc;
    try {
      fc = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.ERROR, "{0}: cannot record to {1}: {2}", mount.name, file, e.getMessage());
      return;
    }
    MountFanout.Attached sink;
    try {
      sink = mount.fanout.attach(file.getFileName().toString(), fc, new byte[0], MountFanout.Role.RECORDING);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.ERROR, "{0}: cannot record to {1}: {2}", mount.name, file, e.getMessage());
      sink = null;
    }
    if (sink == null) {
      RelayServer.closeQuietly(fc);
      return;
    }
    LOG.log(System.Logger.Level.INFO, "{0}: recording to {1} ({2})", mount.name, file, sink.transport());
    MountFanout.Attached recording = sink;
    server.spawn(THREAD_PREFIX + " " + mount.name, () -> {
      try {
        recording.awaitEnd(); // a failure is logged by the fan-out's books
      } finally {
        RelayServer.closeQuietly(fc);
      }
    });
  }
}
