package io.nocopy.fanout;

import io.nocopy.buffer.BlockConsumer;
import io.nocopy.buffer.Slice;
import java.io.IOException;

/**
 * A chunk held at the head of a kernel pipe ({@code fd} is its read end): the staging pipe's
 * current chunk or the burst pipe's content. Userspace sinks get a copy, read once per chunk by
 * the transport ({@link KernelTransport#copyOf}).
 */
final class KernelChunk extends Chunk {
  private final KernelTransport transport;
  int fd;
  private Slice copy;

  KernelChunk(KernelTransport transport) {
    this.transport = transport;
  }

  /** Makes this chunk describe {@code length} bytes at the head of pipe {@code fd}. */
  KernelChunk set(int fd, long position, long length) {
    this.fd = fd;
    this.position = position;
    this.length = length;
    return this;
  }

  private Slice copy() throws IOException {
    if (copy == null) {
      copy = transport.copyOf(this);
    }
    return copy;
  }

  @Override
  void retainTo(long from, long len, BlockConsumer consumer) throws IOException {
    copy().retainTo(from, len, consumer);
  }

  @Override
  int nativeRegions(long from, long len, long[] addresses, int[] lengths) throws IOException {
    return copy().nativeRegions(from, len, addresses, lengths);
  }

  /** Releases the copy, if one was made. */
  void reset() {
    if (copy != null) {
      copy.close();
      copy = null;
    }
  }
}
