package io.nocopy.fanout;

import io.nocopy.buffer.BufWriter;
import io.nocopy.buffer.Slice;
import io.nocopy.internal.linux.GuardedFd;
import io.nocopy.internal.linux.IoUring;
import io.nocopy.internal.linux.Syscalls;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The userspace transport's direct sends of one chunk, batched: every idle sink's send of the
 * chunk becomes one io_uring SQE, and all of them go to the kernel with one {@code io_uring_enter}
 * instead of one {@code write} each (the system call is about half a listener's cost).
 *
 * <h2>One step</h2>
 *
 * While the source thread delivers a chunk (delivery lock held), {@link #offer} takes each idle
 * sink: it acquires the sink's channel ({@link Handover#tryAcquire}) and prepares an {@code
 * IORING_OP_SEND} (one region) or {@code SENDMSG} (a chunk over several blocks) with {@code
 * MSG_DONTWAIT} to the sink's {@linkplain SendTargets.Target target}. A sink with hooks
 * (ICY metadata, a replayed header's start) sends its share as pieces in stream order: the ranges
 * of the chunk between its insertion points and the inserted bytes, copied into a pooled scratch
 * block kept with the ring ({@link Hooks#walk}); one {@code SENDMSG} takes up to {@link
 * IoUring#MAX_IOV} regions, and a share with more is written directly, piece by piece, as without
 * io_uring. After the last sink, {@link #flush} submits them all, reaps every completion and
 * settles each sink exactly as a direct write does: bytes sent are counted, the unsent rest (a
 * short send, or all of it on {@code EAGAIN}) is queued for the sink's writer, errors are left for
 * the writer to meet on its own write, and the channel is given back. A sink that cannot be
 * batched (a backlog, a chunk of more than {@link IoUring#MAX_IOV} regions, no descriptor yet, a
 * closed channel, a stream that ends within the chunk) is given back and offered as without
 * io_uring. A ring that fills is submitted and settled before the next SQE.
 *
 * <h2>Targets</h2>
 *
 * A sink's sends name its socket by a slot of the ring's registered file table, or a duplicate
 * of its descriptor where there is no free slot ({@link SendTargets}), made at its first batched
 * send.
 *
 * <h2>Lifetimes</h2>
 *
 * The chunk's blocks stay referenced until the transport's {@code done}, after {@code flush}: the
 * kernel's reads of them end before the completions are reaped. The scratch block's inserted bytes
 * are reused after {@code flush} (a queued rest of them is copied into the sink's queue); bytes
 * that do not fit it get a pooled copy of their own, closed once their send is settled. Each SQE's
 * target is held with {@link GuardedFd#enter} until its completion is reaped, so a writer that
 * ends meanwhile releases the slot or closes the duplicate only after the send (the number is
 * never reused under a send). The ring is opened on the source thread at its first send and
 * closed by {@link #close} on the same thread.
 *
 * <p>If the ring cannot be opened or a submission fails, batching stops for this fan-out (logged
 * once), pending sends are settled as unsent, and every sink is written directly from then on.
 *
 * <p>Source thread only (under the delivery lock), except that a target's guard may be closed,
 * and its slot released, on any thread.
 */
final class UringSends {
  private static final System.Logger LOG = System.getLogger("io.nocopy.fanout");
  private static final AtomicBoolean LOGGED = new AtomicBoolean();
  private static final int FLAGS = IoUring.MSG_DONTWAIT | IoUring.MSG_NOSIGNAL;
  /** Inserted bytes one step's sends hold without a copy of their own (ICY blocks are small). */
  private static final int SCRATCH_BYTES = 64 * 1024;

  private final int entries;
  private IoUring ring;
  private volatile boolean failed;
  private final Allocator allocator; // inserted bytes' copies
  private Sink[] sinks = new Sink[16];
  private SendTargets.Target[] pendingTargets = new SendTargets.Target[16];
  private int[] ends = new int[16]; // entry i's pieces end here (they start where i - 1's end)
  private int pending;
  private Chunk chunk; // the chunk of the pending sends
  private long chunkPosition; // and its position (the transport reuses one chunk object)
  // the pending sends' pieces in stream order: ranges of the chunk, of the scratch block
  // (inserted bytes), or of a copy of inserted bytes that did not fit the scratch
  private static final byte CHUNK = 0;
  private static final byte SCRATCH = 1;
  private static final byte COPY = 2;
  private byte[] pieceKinds = new byte[32];
  private Slice[] pieceCopies = new Slice[32]; // COPY: closed once settled
  private long[] pieceFroms = new long[32];
  private long[] pieceLengths = new long[32];
  private int pieces;
  private boolean bytesFailed; // the entry being offered could not copy its inserted bytes
  // inserted bytes of the pending sends (SCRATCH pieces): one pooled block taken with the ring,
  // so a step with insertions allocates nothing
  private Block scratch;
  private long scratchUsed;
  private volatile long hookedSends; // sends of a sink with hooks (source thread writes)
  private final long[] addresses = new long[IoUring.MAX_IOV];
  private final int[] lengths = new int[IoUring.MAX_IOV];
  private final long[] pieceAddresses = new long[IoUring.MAX_IOV];
  private final int[] pieceRegionLengths = new int[IoUring.MAX_IOV];
  private SendTargets targets; // with the ring

  /**
   * Batching for one fan-out, or null where io_uring is not available or socket descriptors cannot
   * be reached (the reason is logged once).
   *
   * @param entries submission slots of the ring: sinks per submission
   * @param allocator pooled memory for copies of inserted bytes
   */
  static UringSends create(int entries, Allocator allocator) {
    String why = Fanout.whyNoIoUring();
    if (why != null) {
      logOff(why);
      return null;
    }
    return new UringSends(entries, allocator);
  }

  private UringSends(int entries, Allocator allocator) {
    this.entries = entries;
    this.allocator = allocator;
  }

  private static void logOff(String why) {
    if (LOGGED.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.INFO,
          "io_uring sends are off, the fan-out writes each sink with its own system call: " + why);
    }
  }

  /** Whether sends are batched (false once batching stopped after an error). */
  boolean active() {
    return !failed;
  }

  /** Source thread, the ring open, owning {@code ch}: see {@link SendTargets#target}. */
  SendTargets.Target target(Channel ch) {
    return targets.target(ch);
  }

  /** Slots of the ring's file table in use now (tests). */
  int slotsInUse() {
    return targets == null ? 0 : targets.slotsInUse();
  }

  /**
   * Source thread, delivery lock held: takes sink {@code s}'s share of chunk {@code c}: the whole
   * chunk, or for a sink with hooks its part of it with the inserted bytes at their points ({@link
   * Hooks#walk}). Returns false if the sink is not idle, has ended, or cannot be batched now (the
   * caller offers as usual, the channel given back); true once its share is prepared as one send,
   * or written directly (a hooked share over more than {@link IoUring#MAX_IOV} regions).
   */
  boolean offer(Sink s, Chunk c) {
    if (failed || !(s.port instanceof UserPort p) || c.length <= 0) {
      return false;
    }
    Hooks h = s.hooks;
    if (h != null && !h.batchable(c)) {
      return false; // its stream ends within this chunk: the plain walk ends it
    }
    if (s.handover.stopReason() != null || !s.handover.tryAcquire()) {
      return false;
    }
    int whole;
    try {
      whole = h == null ? c.nativeRegions(0, c.length, addresses, lengths) : 1;
    } catch (IOException e) {
      return giveBack(s); // the plain offer fails the same way
    }
    if (whole < 1 || p.hasBacklog() || !p.channelOpen() || !open()) {
      return giveBack(s);
    }
    SendTargets.Target g = p.sendTarget(this);
    if (g.guard == null || !g.guard.enter()) {
      return giveBack(s);
    }
    if (pending > 0 && (chunk != c || chunkPosition != c.position || pending >= entries)) {
      flush(); // another chunk's sends (never within one step), or the ring is full
      if (failed) {
        g.guard.exit();
        return giveBack(s);
      }
    }
    chunk = c;
    chunkPosition = c.position;
    if (pending == sinks.length) {
      sinks = Arrays.copyOf(sinks, pending * 2);
      pendingTargets = Arrays.copyOf(pendingTargets, pending * 2);
      ends = Arrays.copyOf(ends, pending * 2);
    }
    int first = pieces;
    bytesFailed = false;
    if (h == null) {
      addPiece(CHUNK, null, 0, c.length);
    } else {
      h.walk(s, c, this);
    }
    sinks[pending] = s;
    pendingTargets[pending] = g;
    ends[pending] = pieces;
    int regions = bytesFailed ? -1 : regions(first, pieces);
    if (regions < 1 || !prepare(g, regions)) {
      // nothing to send, or more regions than one send takes: written directly, piece by piece,
      // as without io_uring (or the sink is dropped: its inserted bytes found no pooled memory)
      writeDirectly(first);
      return true;
    }
    if (h != null) {
      hookedSends = hookedSends + 1;
    }
    pending++;
    return true;
  }

  /** Sends prepared for sinks with hooks so far (tests). */
  long hookedSends() {
    return hookedSends;
  }

  private boolean giveBack(Sink s) {
    s.handover.release(!s.port.hasBacklog());
    return false;
  }

  /** {@link Hooks#walk}: the range {@code [from, from + len)} of the chunk being offered. */
  void range(long from, long len) {
    addPiece(CHUNK, null, from, len);
  }

  /**
   * {@link Hooks#walk}: inserted bytes (position to limit, position not moved), copied into pooled
   * memory now (the caller's buffer is valid only during the call).
   */
  void bytes(ByteBuffer b) {
    int len = b.remaining();
    if (len == 0) {
      return;
    }
    MemorySegment sc = scratch.segment();
    if (len <= sc.byteSize() - scratchUsed) {
      if (b.hasArray()) {
        MemorySegment.copy(b.array(), b.arrayOffset() + b.position(), sc, ValueLayout.JAVA_BYTE,
            scratchUsed, len);
      } else {
        for (int i = 0; i < len; i++) {
          sc.set(ValueLayout.JAVA_BYTE, scratchUsed + i, b.get(b.position() + i));
        }
      }
      addPiece(SCRATCH, null, scratchUsed, len);
      scratchUsed += len;
      return;
    }
    try (BufWriter w = BufWriter.of(allocator)) { // the scratch is full: a copy of its own
      w.write(MemorySegment.ofBuffer(b));
      Slice copy = w.toSlice();
      addPiece(COPY, copy, 0, copy.length());
    } catch (IOException e) {
      bytesFailed = true; // pool exhausted: the sink cannot take the bytes, as on the plain path
    }
  }

  private void addPiece(byte kind, Slice copy, long from, long len) {
    if (pieces == pieceKinds.length) {
      int n = pieces * 2;
      pieceKinds = Arrays.copyOf(pieceKinds, n);
      pieceCopies = Arrays.copyOf(pieceCopies, n);
      pieceFroms = Arrays.copyOf(pieceFroms, n);
      pieceLengths = Arrays.copyOf(pieceLengths, n);
    }
    pieceKinds[pieces] = kind;
    pieceCopies[pieces] = copy;
    pieceFroms[pieces] = from;
    pieceLengths[pieces] = len;
    pieces++;
  }

  /** The native regions of pieces {@code [first, end)} in {@link #addresses}, or -1 if too many. */
  private int regions(int first, int end) {
    int k = 0;
    for (int i = first; i < end; i++) {
      if (pieceKinds[i] == SCRATCH) {
        if (k == IoUring.MAX_IOV) {
          return -1;
        }
        addresses[k] = scratch.segment().address() + pieceFroms[i];
        lengths[k++] = (int) pieceLengths[i];
        continue;
      }
      int n;
      try {
        n = pieceKinds[i] == CHUNK
            ? chunk.nativeRegions(pieceFroms[i], pieceLengths[i], pieceAddresses,
                pieceRegionLengths)
            : pieceCopies[i].nativeRegions(pieceFroms[i], pieceLengths[i], pieceAddresses,
                pieceRegionLengths);
      } catch (IOException e) {
        return -1;
      }
      if (n < 0 || k + n > IoUring.MAX_IOV) {
        return -1;
      }
      System.arraycopy(pieceAddresses, 0, addresses, k, n);
      System.arraycopy(pieceRegionLengths, 0, lengths, k, n);
      k += n;
    }
    return k;
  }

  /**
   * A sink's port, owning its channel: appends pieces {@code [first, end)} after their first
   * {@code skip} bytes (what a send already took) to {@code d}, in order: the chunk's ranges and
   * copies by reference, the scratch's inserted bytes copied (the scratch is reused).
   *
   * @return false if no pooled memory was left for a copy ({@code d} is emptied)
   */
  boolean appendPieces(BufWriter d, int first, int end, long skip) {
    try {
      for (int k = first; k < end; k++) {
        if (skip >= pieceLengths[k]) {
          skip -= pieceLengths[k];
          continue;
        }
        long from = pieceFroms[k] + skip;
        long len = pieceLengths[k] - skip;
        skip = 0;
        switch (pieceKinds[k]) {
          case CHUNK -> chunk.retainTo(from, len, d);
          case SCRATCH -> d.write(scratch.segment().asSlice(from, len));
          default -> d.write(pieceCopies[k], from, len);
        }
      }
      return true;
    } catch (IOException e) {
      d.drainTo(UserPort.RELEASE);
      return false; // pool exhausted: the sink cannot take the bytes
    }
  }

  /** The entry being offered (index {@link #pending}) is not batched: its pieces go out now. */
  private void writeDirectly(int first) {
    pendingTargets[pending].guard.exit();
    pendingTargets[pending] = null;
    Sink s = sinks[pending];
    sinks[pending] = null;
    boolean fits = !bytesFailed && ((UserPort) s.port).putOwned(this, first, pieces, s);
    closePieces(first, pieces);
    pieces = first;
    s.released(fits);
  }

  private void closePieces(int first, int end) {
    for (int i = first; i < end; i++) {
      if (pieceCopies[i] != null) {
        pieceCopies[i].close();
        pieceCopies[i] = null;
      }
    }
  }

  private boolean prepare(SendTargets.Target t, int regions) {
    long userData = pending;
    int fd = t.guard.fd;
    return regions == 1
        ? ring.prepareSend(fd, t.fixed, addresses[0], lengths[0], FLAGS, userData)
        : ring.prepareSendv(fd, t.fixed, addresses, lengths, regions, FLAGS, userData);
  }

  /** Opens the ring on first use (on the source thread, which alone submits to it). */
  private boolean open() {
    if (ring != null) {
      return true;
    }
    try {
      scratch = allocator.allocate(SCRATCH_BYTES);
    } catch (IOException e) {
      return false; // no pooled memory now: written directly this time
    }
    try {
      ring = IoUring.open(entries);
      targets = new SendTargets(ring);
      return true;
    } catch (IOException | RuntimeException e) {
      scratch.release();
      scratch = null;
      stop("opening the ring failed: " + e.getMessage());
      return false;
    }
  }

  /**
   * Source thread, delivery lock held, after every sink was offered the chunk: submits the
   * prepared sends in one system call, reaps every completion and settles each sink.
   */
  void flush() {
    int n = pending;
    if (n == 0) {
      return;
    }
    int r;
    do {
      r = ring.submitAndWait(n);
    } while (r == -Syscalls.EINTR);
    if (r != n) {
      // SUBMIT_ALL consumes every SQE; anything else leaves sends the kernel may still issue
      // later, after their remainders were queued: give the ring up before settling
      stop("io_uring_enter returned " + (r < 0 ? Syscalls.describe(-r) : r + " of " + n));
      for (int i = 0; i < n; i++) {
        settle(i, 0);
      }
    } else {
      int reaped = 0;
      while (reaped < n) {
        if (ring.nextCompletion()) {
          int res = ring.result();
          settle((int) ring.userData(), res > 0 ? res : 0);
          reaped++;
        } else {
          r = ring.submitAndWait(n - reaped); // completions not posted yet: wait for them
          if (r < 0 && r != -Syscalls.EINTR) {
            stop("waiting for completions failed: " + Syscalls.describe(-r));
            for (int i = 0; i < n; i++) {
              if (sinks[i] != null) {
                settle(i, 0);
              }
            }
            break;
          }
        }
      }
    }
    pending = 0;
    pieces = 0;
    scratchUsed = 0;
    chunk = null;
  }

  /**
   * One sink's send completed with {@code sent} bytes: the descriptor is released, the remainder
   * queued and the channel given back. Errors count as nothing sent; the writer meets them.
   */
  private void settle(int i, long sent) {
    Sink s = sinks[i];
    sinks[i] = null;
    pendingTargets[i].guard.exit();
    pendingTargets[i] = null;
    int first = i == 0 ? 0 : ends[i - 1];
    boolean fits = ((UserPort) s.port).wrote(this, first, ends[i], sent, s);
    closePieces(first, ends[i]);
    s.released(fits);
  }

  private void stop(String why) {
    failed = true;
    LOG.log(System.Logger.Level.WARNING, "io_uring sends stop for this fan-out: " + why);
    if (ring != null) {
      ring.close();
    }
  }

  /** Source thread, after its last step: closes the ring. */
  void close() {
    if (ring != null && !failed) {
      ring.close();
    }
    ring = null;
    if (scratch != null) {
      scratch.release();
      scratch = null;
    }
  }
}
