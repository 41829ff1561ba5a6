package io.nocopy.fanout;

/**
 * How a fan-out moves bytes to its sinks; chosen once per fan-out ({@link Fanout#transport()}) and
 * per sink where it differs ({@link Sink#transport()}).
 */
public enum TransportKind {
  /**
   * splice(2) and tee(2): the source is spliced into a staging pipe, tee'd into each sink's own
   * pipe and spliced on to the sink; the payload never enters the JVM. Needs Linux, native access
   * and a source channel with a file descriptor.
   */
  KERNEL,
  /**
   * Pooled memory: the same retained {@link io.nocopy.buffer.Slice} goes to every sink and is
   * written with gathering writes; bytes are copied once, from the source into pooled blocks.
   */
  USERSPACE
}
