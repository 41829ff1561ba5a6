package io.nocopy.relay;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A log file written a whole line at a time: opened for appending (created, with its directory),
 * each line one {@code write} under this object's lock, so lines from many threads never
 * interleave. {@link #reopen} opens the path anew after logrotate moved the file away. Thread-safe.
 */
final class LogFile implements AutoCloseable {
  private final String what;
  private final Path path;
  private FileChannel file; // guarded by this; null once closed

  /**
   * Opens the file.
   *
   * @param what what the file is, for messages ({@code "access log"})
   * @param path the file
   * @throws IOException naming the file, if it cannot be opened for appending
   */
  LogFile(String what, Path path) throws IOException {
    this.what = what;
    this.path = path;
    this.file = open();
  }

  private FileChannel open() throws IOException {
    try {
      if (path.getParent() != null) {
        Files.createDirectories(path.getParent());
      }
      return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new IOException("cannot open the " + what + " " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * Appends one line (a no-op once closed).
   *
   * @param line the bytes, with their line feed
   * @throws IOException naming the file, if the write fails
   */
  synchronized void write(byte[] line) throws IOException {
    if (file == null) {
      return;
    }
    try {
      ByteBuffer b = ByteBuffer.wrap(line);
      while (b.hasRemaining()) {
        file.write(b);
      }
    } catch (IOException e) {
      throw new IOException("cannot write the " + what + " " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * Opens the path anew; on failure the old file stays in use.
   *
   * @throws IOException naming the file, if it cannot be opened (the old one is still written)
   */
  synchronized void reopen() throws IOException {
    if (file == null) {
      return;
    }
    FileChannel fresh = open();
    RelayServer.closeQuietly(file);
    file = fresh;
  }

  /** Closes the file; later lines are dropped. Idempotent. */
  @Override
  public synchronized void close() {
    if (file != null) {
      RelayServer.closeQuietly(file);
      file = null;
    }
  }
}
