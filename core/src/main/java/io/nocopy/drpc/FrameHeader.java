package io.nocopy.drpc;

import io.nocopy.buffer.BufReader;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The header of one DRPC frame, as drpcwire lays it out:
 *
 * <pre>
 *   control byte   bit 0: done (last frame of the packet)
 *                  bits 1..6: kind (see {@link Kind})
 *                  bit 7: control (frames a receiver does not understand are ignored)
 *   varint         stream id  (1..2^64-1)
 *   varint         message id (1..2^64-1)
 *   varint         data length
 *   data           length bytes
 * </pre>
 *
 * A packet is one or more frames with the same (stream, message) id and kind; its data is the
 * concatenation of theirs; the last frame has the done bit.
 *
 * <p>Instances are mutable holders so a reader can parse frame after frame into the same object
 * without allocating; they are not thread-safe and belong to whoever created them.
 */
final class FrameHeader {
  /** The longest header: control byte and three ten-byte varints. */
  public static final int MAX_SIZE = 1 + 3 * Varint.MAX_BYTES;

  private int kindCode;
  private boolean done;
  private boolean control;
  private long streamId;
  private long messageId;
  private long length;

  /** An empty header (all zero), to be filled by {@link #read(ByteBuffer)} or {@link #set}. */
  public FrameHeader() {}

  /**
   * Sets every field.
   *
   * @param kindCode the 6-bit kind number (0..63; unknown numbers are allowed for tests)
   * @param done whether this is the packet's last frame
   * @param control whether the control bit is set
   * @param streamId the stream id (unsigned)
   * @param messageId the message id (unsigned)
   * @param length the data length (unsigned)
   * @return this header
   * @throws IllegalArgumentException if {@code kindCode} does not fit in 6 bits
   */
  public FrameHeader set(
      int kindCode, boolean done, boolean control, long streamId, long messageId, long length) {
    if (kindCode < 0 || kindCode > 63) {
      throw new IllegalArgumentException("kind " + kindCode + " does not fit in 6 bits");
    }
    this.kindCode = kindCode;
    this.done = done;
    this.control = control;
    this.streamId = streamId;
    this.messageId = messageId;
    this.length = length;
    return this;
  }

  /**
   * The control byte for a frame.
   *
   * @param kindCode the 6-bit kind number
   * @param done the done bit
   * @param control the control bit
   * @return the byte value 0..255
   */
  public static int controlByte(int kindCode, boolean done, boolean control) {
    return (kindCode & 0x3F) << 1 | (done ? 1 : 0) | (control ? 0x80 : 0);
  }

  /**
   * The encoded size of a header.
   *
   * @param streamId the stream id
   * @param messageId the message id
   * @param length the data length
   * @return 4..31 bytes
   */
  public static int size(long streamId, long messageId, long length) {
    return 1 + Varint.size(streamId) + Varint.size(messageId) + Varint.size(length);
  }

  /**
   * Writes a header at the buffer's position and advances it.
   *
   * @param dst the buffer; needs {@link #size} bytes remaining
   * @param kindCode the kind number
   * @param done the done bit
   * @param control the control bit
   * @param streamId the stream id
   * @param messageId the message id
   * @param length the data length that follows
   * @return the bytes written
   */
  public static int write(
      ByteBuffer dst,
      int kindCode,
      boolean done,
      boolean control,
      long streamId,
      long messageId,
      long length) {
    dst.put((byte) controlByte(kindCode, done, control));
    return 1 + Varint.write(dst, streamId) + Varint.write(dst, messageId) + Varint.write(dst, length);
  }

  /**
   * Writes this header at the buffer's position and advances it.
   *
   * @param dst the buffer
   * @return the bytes written
   */
  public int write(ByteBuffer dst) {
    return write(dst, kindCode, done, control, streamId, messageId, length);
  }

  /**
   * Parses a header at the buffer's position and advances past it (not past the data).
   *
   * @param src the buffer
   * @return this header
   * @throws EOFException if the buffer ends inside the header
   * @throws DrpcProtocolException if a varint is malformed
   */
  public FrameHeader read(ByteBuffer src) throws EOFException, DrpcProtocolException {
    if (!src.hasRemaining()) {
      throw new EOFException("frame header truncated: no control byte");
    }
    setControl(src.get() & 0xFF);
    streamId = Varint.read(src);
    messageId = Varint.read(src);
    length = Varint.read(src);
    return this;
  }

  /**
   * Parses a header byte by byte.
   *
   * @param in the source
   * @return this header
   * @throws IOException EOFException inside the header, DrpcProtocolException for a bad varint
   */
  FrameHeader read(Varint.ByteInput in) throws IOException {
    setControl(in.next());
    streamId = Varint.read(in);
    messageId = Varint.read(in);
    length = Varint.read(in);
    return this;
  }

  /**
   * Reads the next frame header from a {@link BufReader}, leaving the reader at the frame's data.
   *
   * @param in the reader
   * @return false if the input ended cleanly before the header (between frames)
   * @throws DrpcProtocolException if the input ends inside the header or a varint is malformed
   * @throws IOException from the reader's channel
   */
  public boolean readFrom(BufReader in) throws IOException {
    int c;
    try {
      c = in.readByte();
    } catch (EOFException e) {
      return false;
    }
    setControl(c);
    try {
      streamId = in.readVarint();
      messageId = in.readVarint();
      length = in.readVarint();
    } catch (EOFException e) {
      throw new DrpcProtocolException("peer disconnected in the middle of a frame header");
    } catch (java.net.ProtocolException e) {
      throw e instanceof DrpcProtocolException d ? d : new DrpcProtocolException(e.getMessage());
    }
    return true;
  }

  void setControl(int b) {
    done = (b & 1) != 0;
    kindCode = (b >>> 1) & 0x3F;
    control = (b & 0x80) != 0;
  }

  /**
   * The 6-bit kind number as received (may be reserved or unknown).
   *
   * @return 0..63
   */
  public int kindCode() {
    return kindCode;
  }

  /**
   * The kind.
   *
   * @return the kind, or null if {@link #kindCode()} is reserved or unknown
   */
  public Kind kind() {
    return Kind.of(kindCode);
  }

  /**
   * Whether this is the last frame of its packet.
   *
   * @return the done bit
   */
  public boolean done() {
    return done;
  }

  /**
   * Whether the control bit is set: a receiver ignores such frames if it does not understand them.
   *
   * @return the control bit
   */
  public boolean control() {
    return control;
  }

  /**
   * The stream id.
   *
   * @return the id (unsigned)
   */
  public long streamId() {
    return streamId;
  }

  /**
   * The message id.
   *
   * @return the id (unsigned)
   */
  public long messageId() {
    return messageId;
  }

  /**
   * The length of the data that follows the header.
   *
   * @return the length (unsigned)
   */
  public long length() {
    return length;
  }

  @Override
  public String toString() {
    Kind k = kind();
    return "<frame s:" + Long.toUnsignedString(streamId) + " m:" + Long.toUnsignedString(messageId)
        + " kind:" + (k != null ? k : "?" + kindCode) + " len:" + Long.toUnsignedString(length)
        + (done ? " done" : "") + (control ? " control" : "") + ">";
  }
}
