package io.nocopy.internal.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Gathering socket sends that never block and allocate nothing: one {@code sendmsg(2)} with
 * {@code MSG_DONTWAIT | MSG_NOSIGNAL} of up to {@link #MAX_REGIONS} native regions. For a writer
 * that sends pooled memory by address, where the JDK's gathering write would need a {@code
 * ByteBuffer} view per block and allocates a releaser per segment-backed buffer per call.
 *
 * <p>Ownership and threads: confined to the thread that made it, which owns its native {@code
 * msghdr} and {@code iovec}s and frees them with {@link #close()}. Descriptors passed in stay the
 * caller's, who keeps them open for the call (a {@link GuardedFd} between {@code enter} and
 * {@code exit}).
 */
public final class GatheringSend implements AutoCloseable {
  /** The most regions one send takes. */
  public static final int MAX_REGIONS = 32;

  /** Bytes of a {@code struct msghdr} (x86_64 and aarch64). */
  static final int MSGHDR_SIZE = 56;

  private final Syscalls calls = new Syscalls();
  private final Arena arena = Arena.ofConfined();
  private final MemorySegment msg = arena.allocate(MSGHDR_SIZE + 16L * MAX_REGIONS, 8);

  /**
   * A sender for the calling thread.
   *
   * @throws UnsupportedOperationException if the system calls are not {@link Syscalls#available()}
   */
  public GatheringSend() {
    msghdr(msg, 0, msg.address() + MSGHDR_SIZE, 0);
  }

  /**
   * Writes at {@code at} of {@code s} a {@code struct msghdr} with no name and no control data
   * whose {@code count} iovecs are at address {@code iov} (also {@link IoUring}'s {@code SENDMSG}).
   */
  static void msghdr(MemorySegment s, long at, long iov, long count) {
    // name, namelen(+pad), iov, iovlen, control, controllen, flags(+pad)
    s.set(ValueLayout.JAVA_LONG, at, 0L);
    s.set(ValueLayout.JAVA_LONG, at + 8, 0L);
    s.set(ValueLayout.JAVA_LONG, at + 16, iov);
    s.set(ValueLayout.JAVA_LONG, at + 24, count);
    s.set(ValueLayout.JAVA_LONG, at + 32, 0L);
    s.set(ValueLayout.JAVA_LONG, at + 40, 0L);
    s.set(ValueLayout.JAVA_LONG, at + 48, 0L);
  }

  /**
   * Sends the regions in order as far as the socket takes them now.
   *
   * @param fd a socket, open for the call
   * @param addresses the regions' native addresses, alive and unchanged for the call
   * @param lengths the regions' lengths
   * @param count regions, 1 .. {@link #MAX_REGIONS}
   * @return bytes sent, or {@code -errno} ({@code -EAGAIN}: the socket takes nothing now)
   * @throws IllegalArgumentException if {@code count} is out of range
   */
  public long send(int fd, long[] addresses, int[] lengths, int count) {
    if (count < 1 || count > MAX_REGIONS) {
      throw new IllegalArgumentException("regions outside 1.." + MAX_REGIONS + ": " + count);
    }
    MemorySegment m = msg;
    for (int i = 0; i < count; i++) {
      m.set(ValueLayout.JAVA_LONG, MSGHDR_SIZE + 16L * i, addresses[i]);
      m.set(ValueLayout.JAVA_LONG, MSGHDR_SIZE + 16L * i + 8, lengths[i]);
    }
    m.set(ValueLayout.JAVA_LONG, 24, count);
    return calls.sendmsg(fd, m.address(), IoUring.MSG_DONTWAIT | IoUring.MSG_NOSIGNAL);
  }

  /** Frees the native scratch. Idempotent. */
  @Override
  public void close() {
    if (arena.scope().isAlive()) {
      arena.close();
    }
  }
}
