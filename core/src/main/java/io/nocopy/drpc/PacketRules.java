package io.nocopy.drpc;

import java.util.Objects;

/**
 * drpcwire's rules for the frames of one stream, checked from each frame header before its data is
 * read:
 *
 * <ul>
 *   <li>message ids never go backwards: a frame below the next expected id is an error (this also
 *       rejects reuse of a completed id);
 *   <li>a frame with a higher id than the packet in progress starts a new packet and the partial
 *       one is abandoned (a sender giving up on a message, e.g. on cancellation);
 *   <li>the kind never changes inside a packet;
 *   <li>a packet never exceeds the maximum size (checked from the frame header, so an oversize
 *       frame never allocates).
 * </ul>
 *
 * The rules hold no data: the caller keeps each packet's bytes (the transport queues a message's
 * chunks in the stream's {@link MessageQueue} and a control packet's in a {@link io.nocopy.buffer.Chunks}) and
 * drops them when {@link #frame} reports the packet abandoned.
 *
 * <p>Not thread-safe: one instance per stream, guarded by whoever owns it.
 */
final class PacketRules {
  private final long streamId;
  private final long maxPacket;
  private long nextMessageId = 1; // lowest acceptable message id (unsigned)
  private long messageId;
  private boolean inPacket;
  private Kind kind;
  private long size;

  /**
   * Rules for one stream.
   *
   * @param streamId the stream's id; frames of other streams are rejected
   * @param maxPacket the largest packet accepted, in bytes
   */
  PacketRules(long streamId, long maxPacket) {
    if (maxPacket < 0) {
      throw new IllegalArgumentException("maximum packet size is negative: " + maxPacket);
    }
    this.streamId = streamId;
    this.maxPacket = maxPacket;
  }

  /**
   * Accepts a frame header before its data is read.
   *
   * @param h the frame header; its kind must be known ({@link FrameHeader#kind()} not null)
   * @return true if the frame abandons a partial packet of a lower message id, whose data the
   *     caller must drop
   * @throws DrpcProtocolException if the frame breaks a rule; the connection must then be closed
   */
  boolean frame(FrameHeader h) throws DrpcProtocolException {
    if (h.streamId() != streamId) {
      throw new DrpcProtocolException(
          "frame for stream " + Long.toUnsignedString(h.streamId()) + " checked by the rules of"
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
    boolean abandoned = false;
    if (!inPacket || mid != messageId) {
      abandoned = inPacket;
      inPacket = true;
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
    return abandoned;
  }

  /** Completes the packet after a frame with the done bit: the next packet needs a higher id. */
  void complete() {
    inPacket = false;
    nextMessageId = messageId + 1;
  }

  /** Forgets a partial packet (its data was dropped by the caller); ids keep their order. */
  void abandon() {
    inPacket = false;
  }

  /** The kind of the packet in progress (or last completed); null before the first frame. */
  Kind kind() {
    return kind;
  }

  /** Bytes accepted so far for the packet in progress. */
  long size() {
    return size;
  }

  /** Whether a packet is in progress: between its first frame and the done frame. */
  boolean inPacket() {
    return inPacket;
  }
}
