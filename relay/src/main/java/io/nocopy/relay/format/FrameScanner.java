package io.nocopy.relay.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Finds the frames of a stream made of self-delimiting frames with a sync word (MPEG audio,
 * ADTS): every frame start is a place a decoder can begin.
 *
 * <h2>Finding and keeping sync</h2>
 *
 * <b>Searching</b>: every byte is looked at; each header that decodes to a valid frame is a
 * candidate that predicts where the next frame begins (up to {@value #CANDIDATES} candidates are
 * followed at once, so a false sync in garbage cannot hide a real one). When a header decodes at a
 * candidate's predicted position with the same stream parameters ({@link Header#key}), the
 * candidate and this frame are recorded as starts and the scanner is <b>locked</b>: from then on
 * it skips each frame's body by count and records every frame start as it is reached. A header
 * that does not decode where one was expected drops the lock and searching resumes at the byte
 * after that header's first byte. Requiring two headers in a row keeps false syncs (in ID3 tags,
 * in frame data) out.
 *
 * <p>Once locked only header bytes are read; frame bodies are skipped by count, so the cost is a
 * few bytes per frame. Not thread-safe on its own: {@link FormatScanner} serializes calls.
 */
final class FrameScanner extends FormatScanner {
  /** How one kind of frame header decodes. */
  interface Header {
    /** Bytes of a header. */
    int size();

    /** Whether {@code second} (the byte after 0xFF) can begin this kind of header. */
    boolean syncs(int second);

    /** The whole frame's length in bytes (header included), or -1 if {@code h} is not a valid header. */
    int frameLength(byte[] h);

    /** The parameters that stay the same from frame to frame of one stream. */
    int key(byte[] h);
  }

  private final String name;
  private final Header header;
  private final byte[] hdr;
  private final StartIndex starts = new StartIndex(STARTS_KEPT);
  private int hdrLen;
  private long hdrPos;
  private long skip; // body bytes of the current frame still to skip
  private static final int CANDIDATES = 16;
  private boolean expecting; // locked: the next header begins exactly at the next byte
  private boolean locked;
  private int key; // locked: the stream's parameters
  // while searching: candidate frames (start, predicted next start, key), oldest first
  private final long[] candidateAt = new long[CANDIDATES];
  private final long[] candidateNext = new long[CANDIDATES];
  private final int[] candidateKey = new int[CANDIDATES];
  private int candidates;

  private FrameScanner(String name, Header header) {
    this.name = name;
    this.header = header;
    this.hdr = new byte[header.size()];
  }

  /** MPEG-1/2/2.5 audio, layers I to III (MP3). */
  static FrameScanner mpegAudio() {
    return new FrameScanner("mpeg", new MpegAudioHeader());
  }

  /** AAC in ADTS frames. */
  static FrameScanner adts() {
    return new FrameScanner("adts", new AdtsHeader());
  }

  @Override
  public String formatName() {
    return name;
  }

  @Override
  Start start(long position) {
    long s = starts.atOrAfter(position);
    return s < 0 ? null : Start.at(s);
  }

  @Override
  long consume(MemorySegment chunk, long off, long len, long at) {
    if (skip > 0) {
      long n = Math.min(skip, len);
      skip -= n;
      if (skip == 0) {
        expecting = true;
      }
      return n;
    }
    if (hdrLen == 0 && !expecting) {
      // searching: jump to the next 0xFF
      for (long i = 0; i < len; i++) {
        if (chunk.get(ValueLayout.JAVA_BYTE, off + i) == (byte) 0xFF) {
          hdr[0] = (byte) 0xFF;
          hdrLen = 1;
          hdrPos = at + i;
          return i + 1;
        }
      }
      return len;
    }
    if (hdrLen == 0) {
      hdrPos = at;
    }
    hdr[hdrLen++] = chunk.get(ValueLayout.JAVA_BYTE, off);
    if (hdrLen == hdr.length) {
      evaluate();
    } else if (!expecting && hdrLen == 2 && !header.syncs(hdr[1] & 0xFF)) {
      resync();
    }
    return 1;
  }

  /** A whole header is in {@code hdr}: confirm, lock or search on. */
  private void evaluate() {
    int length = header.frameLength(hdr);
    int k = length > 0 ? header.key(hdr) : 0;
    if (locked) {
      if (length > 0 && k == key) {
        starts.add(hdrPos);
        next(length);
        return;
      }
      locked = false; // lost: search again from the byte after this header's first
      expecting = false;
      resync();
      return;
    }
    if (length > 0) {
      for (int i = 0; i < candidates; i++) {
        if (candidateNext[i] == hdrPos && candidateKey[i] == k) {
          starts.add(candidateAt[i]);
          starts.add(hdrPos);
          locked = true;
          key = k;
          candidates = 0;
          next(length);
          return;
        }
      }
      remember(hdrPos, hdrPos + length, k);
    }
    resync();
  }

