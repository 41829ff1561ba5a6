package io.nocopy.relay;

import io.nocopy.fanout.Insertions;
import io.nocopy.fanout.StartPosition;
import io.nocopy.relay.format.FormatScanner;
import io.nocopy.relay.format.IcyMetadata;
import io.nocopy.relay.format.IcyTimeline;
import java.nio.ByteBuffer;

/**
 * One listener's view of its mount's stream, handed to the fan-out as that listener's hooks: where
 * it starts (the mount's {@link FormatScanner}: a page or frame boundary at or after the burst's
 * oldest byte, with the Ogg header pages of that position replayed first, as one decision), and,
 * when it asked with {@code Icy-MetaData: 1}, an ICY metadata block after every {@code metaint}
 * bytes of its stream: the whole block of the title in force at that stream position, or a single
 * 0 byte when that is the block this listener got last (Icecast's format).
 *
 * <p>Made per listener, used by the fan-out's delivering thread one call at a time (see {@link
 * StartPosition} and {@link Insertions}); it holds no stream bytes, only the last block it sent.
 * Steady state allocates nothing (a new block is wrapped once, when the title changes).
 */
final class ListenerStream implements StartPosition, Insertions {
  private static final ByteBuffer UNCHANGED = ByteBuffer.wrap(IcyMetadata.UNCHANGED).asReadOnlyBuffer();

  private final FormatScanner scanner;
  private final IcyTimeline icy; // null: no metadata blocks
  private final long metaint;
  private final long phase; // stream bytes since the listener's last block, from its previous mount
  private long start; // the stream position of the listener's first source byte
  private long headerLength; // bytes replayed before it
  private byte[] last; // the block sent last

  /**
   * @param scanner the mount's format scanner
   * @param icy the mount's titles, or null for a listener that did not ask for ICY metadata
   * @param metaint bytes of the listener's stream between two blocks, at least 1
   * @param phase bytes the listener got since its last block before it came to this mount (0 for
   *     a new listener; see {@link #phaseAt}), so its blocks stay every {@code metaint} bytes
   */
  ListenerStream(FormatScanner scanner, IcyTimeline icy, int metaint, long phase) {
    this.scanner = scanner;
    this.icy = icy;
    this.metaint = metaint;
    this.phase = phase;
  }

  /**
   * The bytes of the listener's stream since its last ICY block when its stream on this mount
   * stopped at {@code end}: the phase its next mount's blocks continue from.
   *
   * @param end the stream position after its last byte from this mount
   * @return 0 to {@code metaint - 1}
   */
  long phaseAt(long end) {
    return (phase + headerLength + Math.max(0, end - start)) % metaint;
  }

  /** Whether this listener gets ICY metadata blocks. */
  boolean icy() {
    return icy != null;
  }

  @Override
  public long choose(long oldest, long live) {
    return decide(oldest, live).position();
  }

  /**
   * The first boundary the scanner knows at or after {@code oldest}, with its header pages; the
   * burst's oldest byte when it knows none yet (the stream's first bytes are still in the burst,
   * or the format has no boundaries).
   */
  @Override
  public Choice decide(long oldest, long live) {
    FormatScanner.Start s = scanner.startAtOrAfter(oldest);
    if (s == null) {
      start = oldest;
      headerLength = 0;
      return new Choice(oldest, null);
    }
    start = Math.max(oldest, s.position());
    byte[] header = s.prefix();
    headerLength = header.length;
    return new Choice(start, header.length == 0 ? null : ByteBuffer.wrap(header).asReadOnlyBuffer());
  }

  @Override
  public long nextAfter(long position) {
    return ((position + phase) / metaint + 1) * metaint - phase;
  }

  @Override
  public ByteBuffer bytesAt(long position) {
    byte[] block = icy.blockAt(start + Math.max(0, position - headerLength));
    if (block == last) {
      return UNCHANGED;
    }
    last = block;
    return ByteBuffer.wrap(block);
  }
}
