package io.nocopy.drpc;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Unsigned LEB128 varints as drpcwire writes them: seven bits per byte, least significant group
 * first, the high bit set on every byte but the last; a 64-bit value takes 1 to {@value #MAX_BYTES}
 * bytes. Values are Java {@code long}s read as unsigned (use {@link Long#toUnsignedString(long)} to
 * print them).
 *
 * <p>Decoding accepts non-minimal encodings (drpcwire does) but rejects more than ten bytes and a
 * tenth byte that would overflow 64 bits, with a {@link DrpcProtocolException}.
 *
 * <p>Stateless and thread-safe; nothing here allocates.
 */
final class Varint {
  /** The longest encoding of a 64-bit value. */
  public static final int MAX_BYTES = 10;

  private Varint() {}

  /** A source of single bytes, e.g. a {@code BufReader}; {@link EOFException} at the end. */
  @FunctionalInterface
  interface ByteInput {
    /**
     * The next byte.
     *
     * @return 0..255
     * @throws IOException EOFException at the end of input, or an I/O error
     */
    int next() throws IOException;
  }

  /**
   * The encoded size of a value.
   *
   * @param value read as unsigned
   * @return 1..10
   */
  public static int size(long value) {
    int bits = 64 - Long.numberOfLeadingZeros(value | 1);
    return (bits + 6) / 7;
  }

  /**
   * Writes a value at the buffer's position and advances it.
   *
   * @param dst the buffer; needs {@link #size(long)} bytes remaining
   * @param value read as unsigned
   * @return the bytes written
   * @throws java.nio.BufferOverflowException if the buffer is too small
   */
  public static int write(ByteBuffer dst, long value) {
    int n = 1;
    while (Long.compareUnsigned(value, 0x80) >= 0) {
      dst.put((byte) ((value & 0x7F) | 0x80));
      value >>>= 7;
      n++;
    }
    dst.put((byte) value);
    return n;
  }

  /**
   * Writes a value into an array.
   *
   * @param dst the array
   * @param off where the first byte goes
   * @param value read as unsigned
   * @return the offset after the last byte written
   * @throws ArrayIndexOutOfBoundsException if the array is too small
   */
  public static int write(byte[] dst, int off, long value) {
    while (Long.compareUnsigned(value, 0x80) >= 0) {
      dst[off++] = (byte) ((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    dst[off++] = (byte) value;
    return off;
  }

  /**
   * Reads a value at the buffer's position and advances it past the varint.
   *
   * @param src the buffer
   * @return the value (unsigned)
   * @throws EOFException if the buffer ends inside the varint
   * @throws DrpcProtocolException if it is longer than ten bytes or overflows 64 bits
   */
  public static long read(ByteBuffer src) throws EOFException, DrpcProtocolException {
    long value = 0;
    for (int i = 0; i < MAX_BYTES; i++) {
      if (!src.hasRemaining()) {
        throw new EOFException("varint truncated after " + i + " bytes");
      }
      int b = src.get() & 0xFF;
      value = accumulate(value, b, i);
      if (b < 0x80) {
        return value;
      }
    }
    throw tooLong();
  }

  /**
   * Reads a value byte by byte.
   *
   * @param in the byte source
   * @return the value (unsigned)
   * @throws EOFException if the input ends inside the varint
   * @throws DrpcProtocolException if it is longer than ten bytes or overflows 64 bits
   * @throws IOException if the source fails
   */
  static long read(ByteInput in) throws IOException {
    long value = 0;
    for (int i = 0; i < MAX_BYTES; i++) {
      int b = in.next();
      value = accumulate(value, b, i);
      if (b < 0x80) {
        return value;
      }
    }
    throw tooLong();
  }

  private static long accumulate(long value, int b, int i) throws DrpcProtocolException {
    if (i == MAX_BYTES - 1 && b > 1) {
      throw new DrpcProtocolException(
          "malformed varint: tenth byte 0x" + Integer.toHexString(b) + " overflows 64 bits");
    }
    return value | ((long) (b & 0x7F)) << (7 * i);
  }

  private static DrpcProtocolException tooLong() {
    return new DrpcProtocolException("malformed varint: longer than " + MAX_BYTES + " bytes");
  }
}