  private void remember(long at, long next, int k) {
    int kept = 0; // forget candidates whose predicted frame has passed
    for (int i = 0; i < candidates; i++) {
      if (candidateNext[i] > at) {
        candidateAt[kept] = candidateAt[i];
        candidateNext[kept] = candidateNext[i];
        candidateKey[kept] = candidateKey[i];
        kept++;
      }
    }
    if (kept == CANDIDATES) {
      System.arraycopy(candidateAt, 1, candidateAt, 0, kept - 1);
      System.arraycopy(candidateNext, 1, candidateNext, 0, kept - 1);
      System.arraycopy(candidateKey, 1, candidateKey, 0, kept - 1);
      kept--;
    }
    candidateAt[kept] = at;
    candidateNext[kept] = next;
    candidateKey[kept] = k;
    candidates = kept + 1;
  }

  private void next(int length) {
    skip = length - hdr.length;
    hdrLen = 0;
    expecting = skip == 0;
  }

  /** Drops the first buffered byte and searches the rest for a sync word. */
  private void resync() {
    int from = 1;
    while (from < hdrLen) {
      if (hdr[from] == (byte) 0xFF && (from + 1 >= hdrLen || header.syncs(hdr[from + 1] & 0xFF))) {
        break;
      }
      from++;
    }
    System.arraycopy(hdr, from, hdr, 0, hdrLen - from);
    hdrPos += from;
    hdrLen -= from; // fewer than a header's bytes remain: accumulation goes on
  }

  /** MPEG audio frame headers (4 bytes). */
  static final class MpegAudioHeader implements Header {
    // kbit/s by [version is MPEG-1 ? 0 : 1][layer I, II, III][index]
    private static final int[][][] BITRATES = {
      {
        {0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
        {0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
        {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
      },
      {
        {0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
        {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
        {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
      }
    };
    // Hz by [version bits: 0 = 2.5, 2 = 2, 3 = 1][index]
    private static final int[][] RATES = {
      {11025, 12000, 8000}, null, {22050, 24000, 16000}, {44100, 48000, 32000}
    };

    @Override
    public int size() {
      return 4;
    }

    @Override
    public boolean syncs(int second) {
      return (second & 0xE0) == 0xE0 && ((second >> 3) & 3) != 1 && ((second >> 1) & 3) != 0;
    }

    @Override
    public int frameLength(byte[] h) {
      int b1 = h[1] & 0xFF;
      int b2 = h[2] & 0xFF;
      if ((h[0] & 0xFF) != 0xFF || !syncs(b1) || (h[3] & 3) == 2) {
        return -1;
      }
      int version = (b1 >> 3) & 3;
      int layer = 4 - ((b1 >> 1) & 3); // 1, 2 or 3
      int bitrateIndex = b2 >> 4;
      int rateIndex = (b2 >> 2) & 3;
      if (bitrateIndex == 0 || bitrateIndex == 15 || rateIndex == 3) {
        return -1; // free format or invalid
      }
      int bitrate = BITRATES[version == 3 ? 0 : 1][layer - 1][bitrateIndex] * 1000;
      int rate = RATES[version][rateIndex];
      int padding = (b2 >> 1) & 1;
      if (layer == 1) {
        return (12 * bitrate / rate + padding) * 4;
      }
      int perFrame = layer == 3 && version != 3 ? 72 : 144;
      return perFrame * bitrate / rate + padding;
    }

    @Override
    public int key(byte[] h) {
      return ((h[1] & 0xFF) >> 1) << 2 | ((h[2] >> 2) & 3); // version, layer, sample rate
    }
  }

  /** ADTS headers (7 bytes; the optional CRC belongs to the frame's length). */
  static final class AdtsHeader implements Header {
    @Override
    public int size() {
      return 7;
    }

    @Override
    public boolean syncs(int second) {
      return (second & 0xF6) == 0xF0; // 12-bit sync, layer 0
    }

    @Override
    public int frameLength(byte[] h) {
      int b1 = h[1] & 0xFF;
      if ((h[0] & 0xFF) != 0xFF || !syncs(b1)) {
        return -1;
      }
      int rateIndex = ((h[2] & 0xFF) >> 2) & 15;
      int length = (h[3] & 3) << 11 | (h[4] & 0xFF) << 3 | (h[5] & 0xFF) >> 5;
      int headerLength = (b1 & 1) == 1 ? 7 : 9;
      return rateIndex > 12 || length < headerLength ? -1 : length;
    }

    @Override
    public int key(byte[] h) {
      // id, protection, profile, sample rate, channel configuration
      return (h[1] & 0x09) << 16 | (h[2] & 0xFD) << 8 | (h[3] & 0xC0);
    }
  }
}
