package io.nocopy.drpc;

import io.nocopy.buffer.BufWriter;
import io.nocopy.buffer.Chunks;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes packets as frames to one connection's channel, shared by all its streams, through a
 * {@link BufWriter}: headers and array payloads are written into pooled blocks, {@link Slice}
 * payloads are appended by reference (no copy), and everything pending goes out in gathering
 * writes when {@link #flush()} is called, so a unary call's Invoke, Message and CloseSend cost one
 * system call.
 *
 * <p>Thread safety: every method must be called between {@link #lock()} and {@link #unlock()}; a
 * caller holding the lock may write several packets and then {@link #flush()} them together.
 * Payloads are borrowed: read (or referenced) during the call, never kept past {@code flush}.
 */
final class FrameWriter {
  private final GatheringByteChannel channel;
  private final int maxFrame;
  private final ReentrantLock lock = new ReentrantLock();
  private final BufWriter out;

  FrameWriter(GatheringByteChannel channel, Allocator allocator, int maxFrame) {
    this.channel = channel;
    this.maxFrame = maxFrame;
    this.out = BufWriter.of(allocator);
  }

  void lock() {
    lock.lock();
  }

  void unlock() {
    lock.unlock();
  }

  /**
   * Appends a packet, split into frames of at most the maximum frame size, in the way its form
   * writes it (see {@link Payload}).
   */
  <T> void packet(long sid, long mid, Kind kind, boolean control, Payload<T> form, T data)
      throws IOException {
    form.write(this, sid, mid, kind, control, data);
  }

  /** A buffer's position..limit (both unchanged), copied. */
  void bytes(long sid, long mid, Kind kind, boolean control, ByteBuffer data)
      throws IOException {
    int len = data.remaining();
    int off = 0;
    do {
      int n = Math.min(len - off, maxFrame);
      header(sid, mid, kind, off + n == len, control, n);
      if (n > 0) {
        int at = data.position() + off;
        if (data.hasArray()) {
          out.write(data.array(), data.arrayOffset() + at, n);
        } else {
          MemorySegment seg = segmentOf(data);
          out.write(n == len ? seg : seg.asSlice(off, n));
        }
      }
      off += n;
    } while (off < len);
  }

  // The segment of the last direct buffer sent, for a caller that sends the same buffer again
  // (the usual way to use one): MemorySegment.ofBuffer allocates a segment per call. Only the
  // reference is kept (the bytes are read during the call only); it keeps the buffer reachable
  // until another buffer is sent.
  private ByteBuffer lastBuffer;
  private int lastPosition;
  private int lastLimit;
  private MemorySegment lastSegment;

  /** The segment of a direct buffer's position..limit, reused when the same view is sent again. */
  private MemorySegment segmentOf(ByteBuffer data) {
    if (data != lastBuffer || data.position() != lastPosition || data.limit() != lastLimit) {
      lastSegment = MemorySegment.ofBuffer(data);
      lastBuffer = data;
      lastPosition = data.position();
      lastLimit = data.limit();
    }
    return lastSegment;
  }

  /** A slice, by reference. */
  void slice(long sid, long mid, Kind kind, boolean control, Slice data)
      throws IOException {
    long len = data.length();
    if (len <= maxFrame) {
      header(sid, mid, kind, true, control, len);
      if (len > 0) {
        out.write(data);
      }
      return;
    }
    for (long off = 0; off < len; ) {
      int n = (int) Math.min(len - off, maxFrame);
      header(sid, mid, kind, off + n == len, control, n);
      try (Slice part = data.slice(off, n)) {
        out.write(part);
      }
      off += n;
    }
  }

  /**
   * The chunks of a received message, copied (nothing is allocated if the JIT keeps the chunk
   * views on the stack).
   */
  void chunks(long sid, long mid, Kind kind, boolean control, Chunks data) throws IOException {
    long len = data.length();
    long off = 0;
    int chunk = 0;
    int inChunk = 0;
    do {
      int n = (int) Math.min(len - off, maxFrame);
      header(sid, mid, kind, off + n == len, control, n);
      for (int left = n; left > 0; ) {
        int take = Math.min(left, data.length(chunk) - inChunk);
        out.write(data.block(chunk).segment().asSlice(data.offset(chunk) + inChunk, take));
        inChunk += take;
        left -= take;
        if (inChunk == data.length(chunk)) {
          chunk++;
          inChunk = 0;
        }
      }
      off += n;
    } while (off < len);
  }

  private void header(long sid, long mid, Kind kind, boolean done, boolean control, long n)
      throws IOException {
    out.writeByte(FrameHeader.controlByte(kind.code(), done, control));
    out.writeVarint(sid);
    out.writeVarint(mid);
    out.writeVarint(n);
  }

  /** Bytes appended and not yet written. */
  long pending() {
    return out.length();
  }

  /** Writes everything appended so far. */
  void flush() throws IOException {
    while (out.length() > 0) {
      if (out.writeTo(channel) == 0) {
        throw new IOException("channel accepted no bytes (non-blocking channel?)");
      }
    }
  }

  /** Releases pending blocks; the writer is unusable afterwards. Call with the lock held. */
  void release() {
    lastBuffer = null;
    lastSegment = null;
    out.close();
  }
}
