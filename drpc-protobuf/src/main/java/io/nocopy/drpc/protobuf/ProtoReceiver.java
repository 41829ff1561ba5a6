package io.nocopy.drpc.protobuf;

import com.google.protobuf.MessageLite;
import java.io.IOException;

/**
 * The receiving side of a typed stream: what a client-streaming handler is given to read its
 * requests.
 *
 * @param <R> the type of the messages received
 */
public interface ProtoReceiver<R extends MessageLite> {
  /**
   * The next message, parsed from the pooled blocks it was received into, which are released
   * before this returns.
   *
   * @return the message, owned by the caller; null once the peer closed its side and every message
   *     was taken
   * @throws com.google.protobuf.InvalidProtocolBufferException if the bytes are not a valid message
   * @throws io.nocopy.drpc.DrpcException the peer's error or a cancellation
   * @throws IOException the connection's failure, or an interrupt while waiting
   */
  R receive() throws IOException;
}
