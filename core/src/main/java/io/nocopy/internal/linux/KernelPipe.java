package io.nocopy.internal.linux;

import java.io.IOException;

/**
 * A kernel pipe: two guarded descriptors (both non-blocking, close-on-exec) and its capacity.
 * Owned by one pipe of the pipe package, one pooled pipe, or one fan-out stage, burst or sink;
 * closing it closes both ends once no thread is inside a call on them.
 */
public final class KernelPipe {
  /** The read end. */
  public final GuardedFd r;

  /** The write end. */
  public final GuardedFd w;

  private volatile int capacity;

  private KernelPipe(int readFd, int writeFd, int capacity) {
    this.r = new GuardedFd(readFd);
    this.w = new GuardedFd(writeFd);
    this.capacity = capacity;
  }

  /**
   * Opens a pipe with the system's default capacity.
   *
   * @param sc the caller's syscall scratch
   * @return a new pipe owned by the caller, who closes it
   * @throws IOException if the kernel refuses (descriptor limits)
   */
  public static KernelPipe open(Syscalls sc) throws IOException {
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

  /**
   * The capacity in bytes as last read or set.
   *
   * @return the capacity
   */
  public int capacity() {
    return capacity;
  }

  /**
   * Sets the capacity with F_SETPIPE_SZ.
   *
   * @param sc the caller's syscall scratch
   * @param bytes the wanted capacity
   * @throws IOException naming the system limit on EPERM, the fill level on EBUSY
   */
  public void resize(Syscalls sc, int bytes) throws IOException {
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

  /**
   * Best-effort resize of a pipe this thread owns alone; keeps the old size when refused.
   *
   * @param sc the caller's syscall scratch
   * @param bytes the wanted capacity
   */
  public void tryResize(Syscalls sc, int bytes) {
    if (bytes > capacity) {
      int got = sc.setPipeSize(r.fd, bytes);
      if (got > 0) {
        capacity = got;
      }
    }
  }

  /**
   * The exception for a refused resize.
   *
   * @param bytes the size asked for
   * @param errno the positive errno
   * @return the exception, naming the limit
   */
  public static IOException resizeFailure(int bytes, int errno) {
    if (errno == Syscalls.EPERM) {
      int max = Native.pipeMaxSize();
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

  /** Closes both ends (each once its last user left). Idempotent. */
  public void close() {
    r.close();
    w.close();
  }
}
