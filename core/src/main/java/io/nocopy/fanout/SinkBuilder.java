package io.nocopy.fanout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;

/**
 * Configures one sink of a {@link Fanout} ({@link Fanout#sink}); {@link #add()} adds it. Not
 * thread-safe; use once.
 *
 * <p>A sink's channel receives, in order: the {@link #prefix} (a response head), the {@link
 * #header} (bytes replayed before the stream, such as codec headers), then the stream from the
 * position {@link #startAt} chose (by default the start of the fan-out's burst), with the bytes of
 * {@link #insert} at their positions.
 */
public final class SinkBuilder {
  final Fanout fanout;
  final WritableByteChannel channel;
  ByteBuffer prefix;
  ByteBuffer header;
  StartPosition start = StartPosition.BURST;
  Insertions insertions;
  int bound;
  TransportKind transport;

  SinkBuilder(Fanout fanout, WritableByteChannel channel) {
    this.fanout = fanout;
    this.channel = Objects.requireNonNull(channel, "channel");
    this.bound = fanout.sinkBound;
  }

  /**
   * Bytes written first, before anything of the stream (a response head); they are not part of
   * the sink's stream (no {@link Insertions} position counts them).
   *
   * @param bytes read from position to limit on the sink's thread; the caller must not change them
   *     afterwards (pass a duplicate of a shared buffer); null for none
   * @return this builder
   */
  public SinkBuilder prefix(ByteBuffer bytes) {
    this.prefix = bytes;
    return this;
  }

  /**
   * Bytes replayed at the start of the sink's stream, before its first source byte (a codec's
   * header pages for a listener that joins late). Part of the sink's stream: {@link Insertions}
   * positions count them.
   *
   * @param bytes read from position to limit during {@link #add()}, not modified; null for none
   * @return this builder
   */
  public SinkBuilder header(ByteBuffer bytes) {
    this.header = bytes;
    return this;
  }

  /**
   * Where the sink's stream starts ({@link StartPosition#BURST} by default), and, if its {@link
   * StartPosition#decide} says so, the header replayed before it (instead of {@link #header}).
   *
   * @param position chosen once, during {@link #add()}
   * @return this builder
   */
  public SinkBuilder startAt(StartPosition position) {
    this.start = Objects.requireNonNull(position, "position");
    return this;
  }

  /**
   * Bytes inserted into this sink's stream at positions of it (ICY metadata).
   *
   * @param hook asked on the delivering thread; null for none
   * @return this builder
   */
  public SinkBuilder insert(Insertions hook) {
    this.insertions = hook;
    return this;
  }

  /**
   * How far (bytes) this sink may fall behind before it is dropped with {@link Reason#TOO_SLOW}
   * (default: the fan-out's {@link Fanout.Builder#sinkBound}). On the kernel transport the bound is
   * the sink pipe's capacity, which the kernel counts in pages.
   *
   * @param bytes at least 4096
   * @return this builder
   * @throws IllegalArgumentException if below 4096
   */
  public SinkBuilder bound(int bytes) {
    this.bound = Fanout.checkBound(bytes);
    return this;
  }

  /**
   * The transport of this sink when it should differ from the fan-out's: {@link
   * TransportKind#USERSPACE} on a kernel fan-out copies each chunk once into pooled memory for
   * such sinks. A kernel sink on a userspace fan-out is not possible. By default the sink uses the
   * fan-out's transport, and falls back to userspace alone when its pipe cannot be sized to its
   * bound (the user's pipe page budget) or its channel has no descriptor; {@link
   * Sink#transport()} tells which it got. Asking for {@link TransportKind#KERNEL} turns those
   * fallbacks into failures of {@link #add()}.
   *
   * @param kind the transport
   * @return this builder
   */
  public SinkBuilder transport(TransportKind kind) {
    this.transport = Objects.requireNonNull(kind, "kind");
    return this;
  }

  /**
   * Adds the sink. It receives the prefix, the header, the stream from its start position, with
   * its insertions; exactly the chunks after its start, without a gap or a duplicate.
   *
   * @return the sink's handle
   * @throws IOException if the sink's pipe or queue cannot be made
   * @throws IllegalStateException if the source already ended or the fan-out is closed
   * @throws IllegalArgumentException if a kernel sink is asked of a userspace fan-out, or for a
   *     channel without a descriptor
   */
  public Sink add() throws IOException {
    return fanout.add(this);
  }
}
