package io.nocopy.drpc;

import io.nocopy.buffer.Chunks;
import io.nocopy.buffer.Slice;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A form a packet's data can take, {@code T}, and how the {@link FrameWriter} writes it. The three
 * forms are constants, so a send names its data's form and passes the data beside it, typed,
 * without wrapping it in an object per call (a wrapper made per message is not reliably removed by
 * the JIT: the send path would allocate).
 *
 * <p>Data of every form is borrowed: read (or referenced) while the packet is written, never kept
 * past the flush that follows, and still owned by the caller afterwards.
 *
 * @param <T> the data's type
 */
sealed interface Payload<T> {
  /** A buffer's position..limit, copied into the writer's pooled blocks (both left unchanged). */
  Payload<ByteBuffer> BYTES = new Bytes();

  /** Pooled memory, sent by reference: the writer retains the slice's blocks until the flush. */
  Payload<Slice> POOLED = new Pooled();

  /** The chunks of a received message (an echo, a relay), copied into the writer's blocks. */
  Payload<Chunks> RECEIVED = new Received();

  /** No data, for {@link #BYTES}. */
  ByteBuffer NONE = ByteBuffer.allocate(0);

  /**
   * Appends {@code data} as one packet, split into frames; the caller holds the writer's lock.
   *
   * @param data the packet's data, not null (an empty packet is {@link #BYTES} with {@link #NONE})
   */
  void write(FrameWriter w, long sid, long mid, Kind kind, boolean control, T data)
      throws IOException;

  /** See {@link #BYTES}. */
  final class Bytes implements Payload<ByteBuffer> {
    private Bytes() {}

    @Override
    public void write(
        FrameWriter w, long sid, long mid, Kind kind, boolean control, ByteBuffer data)
        throws IOException {
      w.bytes(sid, mid, kind, control, data);
    }
  }

  /** See {@link #POOLED}. */
  final class Pooled implements Payload<Slice> {
    private Pooled() {}

    @Override
    public void write(FrameWriter w, long sid, long mid, Kind kind, boolean control, Slice data)
        throws IOException {
      w.slice(sid, mid, kind, control, data);
    }
  }

  /** See {@link #RECEIVED}. */
  final class Received implements Payload<Chunks> {
    private Received() {}

    @Override
    public void write(FrameWriter w, long sid, long mid, Kind kind, boolean control, Chunks data)
        throws IOException {
      w.chunks(sid, mid, kind, control, data);
    }
  }
}
