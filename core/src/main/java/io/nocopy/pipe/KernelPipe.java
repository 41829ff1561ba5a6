package io.nocopy.pipe;

import io.nocopy.internal.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A kernel pipe: two guarded descriptors (both non-blocking, close-on-exec) and its capacity.
 * Owned by one {@link Pipe}, one {@link PipePool} entry, or one {@link Fanout} sink; closing it
 * closes both ends once no thread is inside a call on them.
 */
final class KernelPipe {
  final GuardedFd r;
  final GuardedFd w;
  private volatile int capacity;

  private KernelPipe(int readFd, int writeFd, int capacity) {
    this.r = new GuardedFd(readFd);
    this.w = new GuardedFd(writeFd);
    this.capacity = capacity;
  }

  static KernelPipe open(Syscalls sc) throws IOException {
    long fds = sc.pipe();
    int rfd = (int) fds;
    int wfd = (int) (fds >>> 32);
    int cap;
    try {
      cap = sc.pipeSize(rfd);
    } catch (IOException e) {
      sc.close(rfd);
      sc.close(wfd);
      throw e;
    }
    return new KernelPipe(rfd, wfd, cap);
  }

  /** The capacity in bytes as last read or set. */
  int capacity() {
    return capacity;
  }

  /**
   * Sets the capacity with F_SETPIPE_SZ.
   *
   * @throws IOException naming the system limit on EPERM, the fill level on EBUSY
   */
  void resize(Syscalls sc, int bytes) throws IOException {
    if (bytes <= 0) {
      throw new IllegalArgumentException("pipe size must be positive: " + bytes);
    }
    if (!r.enter()) {
      throw new java.nio.channels.ClosedChannelException();
    }
    try {
      int got = sc.setPipeSize(r.fd, bytes);
      if (got < 0) {
        throw resizeFailure(bytes, -got);
      }
      capacity = got;
    } finally {
      r.exit();
    }
  }

  /** Best-effort resize of a pipe this thread owns alone; keeps the old size when refused. */
  void tryResize(Syscalls sc, int bytes) {
    if (bytes > capacity) {
      int got = sc.setPipeSize(r.fd, bytes);
      if (got > 0) {
        capacity = got;
      }
    }
  }

  static IOException resizeFailure(int bytes, int errno) {
    if (errno == Syscalls.EPERM) {
      int max = Pipe.maxSize();
      return new IOException(
          "pipe size "
              + bytes
              + " B is above the system limit /proc/sys/fs/pipe-max-size ("
              + max
              + " B) or the user's pipe-user-pages limits, and the process lacks"
              + " CAP_SYS_RESOURCE (EPERM)");
    }
    if (errno == Syscalls.EBUSY) {
      return new IOException(
          "pipe size " + bytes + " B is below the bytes the pipe holds now (EBUSY)");
    }
    return Syscalls.exception("fcntl(F_SETPIPE_SZ, " + bytes + ")", errno);
  }

  void close() {
    r.close();
    w.close();
  }
}
