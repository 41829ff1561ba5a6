package io.nocopy.fanout;

import io.nocopy.buffer.ChunkConsumer;
import io.nocopy.internal.linux.ChannelFds;
import io.nocopy.internal.linux.Native;
import java.io.IOException;

/**
 * How a fan-out moves bytes: its source side (read a chunk, keep the burst) and the ports of its
 * sinks. One class per transport, chosen once per fan-out by {@link #open}; a new transport (say
 * io_uring) is one more permitted class and one more case there, without touching the others.
 *
 * <p>Threads: {@link #begin}, {@link #read}, {@link #awaitSource}, {@link #done} and {@link
 * #waiting} on the source thread; {@link #keepBurst}, {@link #giveBurst} and {@link #burstStart}
 * under the fan-out's delivery lock; {@link #newPort} on the thread adding a sink; {@link #close}
 * from any thread, idempotent.
 */
sealed interface Transport permits KernelTransport, UserTransport {

  /** Chooses and opens the transport for {@code src} ({@code asked} null: the best possible). */
  static Transport open(Fanout f, Source src, TransportKind asked) throws IOException {
    String whyNotKernel = whyNotKernel(src);
    if (asked == TransportKind.KERNEL && whyNotKernel != null) {
      Fanout.closeLeading(src);
      throw new IllegalArgumentException("the kernel transport is not possible: " + whyNotKernel);
    }
    boolean kernel = asked == TransportKind.KERNEL || (asked == null && whyNotKernel == null);
    try {
      return kernel ? new KernelTransport(f, (Source.OfChannel) src) : new UserTransport(f, src);
    } catch (IOException | RuntimeException e) {
      Fanout.closeLeading(src);
      throw e;
    }
  }

  private static String whyNotKernel(Source src) {
    if (!Native.ACCELERATED) {
      return Native.whyNot();
    }
    if (!(src instanceof Source.OfChannel ch)) {
      return "the source is a supplier of slices";
    }
    if (ChannelFds.fdOf(ch.channel()) < 0) {
      return "the source channel " + ch.channel().getClass().getName() + " has no descriptor";
    }
    return null;
  }

  TransportKind kind();

  /** Source thread, first: takes the source over. */
  void begin() throws IOException;

  /**
   * Source thread: the next chunk, {@link Chunk#NONE} when the source has nothing now (then
   * {@link #awaitSource}), or null at its end. The chunk's position is the stream position.
   */
  Chunk read() throws IOException;

  /** Source thread, before the chunk is delivered: gives its bytes to the source tap. */
  void tap(Chunk c, ChunkConsumer tap) throws IOException;

  /** Source thread: waits (bounded) for the source after {@link Chunk#NONE}. */
  void awaitSource() throws IOException;

  /** Source thread: every sink and the burst have the chunk; free it. */
  void done(Chunk c) throws IOException;

  /** Bytes waiting in the source now, or -1 if unknown (for the pacer). */
  long waiting();

  /** Delivery lock held: keeps the chunk as part of the burst (a no-op without a burst). */
  void keepBurst(Chunk c) throws IOException;

  /** Delivery lock held: the first stream position the burst holds ({@code bytesIn} if none). */
  long burstStart();

  /** Delivery lock held, sink not yet published: gives it the burst from {@code start} on. */
  void giveBurst(Sink s, long start) throws IOException;

  /** A port for a new sink; the builder's transport, else this one's where possible. */
  Port newPort(SinkBuilder b) throws IOException;

  /** Source thread, after its last read: frees what only the source thread uses. */
  void end();

  /** Ends reading and frees the burst. Idempotent, any thread. */
  void close();
}
