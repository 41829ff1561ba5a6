package io.nocopy.drpc;

import io.nocopy.buffer.BufWriter;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Joins one stream's frames into packets and enforces drpcwire's rules for them:
 *
 * <ul>
 *   <li>message ids never go backwards: a frame below the next expected id is an error (this also
 *       rejects reuse of a completed id);
 *   <li>a frame with a higher id than the packet being assembled starts a new packet and the
 *       partial one is discarded (a sender abandoning a message, e.g. on cancellation);
 *   <li>the kind never changes inside a packet;
 *   <li>a packet never exceeds the maximum size (checked from the frame header, before its data is
 *       read, so an oversize frame never allocates).
 * </ul>
 *
 * The frame data itself ({@code P}, e.g. a pooled {@code Slice}) is read by the caller between
 * {@link #frame} and {@link #append}; the assembler owns appended parts until {@link #finish} hands
 * the packet over, and releases them when it discards a partial packet or is {@link #clear()
 * cleared}. A caller may also keep the data itself and use the assembler for the rules only
 * ({@link #frame}, {@link #discarded()} to learn of a superseded packet, {@link #complete()}): the
 * transport does so, keeping message data as block chunks in the stream's {@link MessageQueue}.
 *
 * <p>Not thread-safe: one assembler per stream, used by the connection's reader only.
 *
 * @param <P> the type of frame data
 */
public final class PacketAssembler<P> {
  /**
   * Joins the parts of a packet into one message, taking ownership of every part.
   *
   * @param <P> the type of frame data
   */
  @FunctionalInterface
  public interface Joiner<P> {
    /**
     * Joins parts.
     *
     * @param parts two or more parts in order; the joiner owns them (the list itself is reused)
     * @return one message owning the bytes of all parts
     */
    P join(List<P> parts);
  }

  /**
   * The joiner the transport uses for {@link Slice} parts: the parts' blocks are shared by the
   * joined slice (appended by reference through a {@link BufWriter}), nothing is copied, and the
   * parts are closed.
   *
   * @param allocator the allocator of the parts' blocks
   * @return a joiner; stateless, may be shared
   */
  public static Joiner<Slice> sliceJoiner(Allocator allocator) {
    return parts -> {
      try (BufWriter w = BufWriter.of(allocator)) {
        for (Slice p : parts) {
          w.write(p);
        }
        return w.toSlice();
      } finally {
        for (Slice p : parts) {
          p.close();
        }
      }
    };
  }

  private final long streamId;
  private final long maxPacket;
  private final Consumer<? super P> release;
  private final ArrayList<P> parts = new ArrayList<>(4);
  private long nextMessageId = 1; // lowest acceptable message id (unsigned)
  private long messageId;
  private boolean assembling;
  private Kind kind;
  private long size;
  private long discarded;

  /**
   * An assembler for one stream.
   *
   * @param streamId the stream's id; frames of other streams are rejected
   * @param maxPacket the largest packet accepted, in bytes
   * @param release releases a part the assembler owns and discards
   */
  public PacketAssembler(long streamId, long maxPacket, Consumer<? super P> release) {
    if (maxPacket < 0) {
      throw new IllegalArgumentException("maximum packet size is negative: " + maxPacket);
    }
    this.streamId = streamId;
    this.maxPacket = maxPacket;
    this.release = Objects.requireNonNull(release, "release");
  }

  /**
   * Accepts a frame header before its data is read: checks the rules, and discards a partial packet
   * that a higher message id supersedes.
   *
   * @param h the frame header; its kind must be known ({@link FrameHeader#kind()} not null)
   * @throws DrpcProtocolException if the frame breaks a rule; the assembler is then unusable and
   *     the connection must be closed (call {@link #clear()} to release its parts)
   */
  public void frame(FrameHeader h) throws DrpcProtocolException {
    if (h.streamId() != streamId) {
      throw new DrpcProtocolException(
          "frame for stream " + Long.toUnsignedString(h.streamId()) + " given to the assembler of"
              + " stream " + Long.toUnsignedString(streamId));
    }
    long mid = h.messageId();
    Kind k = Objects.requireNonNull(h.kind(), "frame kind must be known");
    if (mid == 0 || Long.compareUnsigned(mid, nextMessageId) < 0) {
      throw new DrpcProtocolException(
          "stream " + Long.toUnsignedString(streamId) + ": message id monotonicity violation (got "
              + Long.toUnsignedString(mid) + ", expected at least "
              + Long.toUnsignedString(nextMessageId) + ")");
    }
    if (!assembling || mid != messageId) {
      if (assembling) {
        discarded++;
        releaseParts();
      }
      assembling = true;
      messageId = mid;
      kind = k;
      size = 0;
    } else if (k != kind) {
      throw new DrpcProtocolException(
          "stream " + Long.toUnsignedString(streamId) + ": packet kind change inside message "
              + Long.toUnsignedString(mid) + " (" + kind + " then " + k + ")");
    }
    if (Long.compareUnsigned(h.length(), maxPacket - size) > 0) {
      throw new DrpcProtocolException(
          "stream " + Long.toUnsignedString(streamId) + ": data overflow: packet "
              + Long.toUnsignedString(mid) + " would exceed the maximum of " + maxPacket
              + " bytes (have " + size + ", frame adds " + Long.toUnsignedString(h.length()) + ")");
    }
    size += h.length();
  }

  /**
   * Adds the data of the frame last accepted by {@link #frame}.
   *
   * @param part the data; the assembler owns it from now on
   */
  public void append(P part) {
    parts.add(Objects.requireNonNull(part, "part"));
  }

  /**
   * Completes the packet after a frame with the done bit: the next packet needs a higher message
   * id.
   *
   * @param joiner joins two or more parts (not called for zero or one part)
   * @return the packet data, owned by the caller; null if the packet has no data parts
   */
  public P finish(Joiner<P> joiner) {
    P out;
    if (parts.isEmpty()) {
      out = null;
    } else if (parts.size() == 1) {
      out = parts.get(0);
    } else {
      out = joiner.join(parts);
    }
    parts.clear();
    assembling = false;
    nextMessageId = messageId + 1;
    return out;
  }

  /**
   * Completes the packet after a frame with the done bit, for a caller that keeps the frame data
   * itself instead of appending it (the transport keeps it as block chunks in the stream's {@link
   * MessageQueue}): the next packet needs a higher message id.
   *
   * @throws IllegalStateException if parts were appended (use {@link #finish} for those)
   */
  public void complete() {
    if (!parts.isEmpty()) {
      throw new IllegalStateException(parts.size() + " parts appended: use finish(joiner)");
    }
    assembling = false;
    nextMessageId = messageId + 1;
  }

  /**
   * The kind of the packet being (or last) assembled.
   *
   * @return the kind, null before the first frame
   */
  public Kind kind() {
    return kind;
  }

  /**
   * The message id of the packet being (or last) assembled.
   *
   * @return the id (unsigned), 0 before the first frame
   */
  public long messageId() {
    return messageId;
  }

  /**
   * Bytes accepted so far for the packet being assembled.
   *
   * @return the size
   */
  public long size() {
    return size;
  }

  /**
   * Partial packets discarded because a higher message id arrived.
   *
   * @return the count
   */
  public long discarded() {
    return discarded;
  }

  /**
   * Whether a packet is partly assembled.
   *
   * @return true between its first frame and the done frame
   */
  public boolean assembling() {
    return assembling;
  }

  /** Releases any partial packet (stream or connection going away). Idempotent. */
  public void clear() {
    releaseParts();
    assembling = false;
  }

  private void releaseParts() {
    for (int i = 0; i < parts.size(); i++) {
      release.accept(parts.get(i));
    }
    parts.clear();
  }
}
