package io.nocopy.fanout;

import java.nio.ByteBuffer;
import java.util.function.LongFunction;

/**
 * Bytes inserted into one sink's stream at positions of that stream (ICY metadata blocks every
 * {@code metaint} bytes): a per-sink hook ({@link SinkBuilder#insert}). Sinks without it pay
 * nothing for it.
 *
 * <p>Positions count the bytes of the sink's own stream: its replayed header bytes ({@link
 * SinkBuilder#header}) and the source bytes from its start position on; not its prefix, not
 * inserted bytes. An insertion at position {@code p} goes after exactly {@code p} such bytes. On
 * the kernel transport the stream's bytes stay in the kernel (tee up to the position, write the
 * inserted bytes into the sink's pipe, continue); only the inserted bytes pass through the JVM.
 *
 * <p>Called on the thread delivering to the sink (the source thread, or the thread adding the sink
 * while it gives the burst), one call at a time per sink.
 */
public interface Insertions {
  /**
   * The next insertion point.
   *
   * @param position a position of the sink's stream
   * @return the smallest insertion position strictly greater than {@code position}, or {@link
   *     Long#MAX_VALUE} for none
   */
  long nextAfter(long position);

  /**
   * The bytes to insert at {@code position}.
   *
   * @param position an insertion position returned by {@link #nextAfter}
   * @return the bytes from position to limit, read (not consumed) before this call's thread
   *     returns to the fan-out; may be empty (nothing inserted), never null
   */
  ByteBuffer bytesAt(long position);

  /**
   * Insertions every {@code interval} bytes: at {@code interval}, {@code 2 * interval}, ...
   *
   * @param interval bytes of the sink's stream between insertions, at least 1
   * @param bytes the bytes for each position (see {@link #bytesAt})
   * @return the hook
   * @throws IllegalArgumentException if {@code interval < 1}
   */
  static Insertions every(long interval, LongFunction<ByteBuffer> bytes) {
    if (interval < 1) {
      throw new IllegalArgumentException("insertion interval below 1: " + interval);
    }
    return new Insertions() {
      @Override
      public long nextAfter(long position) {
        return (position / interval + 1) * interval;
      }

      @Override
      public ByteBuffer bytesAt(long position) {
        return bytes.apply(position);
      }
    };
  }
}
