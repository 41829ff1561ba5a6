package io.nocopy.drpc;

import io.nocopy.buffer.Slice;

/**
 * Serves a unary rpc on raw bytes: one request message in, one response message out.
 *
 * <p>Ownership: the handler owns {@code request} and must close it or return it; the transport
 * owns the returned slice and closes it after sending it. Returning the request itself (an echo)
 * sends its bytes straight from the blocks they were received into.
 */
@FunctionalInterface
public interface UnaryHandler {
  /**
   * Handles one call.
   *
   * @param stream the call's stream (for its rpc name, metadata and id; do not receive from it)
   * @param request the request message, owned by the handler
   * @return the response, owned by the transport from now on; not null
   * @throws DrpcException to fail the call with a code
   * @throws Exception anything else fails the call with code 0 and the exception's message
   */
  Slice handle(DrpcStream stream, Slice request) throws Exception;

  /**
   * A unary handler on decoded values.
   *
   * @param <I> the request type
   * @param <O> the response type
   * @param in decodes the request
   * @param out encodes the response
   * @param fn the function
   * @return a stream handler that decodes, calls {@code fn}, encodes and sends
   */
  static <I, O> StreamHandler typed(Encoding<I> in, Encoding<O> out, TypedUnary<I, O> fn) {
    return stream -> {
      I req;
      try (Slice msg = stream.receive()) {
        if (msg == null) {
          throw new DrpcException(0, "unary rpc " + stream.rpc() + ": no request message");
        }
        req = in.decode(msg);
      }
      stream.send(out.encode(fn.apply(req)));
    };
  }

  /**
   * A unary function on decoded values.
   *
   * @param <I> the request type
   * @param <O> the response type
   */
  @FunctionalInterface
  interface TypedUnary<I, O> {
    /**
     * Computes the response.
     *
     * @param request the decoded request
     * @return the response
     * @throws Exception to fail the call (a {@link DrpcException} keeps its code)
     */
    O apply(I request) throws Exception;
  }
}
