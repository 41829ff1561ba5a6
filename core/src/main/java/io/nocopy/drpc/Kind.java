package io.nocopy.drpc;

/**
 * The kind of a DRPC packet: bits 1..6 of a frame's control byte. The numbering is drpcwire's
 * (storj.io/drpc and the CockroachDB fork); 0 is reserved and never valid.
 */
enum Kind {
  /** Starts a stream; the body is the rpc name, e.g. {@code /nocopy.Echo/Unary}. */
  INVOKE(1),
  /** A message of the rpc; the body is the encoded message. */
  MESSAGE(2),
  /** The sender failed the stream; the body is an 8-byte big-endian code, then UTF-8 text. */
  ERROR(3),
  /** The sender cancelled the stream (soft cancel); sent with the control bit; empty body. */
  CANCEL(4),
  /** The sender closed the stream for both directions; empty body. */
  CLOSE(5),
  /** The sender will send no more messages; it may still receive. Empty body. */
  CLOSE_SEND(6),
  /** Metadata for the Invoke that follows on the same stream (protobuf map). */
  INVOKE_METADATA(7);

  private static final Kind[] BY_CODE = new Kind[64];

  static {
    for (Kind k : values()) {
      BY_CODE[k.code] = k;
    }
  }

  private final int code;

  Kind(int code) {
    this.code = code;
  }

  /**
   * The wire number of this kind (1..7).
   *
   * @return the code placed in bits 1..6 of the control byte
   */
  public int code() {
    return code;
  }

  /**
   * The kind with a wire number.
   *
   * @param code the 6-bit kind field of a control byte
   * @return the kind, or null if the number is reserved or unknown
   */
  public static Kind of(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }
}
