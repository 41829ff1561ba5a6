package io.nocopy.loadgen;

import io.nocopy.relay.format.IcyMetadata;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;

/**
 * The body an ICY listener receives ({@code Icy-MetaData: 1} answered with {@code icy-metaint:
 * N}): after every N audio bytes a length byte L, then L x 16 bytes of metadata text
 * ({@code StreamTitle='...';}, NUL-padded; L = 0 when unchanged). Passes the audio, in the pieces
 * it arrived in, to the listener's {@link FrameVerifier}, so the audio is checked byte for byte as
 * a plain listener's is, and counts the blocks and the title changes it reads.
 *
 * <p>Any split of the bytes across reads is handled (a block may straddle reads). Memory: one
 * buffer of the largest block's text (4080 bytes); a non-empty block is copied once to be parsed,
 * an unchanged one (the steady state) allocates nothing. One thread; the counts may be read by
 * others as progress figures.
 */
final class IcyStream {
  private final int metaint;
  private final FrameVerifier audio;
  private final byte[] text = new byte[IcyMetadata.MAX_TEXT];
  private int untilBlock; // audio bytes before the next length byte
  private int textLength = -1; // of the block being read; -1 between blocks
  private int textFilled;
  private String title;
  private volatile long titles;
  private volatile long blocks;
  private volatile long metadataBytes;

  /**
   * @param metaint audio bytes between blocks, the answer's {@code icy-metaint}, at least 1
   * @param audio where the audio bytes go
   */
  IcyStream(int metaint, FrameVerifier audio) {
    if (metaint < 1) {
      throw new IllegalArgumentException("icy-metaint below 1: " + metaint);
    }
    this.metaint = metaint;
    this.audio = audio;
    this.untilBlock = metaint;
  }

  /**
   * An answer's {@code icy-metaint} value.
   *
   * @param header the header's value, or null without one
   * @return the value, or 0 if it is missing or not a number
   */
  static int metaint(String header) {
    try {
      return header == null ? 0 : Integer.parseInt(header.strip());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * Takes the bytes between {@code buf}'s position and limit and moves its position to the limit.
   *
   * @param buf received bytes; only read during the call
   * @param nowNanos when they were received
   * @param recordLatency passed to the verifier
   */
  void accept(ByteBuffer buf, long nowNanos, boolean recordLatency) {
    int limit = buf.limit();
    while (buf.position() < limit) {
      if (textLength < 0 && untilBlock > 0) {
        int n = Math.min(untilBlock, limit - buf.position());
        buf.limit(buf.position() + n);
        audio.accept(buf, nowNanos, recordLatency); // moves the position to that limit
        buf.limit(limit);
        untilBlock -= n;
      } else if (textLength < 0) {
        textLength = (buf.get() & 0xff) * 16;
        textFilled = 0;
        metadataBytes++;
        if (textLength == 0) {
          endBlock();
        }
      } else {
        int n = Math.min(textLength - textFilled, limit - buf.position());
        buf.get(text, textFilled, n);
        textFilled += n;
        metadataBytes += n;
        if (textFilled == textLength) {
          Map<String, String> fields = IcyMetadata.parse(Arrays.copyOf(text, textLength));
          String t = fields.get("StreamTitle");
          if (t != null && !t.equals(title)) {
            title = t;
            titles++;
          }
          blocks++;
          endBlock();
        }
      }
    }
  }

  private void endBlock() {
    textLength = -1;
    untilBlock = metaint;
  }

  /** @return how often the {@code StreamTitle} changed (the first one counts) */
  long titles() {
    return titles;
  }

  /** @return the last {@code StreamTitle} read, or null */
  String title() {
    return title;
  }

  /** @return blocks with text (not the one-byte "unchanged" blocks) */
  long blocks() {
    return blocks;
  }

  /** @return length bytes and text bytes read: the part of the body that was not audio */
  long metadataBytes() {
    return metadataBytes;
  }
}
