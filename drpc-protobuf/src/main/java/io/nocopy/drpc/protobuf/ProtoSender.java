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
}
