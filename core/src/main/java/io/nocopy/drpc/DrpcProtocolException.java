package io.nocopy.drpc;

import java.net.ProtocolException;

/**
 * Malformed DRPC input: a bad varint, a zero or decreasing id, an oversize packet, a kind change
 * inside a packet, an unknown kind, a frame for a stream that was never invoked. The connection
 * that received it is closed (the protocol has no way to resynchronise a byte stream); every pooled
 * block it held is released before this exception reaches the caller.
 */
public final class DrpcProtocolException extends ProtocolException {
  private static final long serialVersionUID = 1L;

  /**
   * A protocol error with a message that says what was wrong and where.
   *
   * @param message the description, e.g. {@code "stream 3: message id 2 after 5"}
   */
  public DrpcProtocolException(String message) {
    super(message);
  }
}
