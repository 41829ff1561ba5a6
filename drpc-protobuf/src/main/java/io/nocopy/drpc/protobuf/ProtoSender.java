package io.nocopy.drpc.protobuf;

import com.google.protobuf.MessageLite;
import java.io.IOException;

/**
 * The sending side of a typed stream: what a server-streaming handler is given to send its
 * responses.
 *
 * @param <S> the type of the messages sent
 */
public interface ProtoSender<S extends MessageLite> {
  /**
   * Sends a message: serialized into a pooled block, written, released before the call returns.
   *
   * @param message the message; not kept
   * @throws IOException if the stream can no longer send (the peer cancelled or failed it, this
   *     side closed its send direction, the connection failed)
   */
  void send(S message) throws IOException;

  /**
   * Queues a message without sending it yet (a corked write): serialized into a pooled block that
   * goes out with the next {@link #flush()}, {@link #send}, the end of the rpc (a server-streaming
   * handler's return), or as soon as the connection holds 64 KiB of unsent packets. A burst of
   * small messages written this way costs one system call instead of one each; a message left
   * unflushed is not seen by the peer, so flush before waiting. This default sends at once.
   *
   * @param message the message; not kept
   * @throws IOException as {@link #send}
   */
  default void write(S message) throws IOException {
    send(message);
  }

  /**
   * Sends every message {@linkplain #write written} and not yet sent. This default does nothing
   * (its {@code write} sends at once).
   *
   * @throws IOException if the connection failed
   */
  default void flush() throws IOException {}
}
