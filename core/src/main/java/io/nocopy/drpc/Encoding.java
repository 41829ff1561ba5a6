package io.nocopy.drpc;

import io.nocopy.buffer.Slice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * How messages of type {@code T} are turned into bytes and back, so a message format (protobuf,
 * JSON, ...) plugs into the transport without touching it. drpc calls this an encoding.
 *
 * @param <T> the message type
 */
public interface Encoding<T> {
  /**
   * Decodes a received message.
   *
   * @param message borrowed: valid only during the call (the transport closes it afterwards); an
   *     encoding that wants to keep the bytes retains or copies them
   * @return the value
   * @throws IOException if the bytes are not a valid message
   */
  T decode(Slice message) throws IOException;

  /**
   * Decodes a message lent to a {@link MessageHandler} (how {@link DrpcClient#invoke(String,
   * Slice, Encoding)} takes a response). This default takes a {@link ReceivedMessage#retain()}
   * slice of it and decodes that; an encoding that can read the chunks in place overrides it and
   * allocates nothing for the hand-over.
   *
   * @param message borrowed: valid only during the call
   * @return the value, which must not refer to the message's memory
   * @throws IOException if the bytes are not a valid message
   */
  default T decode(ReceivedMessage message) throws IOException {
    try (Slice s = message.retain()) {
      return decode(s);
    }
  }

  /**
   * Encodes a value to send.
   *
   * @param value the value
   * @return a buffer whose position..limit is the message; the transport reads it during the send
   *     and keeps no reference
   * @throws IOException if the value cannot be encoded
   */
  ByteBuffer encode(T value) throws IOException;

  /** Raw bytes: a copy of the message as an array. */
  Encoding<byte[]> BYTES =
      new Encoding<>() {
        @Override
        public byte[] decode(Slice message) {
          return message.toByteArray();
        }

        @Override
        public ByteBuffer encode(byte[] value) {
          return ByteBuffer.wrap(value);
        }
      };

  /** UTF-8 text. */
  Encoding<String> UTF8 =
      new Encoding<>() {
        @Override
        public String decode(Slice message) {
          return new String(message.toByteArray(), StandardCharsets.UTF_8);
        }

        @Override
        public ByteBuffer encode(String value) {
          return ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8));
        }
      };
}
