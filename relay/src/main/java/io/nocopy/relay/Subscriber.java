package io.nocopy.relay;

import io.nocopy.buffer.BufWriter;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.LockSupport;

/**
 * One destination of a mount's stream in the userspace engine: a listener's socket or a
 * recording's file. It owns a bounded single-producer single-consumer queue of retained slices
 * (the producer is the mount's source thread, the consumer this subscriber's own writer thread).
 * The writer moves every queued slice into its own {@link BufWriter} by reference and sends them
 * with one gathering write: the bytes are never copied per subscriber, and the writer's cached
 * buffer views mean a steady stream allocates no views either.
 *
 * <p>The queue is bounded twice: by {@code maxBacklogBytes} (the listener's {@code --queue-size})
 * and by a fixed number of entries. A subscriber that falls behind either bound is dropped: {@link
 * #offer} returns false and the mount disconnects it, so a slow listener never slows the source or
 * the others.
 *
 * <h2>Direct delivery</h2>
 *
 * A listener that keeps up costs no wake-up of its thread: once its queue is drained, its writer
 * puts the socket in non-blocking mode, hands it to the mount's source thread and parks. The source
 * thread then writes each published slice straight to the socket ({@link #offer}: one gathering
 * write, no reference taken, nothing queued), the shape of Icecast's one non-blocking {@code send}
 * per listener per read. Only when the socket cannot take the whole slice (full send buffer,
 * error) does the rest go into the queue and the writer get unparked: it owns the socket again,
 * switches it back to blocking mode, drains the backlog and hands the socket back when the queue is
 * empty. An atomic owner flag moves between the two threads, so exactly one writes at a time and
 * bytes stay in order. Recordings (files) are always written by their own thread.
 *
 * <p>Queue algorithm: a ring of slice references with a tail written only by the producer and a
 * head written only by the consumer (release stores, acquire loads). The consumer parks when the
 * ring is empty after setting {@code parked}; the producer unparks it when it sees {@code parked}
 * after publishing (both volatile: the Dekker pattern, so no wake-up is lost).
 */
