package io.nocopy.relay;

import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.Slice;
import io.nocopy.fanout.SliceSource;
import io.nocopy.relay.format.IcyMetadata;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A cascaded mount's body when its upstream interleaves ICY metadata ({@code icy-metaint: N}):
 * the audio as slices, without the blocks, and each block's {@code StreamTitle} (and {@code
 * StreamUrl}) set as the mount's title from the audio position where it was found, so this
 * relay's listeners get the upstream's titles in their own ICY blocks and in the status page.
 *
 * <p>After every N audio bytes: a length byte L, then L x 16 bytes of text (L = 0: unchanged).
 * Read by the mount's fan-out's source thread only. Memory: the audio slices of the reader's
 * blocks (not copied), and a block's text (at most 4080 bytes) while it is parsed.
 */
final class IcyDemux implements SliceSource {
  private final BufReader in;
  private final int metaint;
  private final int maxSlice;
  private Mount mount; // set before the fan-out starts
  private long untilBlock;
  private long audio; // audio bytes returned so far: the mount's stream position

  /**
   * @param in the upstream's body, after the response head
   * @param metaint the upstream's {@code icy-metaint}, at least 1
   * @param maxSlice the most bytes one slice carries
   */
  IcyDemux(BufReader in, int metaint, int maxSlice) {
    this.in = in;
    this.metaint = metaint;
    this.maxSlice = maxSlice;
    this.untilBlock = metaint;
  }

  /** The mount whose titles the blocks set; once, before the first {@link #next}. */
  void titlesFor(Mount m) {
    this.mount = m;
  }

  @Override
  public Slice next() throws IOException {
    if (untilBlock == 0) {
      readBlock();
      untilBlock = metaint;
    }
    Slice s = in.readSliceUpTo(Math.min(untilBlock, maxSlice));
    if (s != null) {
      untilBlock -= s.length();
      audio += s.length();
    }
    return s;
  }

  @Override
  public long buffered() {
    return in.buffered();
  }

  private void readBlock() throws IOException {
    int length = in.readByte() * 16;
    if (length == 0) {
      return;
    }
    byte[] text;
    try (Slice s = in.readSlice(length)) {
      text = s.toByteArray();
    }
    Map<String, String> fields = IcyMetadata.parse(text);
    String title = fields.get("StreamTitle");
    if (title != null && mount != null) {
      mount.setTitle(audio, title, fields.get("StreamUrl"), StandardCharsets.ISO_8859_1);
    }
  }
}
