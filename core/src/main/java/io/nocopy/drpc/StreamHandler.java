package io.nocopy.drpc;

/**
 * Serves a streaming rpc (client, server or bidirectional streaming): the handler receives and
 * sends on the stream as it likes. When it returns, the server sends CloseSend (if the handler has
 * not) and closes the stream; if it throws, the server sends an Error instead ({@link
 * DrpcException}'s code, or 0). Each stream runs on its own virtual thread.
 */
@FunctionalInterface
public interface StreamHandler {
  /**
   * Handles one stream.
   *
   * @param stream the stream; the server closes it after this returns
   * @throws Exception to fail the rpc
   */
  void handle(DrpcStream stream) throws Exception;
}
