package io.nocopy.fanout;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A sink's backlog and its writing, one per transport: the kernel's pipe ({@link KernelPort}) or
 * a queue of slices ({@link UserPort}). The owner protocol around it is {@link Handover}'s; a port
 * only moves bytes.
 *
 * <p>Threads: {@code put*} on the delivering thread (under the fan-out's delivery lock), the
 * {@code *Owned}/{@link #writeDirect} calls only while that thread owns the channel; {@link
 * #serve} on the sink's writer thread; {@link #hasBacklog}, {@link #backlog} and {@link #stop}
 * from any thread; {@link #release} once, after the writer ended and the sink left the fan-out.
 */
sealed interface Port permits KernelPort, UserPort {
  TransportKind kind();

  /** Queues {@code [from, from + len)} of the chunk; false if it does not fit the bound. */
  boolean put(Chunk c, long from, long len);

  /**
   * The delivering thread owns the channel: queues the range and writes what the channel takes
   * now, without waiting (backlog first). False if it does not fit.
   */
  boolean putOwned(Chunk c, long from, long len, Sink s);

  /**
   * Queues a copy of the bytes (position to limit; the buffer's position is never moved, it may be
   * shared by other sinks and threads); false if they do not fit.
   */
  boolean putBytes(ByteBuffer b);

  /**
   * The delivering thread owns the channel: writes the bytes (position to limit, position never
   * moved) now, without waiting, and queues a copy of what the channel does not take (backlog first).
   * False if that does not fit.
   */
  boolean putBytesOwned(ByteBuffer b, Sink s);

  /** The delivering thread owns the channel: writes the backlog without waiting; true if empty. */
  boolean writeDirect(Sink s);

  /** Whether bytes (or the end of stream) wait for the writer. */
  boolean hasBacklog();

  /** Bytes queued now (an estimate from other threads). */
  long backlog();

  /**
   * Writer thread: writes the prefix, then the backlog as it comes, handing the channel to the
   * source while idle ({@link Handover#idle}), until the end of stream (returns) or a stop.
   */
  void serve(Sink s) throws IOException, InterruptedException;

  /** The source ended: once the backlog is written, {@link #serve} returns. */
  void endOfStream();

  /** A stop was requested: makes the writer's waits and writes end soon. Idempotent. */
  void stop();

  /** Frees the backlog and the pipe (once, when nothing uses the port any more). */
  void release();
}
