package io.nocopy.relay;

import java.io.IOException;
import java.nio.channels.GatheringByteChannel;
import java.util.concurrent.CountDownLatch;

/**
 * How one mount's bytes reach its listeners and recordings: chosen once, when the source connects,
 * and the only thing that moves the mount's bytes, so the engine a mount reports ({@link #name()},
 * the status page's {@code nocopy_engine}) is the one that serves it.
 *
 * <ul>
 *   <li>{@link SpliceEngine}: a raw socket source; the bytes stay in kernel pipes (splice/tee).
 *   <li>{@link UserspaceEngine}: a source read into pooled slices (chunked bodies, cascaded pulls,
 *       and every source where splice is unavailable or not chosen).
 * </ul>
 *
 * <p>Lifetime: the connection (or cascade) that opened the engine calls {@link #run} once; it returns when the
 * source has ended and every sink has been served to the end (or dropped). {@link #close} frees an
 * engine that never ran.
 */
sealed interface MountEngine extends AutoCloseable permits SpliceEngine, UserspaceEngine {
  /** A sink's role: listeners are counted and bounded by {@code --queue-size}; recordings not. */
  enum Role {
    /** A listener's socket: gets the response head, the burst, then the live stream. */
    LISTENER,
    /** A recording's file: the stream from the moment it was added. */
    RECORDING
  }

  /** One destination of the mount's stream, from {@link #attach} until it ends. */
  interface Sink {
    /**
     * Blocks until the sink has ended: the stream ended and was written out, the destination
     * failed, or the sink was dropped. The destination is closed or the caller's again by then.
     *
     * @throws IOException if writing to the destination failed (the peer went away)
     */
    void awaitEnd() throws IOException;

    /**
     * Stream bytes written to the destination so far (the preamble not counted).
     *
     * @return the count
     */
    long bytesWritten();

    /**
     * Whether the engine dropped the sink because it fell more than its bound behind.
     *
     * @return true if dropped as too slow
     */
    boolean droppedAsSlow();
  }

  /**
   * The name the status page reports.
   *
   * @return {@code splice} or {@code userspace}
   */
  String name();

  /**
   * Adds a destination. It first gets {@code preamble}, then (a listener) the burst, then the live
   * stream without a gap or a duplicate.
   *
   * @param label for logs: the peer address or the recording's file name
   * @param ch the destination; the engine writes to it until the sink ends
   * @param preamble bytes written before the stream (a listener's response head), may be empty
   * @param role listener or recording
   * @return the sink, or null if the source has already ended (nothing was added)
   * @throws IOException if the sink cannot be made now (for example no pipe memory is left)
   */
  Sink attach(String label, GatheringByteChannel ch, byte[] preamble, Role role) throws IOException;

  /**
   * Moves the source's bytes to the sinks until the source ends, on the calling thread (which may
   * hand the work to a platform thread of the engine's and wait for it). Errors end the source,
   * never the server.
   *
   * @param sourceEnded called once when the source's last byte is in, before the sinks are drained
   */
  void run(Runnable sourceEnded);

  /**
   * Bytes received from the source.
   *
   * @return the count
   */
  long bytesIn();

  /**
   * The source is gone (server shutdown): every sink writes out what it has and ends. Idempotent;
   * {@link #run} does the same when its source ends.
   */
  void end();

  /** Ends every sink at once, written out or not (server shutdown). */
  void dropAll();

  /** Frees an engine whose {@link #run} was never called; idempotent, a no-op after {@code run}. */
  @Override
  void close();

  /**
   * Waits for a latch, keeping the thread's interrupt for later: a connection waits for its sink or
   * source whatever happens, and the server's close ends both.
   *
   * @param latch the latch to wait for
   */
  static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
