package io.nocopy.fanout;

import io.nocopy.buffer.Slice;
import java.nio.channels.ReadableByteChannel;
import java.util.Objects;

/**
 * Where a fan-out's bytes come from: a channel whose bytes the kernel can move, or a supplier of
 * {@link Slice}s parsed in userspace. Sealed: a fan-out knows every kind of source.
 *
 * <p>A source is handed to {@link Fanout.Builder#open(Source)} and read by the fan-out's source
 * thread alone until its end; the channel (or whatever the supplier reads) stays the caller's and
 * is never closed by the fan-out.
 */
public sealed interface Source permits Source.OfChannel, Source.OfSlices {

  /**
   * A channel source without read-ahead bytes.
   *
   * @param channel read until its end of stream; stays the caller's
   * @return the source
   */
  static OfChannel channel(ReadableByteChannel channel) {
    return new OfChannel(channel, null);
  }

  /**
   * A channel source whose first bytes the caller already read (for example together with a
   * request head): {@code leading} is the stream's first chunk, then the channel follows.
   *
   * @param channel read until its end of stream; stays the caller's
   * @param leading the read-ahead bytes, or null; the fan-out takes over this handle and closes it
   *     (also when {@code open} fails)
   * @return the source
   */
  static OfChannel channel(ReadableByteChannel channel, Slice leading) {
    return new OfChannel(channel, leading);
  }

  /**
   * A source of slices parsed in userspace (a chunked body, a cascaded pull).
   *
   * @param slices pulled by the fan-out's source thread until it returns null
   * @return the source
   */
  static OfSlices slices(SliceSource slices) {
    return new OfSlices(slices, null);
  }

  /**
   * A source of slices read from {@code underlying}: the pacer adds the bytes waiting in that
   * channel (FIONREAD, when it has a descriptor) to {@link SliceSource#buffered()} to tell a source
   * that is ahead from one that is drained.
   *
   * @param slices pulled by the fan-out's source thread until it returns null
   * @param underlying the channel the slices are read from, asked only how many bytes wait in it;
   *     never read or closed by the fan-out
   * @return the source
   */
  static OfSlices slices(SliceSource slices, ReadableByteChannel underlying) {
    return new OfSlices(slices, underlying);
  }

  /**
   * A channel source.
   *
   * @param channel read until its end of stream; stays the caller's
   * @param leading read-ahead bytes delivered first, or null; owned by the fan-out once opened
   */
  record OfChannel(ReadableByteChannel channel, Slice leading) implements Source {
    /** Checks the channel. */
    public OfChannel {
      Objects.requireNonNull(channel, "channel");
    }
  }

  /**
   * A source of slices.
   *
   * @param supplier pulled until it returns null
   * @param underlying the channel behind the supplier (asked for waiting bytes only), or null
   */
  record OfSlices(SliceSource supplier, ReadableByteChannel underlying) implements Source {
    /** Checks the supplier. */
    public OfSlices {
      Objects.requireNonNull(supplier, "supplier");
    }
  }
}
