package io.nocopy.drpc;

/**
 * What a connection does when a stream's receive queue is full and another message for that stream
 * arrives. The connection has one reader for all its streams, so the choice is between slowing the
 * whole connection down and giving up on the slow stream.
 */
public enum OverflowPolicy {
  /**
   * The reader waits until the consumer takes a message: TCP backpressure, drpc's behaviour. Every
   * other stream on the same connection waits too, so use it when streams are consumed promptly or
   * a connection carries one stream at a time.
   */
  BLOCK,

  /**
   * The full stream is cancelled: its queued messages are released, its consumer gets a {@link
   * DrpcException} with code {@link DrpcException#RESOURCE_EXHAUSTED}, the peer is sent an Error
   * for that stream, and later frames for it are dropped. The other streams go on undisturbed.
   */
  CANCEL_STREAM
}
