package io.nocopy.drpc;

import java.io.IOException;

/**
 * Takes one received message without a {@link io.nocopy.buffer.Slice} handle: the
 * zero-allocation receive ({@link DrpcStream#receive(MessageHandler)}).
 */
@FunctionalInterface
public interface MessageHandler {
  /**
   * Handles a message. The message and every chunk it shows are valid only during this call; the
   * library releases the blocks when it returns (or throws). To keep the bytes, copy them or take
   * a {@link ReceivedMessage#retain()} slice.
   *
   * @param message the message, borrowed for the call
   * @throws IOException to abort; it propagates from the receive call (the message is released)
   */
  void onMessage(ReceivedMessage message) throws IOException;
}
