package io.nocopy.relay;

import io.nocopy.fanout.StartPosition;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Recording ({@code --record-dir DIR}): each mount to {@code DIR/<mount>-<UTC time>.<ext>}, a new
 * file in that directory and nowhere else. A name already taken (a source reconnecting within the
 * same second, or {@code /a/b.mp3} and {@code /a_b.mp3}, which map to one name) gets {@code -2},
 * {@code -3} ... before the extension: a file is never overwritten and a mount never goes
 * unrecorded for its name.
 *
 * <p>The file is a sink of the mount's fan-out, added before the stream starts (the fan-out writes
 * files from a thread of the sink's own); a thread of the recorder waits for its end and closes the
 * file. A recording that falls more than its bound behind (a slow disk) is dropped by the fan-out;
 * while the source goes on, the recorder then adds it again at once, at the stream position its
 * file reached if the fan-out still holds it (no gap), else at the oldest byte the fan-out holds,
 * and logs how many bytes are missing and where. On shutdown the server waits for these threads
 * first, so every recording is complete.
 *
 * <p>A mount's {@code <dump-file>} is recorded the same way, to that one file, appended to as
 * Icecast appends ({@link #dump}).
 */
final class Recorder {
  private static final System.Logger LOG = System.getLogger(Recorder.class.getName());
  /** The name prefix of recording threads, which the server's close waits for first. */
  static final String THREAD_PREFIX = "relay-record";
  private static final DateTimeFormatter FILE_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  /** How many numbered names are tried before a mount goes unrecorded (a full directory). */
  private static final int MAX_SUFFIX = 100_000;

  /** Opens recording files; replaceable by tests (a slow disk). */
  interface Opener {
    /**
     * Opens a recording file for writing, positioned at its end.
     *
     * @param file the file
     * @param create true: create it, failing with {@link FileAlreadyExistsException} if it exists;
     *     false: it exists (a recording resuming after falling behind)
     * @return a channel owned by the caller
     * @throws IOException if the file cannot be opened
     */
    WritableByteChannel open(Path file, boolean create) throws IOException;
  }

  /** Real files. Not opened for append: splice(2) refuses files in append mode. */
  static final Opener FILES = (file, create) -> {
    FileChannel fc = create
        ? FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
        : FileChannel.open(file, StandardOpenOption.WRITE);
    fc.position(fc.size());
    return fc;
  };

  private final RelayServer server;
  private final Path dir; // null: no recording
  private volatile Opener opener = FILES;
  private final AtomicLong resumes = new AtomicLong();
  private final AtomicLong bytesMissed = new AtomicLong();

  /**
   * @param server spawns the recording threads
   * @param dir where recordings go, or null for none; created if missing
   * @throws IOException if the directory cannot be created
   */
  Recorder(RelayServer server, Path dir) throws IOException {
    this.server = server;
    this.dir = dir == null ? null : dir.normalize();
    if (dir != null) {
      Files.createDirectories(dir);
    }
  }

  /** Replaces how files are opened (tests: a disk that stalls); applies to recordings started later. */
  void opener(Opener o) {
    this.opener = o;
  }

  /** How many times a recording that fell behind was added again. */
  long resumes() {
    return resumes.get();
  }

  /** Stream bytes missing from recordings because they fell behind further than the fan-out holds. */
  long bytesMissed() {
    return bytesMissed.get();
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
    Opener open = opener;
    String stem = MountName.fileStem(mount.name) + "-" + FILE_TIME.format(Instant.now());
    String ext = "." + MountName.extension(mount.name, mount.contentType);
    WritableByteChannel ch = null;
    Path file = null;
    for (int n = 1; ch == null && n <= MAX_SUFFIX; n++) {
      file = dir.resolve(stem + (n == 1 ? "" : "-" + n) + ext).normalize();
      if (!dir.equals(file.getParent())) {
        LOG.log(System.Logger.Level.ERROR, "{0}: refusing to record outside {1}", mount.name, dir);
        return;
      }
      try {
        ch = open.open(file, true);
      } catch (FileAlreadyExistsException taken) {
        // another recording has this name: try the next number
      } catch (IOException e) {
        LOG.log(System.Logger.Level.ERROR, "{0}: cannot record to {1}: {2}", mount.name, file, e.getMessage());
        return;
      }
    }
    if (ch == null) {
      LOG.log(System.Logger.Level.ERROR, "{0}: cannot record: {1} names taken in {2}", mount.name,
          MAX_SUFFIX, dir);
      return;
    }
    record(mount, file, open, ch);
  }

  /**
   * Writes a mount whose stream has not started yet to its {@code <dump-file>}, as Icecast does:
   * the name through {@code strftime}-style fields ({@code %Y %m %d %H %M %S %%}, local time), the
   * file created or appended to. Failures are logged; the mount is served without it then.
   *
   * @param mount the new mount
   * @param pattern the {@code dump-file} setting
   */
  void dump(Mount mount, String pattern) {
    Path file;
    WritableByteChannel ch;
    try {
      file = Path.of(dumpName(pattern, java.time.ZonedDateTime.now()));
      FileChannel fc = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      fc.position(fc.size());
      ch = fc;
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "{0}: cannot dump to {1}: {2}", mount.name, pattern, e.getMessage());
      return;
    }
    record(mount, file, opener, ch);
  }

  /** {@code pattern} with its {@code %Y %m %d %H %M %S %%} fields filled in from {@code t}. */
  static String dumpName(String pattern, java.time.ZonedDateTime t) {
    StringBuilder b = new StringBuilder(pattern.length() + 16);
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c != '%' || i + 1 == pattern.length()) {
        b.append(c);
        continue;
      }
      char f = pattern.charAt(++i);
      switch (f) {
        case 'Y' -> b.append(String.format("%04d", t.getYear()));
        case 'm' -> b.append(String.format("%02d", t.getMonthValue()));
        case 'd' -> b.append(String.format("%02d", t.getDayOfMonth()));
        case 'H' -> b.append(String.format("%02d", t.getHour()));
        case 'M' -> b.append(String.format("%02d", t.getMinute()));
        case 'S' -> b.append(String.format("%02d", t.getSecond()));
        case '%' -> b.append('%');
        default -> b.append('%').append(f);
      }
    }
    return b.toString();
  }

  /** Adds {@code ch}, open on {@code file}, as a recording of {@code mount}, and its thread. */
  private void record(Mount mount, Path file, Opener open, WritableByteChannel ch) {
    Recording r = new Recording(mount, file, open, ch);
    MountFanout.Attached sink = r.attach(StartPosition.BURST);
    if (sink == null) {
      RelayServer.closeQuietly(r.ch);
      return;
    }
    LOG.log(System.Logger.Level.INFO, "{0}: recording to {1} ({2})", mount.name, file, sink.transport());
    server.spawn(THREAD_PREFIX + " " + mount.name, () -> r.run(sink));
  }

  /** One mount's recording: its file and the sink writing it, added again after a fall behind. */
  private final class Recording {
    private final Mount mount;
    private final Path file;
    private final Opener open;
    private WritableByteChannel ch; // the recording thread's after start
    private long sizeAtAttach; // the file's size when the current sink was added

    Recording(Mount mount, Path file, Opener open, WritableByteChannel ch) {
      this.mount = mount;
      this.file = file;
      this.open = open;
      this.ch = ch;
    }

    /** Adds a sink writing {@link #ch}; null (logged) if the source ended or it cannot be added. */
    MountFanout.Attached attach(StartPosition start) {
      try {
        sizeAtAttach = Files.size(file);
        return mount.fanout.attach(file.getFileName().toString(), ch, new byte[0],
            MountFanout.Role.RECORDING, start, null);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.ERROR, "{0}: cannot record to {1}: {2}", mount.name, file, e.getMessage());
        return null;
      }
    }

    /** Recording thread: waits for each sink's end and resumes the ones that fell behind. */
    void run(MountFanout.Attached first) {
      MountFanout.Attached sink = first;
      try {
        while (sink != null) {
          sink.awaitEnd(); // a failure is logged by the fan-out's books
          sink = sink.droppedAsSlow() ? resume(sink) : null;
        }
      } finally {
        RelayServer.closeQuietly(ch);
      }
    }

    /** Adds the recording again after {@code behind} was dropped; null when it cannot go on. */
    private MountFanout.Attached resume(MountFanout.Attached behind) {
      long reached;
      try {
        reached = behind.startPosition() + (Files.size(file) - sizeAtAttach);
        if (!ch.isOpen()) { // a writer interrupted in a blocking write closes its channel
          ch = open.open(file, false);
        } else if (ch instanceof FileChannel fc) {
          fc.position(fc.size());
        }
      } catch (IOException e) {
        LOG.log(System.Logger.Level.ERROR, "{0}: recording {1} fell behind and cannot go on: {2}",
            mount.name, file, e.getMessage());
        return null;
      }
      long[] oldest = {-1};
      MountFanout.Attached sink = attach((held, live) -> {
        oldest[0] = held;
        return Math.max(reached, held);
      });
      if (sink == null) {
        long lost = mount.bytesIn() - reached;
        bytesMissed.addAndGet(lost);
        LOG.log(System.Logger.Level.WARNING, "{0}: recording {1} fell behind as the source ended: the last"
            + " {2} bytes are missing", mount.name, file, lost);
        return null;
      }
      resumes.incrementAndGet();
      long gap = Math.max(0, oldest[0] - reached);
      if (gap > 0) {
        bytesMissed.addAndGet(gap);
        LOG.log(System.Logger.Level.WARNING, "{0}: recording {1} fell behind: {2} bytes missing after"
            + " stream byte {3} (file offset {4}); recording again from stream byte {5}", mount.name,
            file, gap, reached, sizeAtAttach, oldest[0]);
      } else {
        LOG.log(System.Logger.Level.WARNING, "{0}: recording {1} fell behind and caught up from the"
            + " stream byte {2} the relay still held, without a gap", mount.name, file, reached);
      }
      return sink;
    }
  }
}
