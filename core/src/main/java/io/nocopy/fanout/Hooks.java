package io.nocopy.fanout;

import java.nio.ByteBuffer;

/**
 * A sink's stream hooks: where its stream starts, what is inserted into it, and where it ends when
 * it detaches. Only sinks that have one get a {@code Hooks} (a sink asked to detach gets one
 * then); {@link Sink#deliver} checks for null and otherwise hands the whole chunk on, so sinks
 * without hooks pay nothing.
 *
 * <p>The walk: a chunk covers stream positions {@code [c.position, c.position + c.length)}; the
 * sink takes the part at or after its start position. Its own stream position ({@link #at}) counts
 * header bytes and taken stream bytes. Before each insertion point the chunk is offered up to the
 * point, then the inserted bytes, then the walk continues. Delivering thread only (under the
 * fan-out's delivery lock), like the sink's offers.
 */
final class Hooks {
  private final long start;
  private final ByteBuffer header;
  private final Insertions insertions;
  private long at; // position in the sink's stream
  private long nextInsert = Long.MAX_VALUE;
  private long end = Long.MAX_VALUE; // the detach position: no source byte at or after it
  private boolean ended; // the sink got its last byte before end

  private Hooks(long start, ByteBuffer header, Insertions insertions) {
    this.start = start;
    this.header = header;
    this.insertions = insertions;
    if (insertions != null) {
      nextInsert = insertions.nextAfter(0);
    }
  }

  /**
   * The hooks of a sink about to be added with {@code replayed} as its header (or null), or null
   * when it needs none: no header, no insertions,
   * and a start the burst gives whole (at or before {@code live}).
   */
  static Hooks of(SinkBuilder b, ByteBuffer replayed, long start, long live) {
    ByteBuffer header = replayed != null && replayed.hasRemaining() ? replayed.duplicate() : null;
    if (header == null && b.insertions == null && start <= live) {
      return null;
    }
    return new Hooks(start, header, b.insertions);
  }

  /** Under the delivery lock, before the burst: the header, with its insertions. */
  void begin(Sink s) {
    if (header == null) {
      return;
    }
    ByteBuffer h = header;
    while (h.hasRemaining() && s.handover.stopReason() == null) {
      long room = nextInsert - at;
      int take = (int) Math.min(h.remaining(), room);
      if (take > 0) {
        ByteBuffer part = h.duplicate();
        part.limit(h.position() + take);
        s.offerBytes(part);
        h.position(h.position() + take);
        at += take;
      }
      insertIfDue(s, null);
    }
  }

  /** The hooks of a sink without any, made when it is asked to detach. */
  static Hooks plain(long start) {
    return new Hooks(start, null, null);
  }

  /**
   * Delivery lock held: the sink takes no source byte at or after {@code position}. The caller
   * checked that the sink has not been given bytes past it.
   */
  void endAt(long position) {
    end = position;
  }

  /** The detach position, {@link Long#MAX_VALUE} for none. */
  long end() {
    return end;
  }

  /**
   * Gives the sink its part of the chunk, with insertions at their points, up to its detach
   * position; on reaching it the sink's stream ends ({@link Sink#endHere}).
   */
  void deliver(Sink s, Chunk c) {
    walk(s, c, null);
  }

  /**
   * Whether the sink's part of chunk {@code c} can be batched as pieces ({@link #walk} into a
   * batch): its stream does not end within the chunk (the plain walk ends it).
   */
  boolean batchable(Chunk c) {
    return !ended && c.position + c.length < end;
  }

  /**
   * The walk of {@link #deliver}: the sink's part of the chunk and the insertions at their points,
   * offered to the sink ({@code batch} null), or handed in order to {@code batch} while the
   * delivering thread owns the sink's channel for one batched send of them all ({@link
   * #batchable} was true).
   */
  void walk(Sink s, Chunk c, UringSends batch) {
    if (ended) {
      return;
    }
    long from = Math.max(0, start - c.position);
    long until = Math.min(c.length, end - c.position);
    while (from < until && s.handover.stopReason() == null) {
      long take = Math.min(until - from, nextInsert - at);
      if (take > 0) {
        if (batch == null) {
          s.offer(c, from, take);
        } else {
          batch.range(from, take);
        }
        from += take;
        at += take;
      }
      insertIfDue(s, batch);
    }
    if (c.position + c.length >= end) {
      ended = true;
      s.endHere();
    }
  }

  private void insertIfDue(Sink s, UringSends batch) {
    if (at == nextInsert) {
      ByteBuffer ins = insertions.bytesAt(at);
      s.fanout.counters.inserted.add(ins.remaining());
      if (batch == null) {
        s.offerBytes(ins); // ports read it without moving its position: it may be shared
      } else {
        batch.bytes(ins); // copied at once
      }
      nextInsert = insertions.nextAfter(at);
    }
  }
}