final class Subscriber {
  private static final int RING = 1024;
  private static final VarHandle HEAD;
  private static final VarHandle TAIL;
  private static final VarHandle OWNER;
  // who writes to the destination (see "Direct delivery")
  private static final int IDLE = 0;
  private static final int SOURCE = 1;
  private static final int WRITER = 2;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      HEAD = l.findVarHandle(Subscriber.class, "head", long.class);
      TAIL = l.findVarHandle(Subscriber.class, "tail", long.class);
      OWNER = l.findVarHandle(Subscriber.class, "owner", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final String label;
  final boolean listener;
  final GatheringByteChannel out;
  final long maxBacklogBytes;
  private final byte[] preamble;
  private final Allocator allocator;
  private final Slice[] ring = new Slice[RING];
  private long head; // consumer
  private long tail; // producer
  private volatile boolean parked;
  private volatile boolean finished; // producer: no more slices will come
  private volatile long enqueuedBytes; // written by the producer only
  private volatile long bytesWritten; // written by the destination's owner; backlog = enqueued - written
  private volatile Thread writer;
  private final SocketChannel socket; // out, when the source thread may write to it directly
  private volatile int owner = WRITER; // the writer starts with the preamble and the burst
  private volatile long directBytes; // written by the source thread (producer only)
  volatile boolean dropped;

  /**
   * @param label for logs: the peer address or the recording's file name
   * @param listener true for a listener, false for a recording (counted apart)
   * @param out where the stream goes; closed by this subscriber when it ends
   * @param preamble bytes written before the stream (the listener's response head), may be empty
   * @param maxBacklogBytes how far it may fall behind before it is dropped
   * @param allocator the allocator of the slices (the writer's own buffer holds references only)
   */
  Subscriber(String label, boolean listener, GatheringByteChannel out, byte[] preamble,
      long maxBacklogBytes, Allocator allocator) {
    this.allocator = allocator;
    this.label = label;
    this.listener = listener;
    this.out = out;
    this.preamble = preamble;
    this.maxBacklogBytes = maxBacklogBytes;
    this.socket = listener && out instanceof SocketChannel sc ? sc : null;
  }

  /**
   * Delivers a slice (producer thread only): written straight to an idle listener's socket, else
   * queued for the writer with the subscriber's own reference. The caller keeps its own reference
   * either way.
   *
   * @return false if the subscriber is too far behind (the slice is not queued)
   */
  boolean offer(Slice s) {
    if (owner == IDLE && OWNER.compareAndSet(this, IDLE, SOURCE)) {
      if (tail == (long) HEAD.getAcquire(this)) {
        return writeDirect(s);
      }
      // Slices queued while the writer still owned the socket, just before it went idle: they
      // go first. Queue this one behind them and give the socket back to the writer.
      boolean queued = enqueue(s, 0);
      owner = WRITER;
      LockSupport.unpark(writer);
      return queued;
    }
    return enqueue(s, 0);
  }

  /**
   * Source thread, owning the idle socket (non-blocking; the queue is empty): writes what the
   * socket takes now and queues the rest for the writer, which it wakes.
   */
  private boolean writeDirect(Slice s) {
    long len = s.length();
    long n;
    try {
      n = s.writeTo(socket, 0);
    } catch (IOException e) {
      n = 0; // the writer meets the same error on its own write and ends the subscriber
    }
    enqueuedBytes += n;
    bytesWritten += n;
    directBytes += n;
    if (n == len) {
      owner = IDLE;
      if (dropped) {
        LockSupport.unpark(writer); // dropped while this thread wrote: the writer waits for IDLE
      }
      return true;
    }
    boolean queued = enqueue(s, n);
    owner = WRITER;
    LockSupport.unpark(writer);
    return queued;
  }

  /** Queues the slice from {@code from} on, with its own reference (producer thread only). */
  private boolean enqueue(Slice s, long from) {
    long t = tail;
    long len = s.length() - from;
    if (t - (long) HEAD.getAcquire(this) >= RING || backlogBytes() + len > maxBacklogBytes) {
      return false;
    }
    ring[(int) t & (RING - 1)] = from == 0 ? s.retain() : s.slice(from, len);
    enqueuedBytes += len; // single writer: the producer
    // Volatile, not release: the store must be ordered before the read of 'parked' below (the
    // consumer does the mirror image), or both could miss each other and the writer sleep on.
    TAIL.setVolatile(this, t + 1);
    if (parked) {
      LockSupport.unpark(writer);
    }
    return true;
  }

  /** No more slices will be offered: the writer drains what is queued and ends (producer side). */
  void finish() {
    finished = true;
    Thread w = writer;
    if (w != null) {
      LockSupport.unpark(w);
    }
  }

  /** Bytes written to the destination so far. */
  long bytesWritten() {
    return bytesWritten;
  }

  /** Bytes the source thread wrote straight to the socket (part of {@link #bytesWritten}). */
  long directBytes() {
    return directBytes;
  }

  /** Bytes queued and not yet written. */
  long backlogBytes() {
    return enqueuedBytes - bytesWritten;
  }

  /**
   * The writer loop: runs on the subscriber's own (virtual) thread until the stream is finished and
   * drained, the destination fails, or the subscriber is dropped. Always closes the destination and
   * releases every slice still queued.
   *
   * @throws IOException if writing failed (peer went away); the caller only logs it
   */
  void run() throws IOException {
    writer = Thread.currentThread();
    BufWriter sender = BufWriter.of(allocator);
    try {
      if (preamble.length > 0) {
        ByteBuffer b = ByteBuffer.wrap(preamble);
        while (b.hasRemaining()) {
          out.write(b);
        }
      }
      while (!dropped) {
        long h = head;
        if (h == (long) TAIL.getAcquire(this)) {
          if (finished && h == (long) TAIL.getAcquire(this)) {
            return;
          }
          if (socket != null) {
            idle();
            continue;
          }
          parked = true;
          if (h == (long) TAIL.getVolatile(this) && !finished && !dropped) {
            LockSupport.park(this);
          }
          parked = false;
          continue;
        }
        // Everything queued goes out in one gathering write.
        long t = (long) TAIL.getAcquire(this);
        for (; h < t; h++) {
          int i = (int) h & (RING - 1);
          Slice s = ring[i];
          ring[i] = null;
          try {
            sender.write(s); // by reference: the writer takes its own block references
          } finally {
            s.close();
          }
        }
        HEAD.setRelease(this, h);
        long len = sender.length();
        long sent = 0;
        while (sent < len) {
          sent += sender.writeTo(out);
        }
        bytesWritten += len; // this thread owns the destination
      }
    } finally {
      sender.close();
      try {
        out.close();
      } catch (IOException ignored) {
        // nothing more to do for a destination that failed
      }
    }
  }

  /**
   * Writer thread, queue drained: hands the socket to the source thread (non-blocking) and parks
   * until it is handed back, the stream ends or the subscriber is dropped. Returns owning the
   * socket again, in blocking mode.
   */
  private void idle() throws IOException {
    socket.configureBlocking(false);
    owner = IDLE;
    while (true) {
      // a slice queued, or the end, between the drained check and IDLE becoming visible
      boolean wanted = finished || dropped || head != (long) TAIL.getVolatile(this);
      if ((wanted && OWNER.compareAndSet(this, IDLE, WRITER)) || owner == WRITER) {
        break;
      }
      LockSupport.park(this); // unparked by writeDirect, finish or drop
    }
    if (!dropped) {
      socket.configureBlocking(true);
    }
  }

  /**
   * Releases every slice still queued. Called once, after the producer has stopped offering to this
   * subscriber (it was removed from the mount under the mount's lock) and the writer has ended.
   */
  void releaseQueued() {
    long h = head;
    long t = (long) TAIL.getAcquire(this);
    for (; h < t; h++) {
      int i = (int) h & (RING - 1);
      Slice s = ring[i];
      ring[i] = null;
      if (s != null) {
        s.close();
      }
    }
    head = t;
  }

  /** Ends the subscriber from outside (slow, or shutting down): its writer stops and closes. */
  void drop() {
    dropped = true;
    try {
      out.close(); // unblocks a write in progress
    } catch (IOException ignored) {
      // already failing
    }
    Thread w = writer;
    if (w != null) {
      LockSupport.unpark(w);
    }
  }
}
