package io.nocopy.relay.format;

import java.nio.charset.Charset;

/**
 * A mount's metadata over its stream: each title applies from the stream position at which it was
 * set, so a listener whose burst began before a change first gets the older title, as with
 * Icecast. Keeps the last {@value #KEPT} changes; a position older than all of them gets the oldest.
 *
 * <p>Blocks are built once per change and shared by every listener: {@link #blockAt} returns the
 * same array for the same change, so a listener can tell "unchanged" by identity.
 *
 * <p>Thread safety: {@link #set} from any thread; {@link #blockAt} from any thread (a
 * snapshot under the object's lock, a few comparisons).
 */
public final class IcyTimeline {
  static final int KEPT = 16;
  private final long[] positions = new long[KEPT];
  private final byte[][] blocks = new byte[KEPT][];
  private final String[] titles = new String[KEPT];
  private int first;
  private int count;

  /** A timeline whose stream starts with the empty title ({@code StreamTitle='';}). */
  public IcyTimeline(Charset charset) {
    positions[0] = 0;
    blocks[0] = IcyMetadata.block("", null, charset);
    titles[0] = null;
    count = 1;
  }

  /**
   * Sets the title from stream position {@code position} on.
   *
   * @param position the stream position from which it applies (not before the last change's)
   * @param title the title
   * @param url the stream URL or null
   * @param charset how to encode the text
   */
  public synchronized void set(long position, String title, String url, Charset charset) {
    byte[] block = IcyMetadata.block(title, url, charset);
    int last = (first + count - 1) % KEPT;
    position = Math.max(position, positions[last]);
    if (positions[last] == position) {
      blocks[last] = block;
      titles[last] = title;
      return;
    }
    int at;
    if (count == KEPT) {
      at = first;
      first = (first + 1) % KEPT;
    } else {
      at = (first + count) % KEPT;
      count++;
    }
    positions[at] = position;
    blocks[at] = block;
    titles[at] = title;
  }

  /** The whole block (length byte first) in force at stream position {@code position}. */
  public synchronized byte[] blockAt(long position) {
    for (int i = count - 1; i > 0; i--) {
      int at = (first + i) % KEPT;
      if (positions[at] <= position) {
        return blocks[at];
      }
    }
    return blocks[first];
  }

  /** The latest title, or null if none was ever set. */
  public synchronized String title() {
    return titles[(first + count - 1) % KEPT];
  }
}
