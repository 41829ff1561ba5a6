package io.nocopy.drpc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A failed rpc: the error a peer sent in an Error packet, or a local failure of one
 * stream (cancelled, queue overflow, connection lost). Carries drpc's unsigned 64-bit error code
 * (0 when none was given); on the wire the code is 8 bytes big-endian followed by the UTF-8 text.
 *
 * <p>Handlers throw it to answer with a code; anything else a handler throws is sent with code 0
 * and its message.
 */
public class DrpcException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Code used when a stream is cancelled because its receive queue overflowed (gRPC's 8). */
  public static final long RESOURCE_EXHAUSTED = 8;

  /** Code used for cancellation (gRPC's 1). */
  public static final long CANCELED = 1;

  /** Code used when the rpc name is unknown (gRPC's 12). */
  public static final long UNIMPLEMENTED = 12;

  private final long code;

  /**
   * An error with a code.
   *
   * @param code drpc's error code (unsigned; 0 for none)
   * @param message the text sent to, or received from, the peer
   */
  public DrpcException(long code, String message) {
    super(message);
    this.code = code;
  }

  /**
   * An error with a code and a local cause.
   *
   * @param code drpc's error code
   * @param message the text
   * @param cause the local cause (not sent to the peer)
   */
  public DrpcException(long code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  /**
   * An error without a stack trace, for states reached on hot paths (a stream that finished or
   * was closed) where filling in the trace would cost more than the call.
   *
   * @param code the code
   * @param message the text
   * @return a new exception whose stack trace is empty
   */
  static DrpcException quiet(long code, String message) {
    return new Quiet(code, message);
  }

  private static final class Quiet extends DrpcException {
    private static final long serialVersionUID = 1L;

    Quiet(long code, String message) {
      super(code, message);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }

  /**
   * The drpc error code.
   *
   * @return the code (unsigned), 0 when none
   */
  public long code() {
    return code;
  }

  /**
   * The body of an Error packet: 8-byte big-endian code, then the UTF-8 message.
   *
   * @param code the code
   * @param message the text (null is sent as empty)
   * @return a new array owned by the caller
   */
  public static byte[] encode(long code, String message) {
    byte[] text = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + text.length);
    b.putLong(code).put(text);
    return b.array();
  }

  /**
   * Decodes an Error packet body as drpcwire does: shorter than 8 bytes is not a protocol error
   * but an error with code 0 whose text says the data was invalid.
   *
   * @param body the packet body
   * @return the error
   */
  public static DrpcException decode(byte[] body) {
    if (body.length < 8) {
      return new DrpcException(
          0, new String(body, StandardCharsets.UTF_8) + " (drpc note: invalid error data)");
    }
    long code = ByteBuffer.wrap(body).getLong();
    return new DrpcException(code, new String(body, 8, body.length - 8, StandardCharsets.UTF_8));
  }
}
