package io.nocopy.relay.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Follows the pages of an Ogg stream (RFC 3533) so that a listener can join at any time: it
 * keeps the header pages of the current chained stream, and records every later page start as a
 * place to begin, to be preceded by those header pages. Icecast does the same for Ogg mounts.
 *
 * <h2>Chains and headers</h2>
 *
 * A chain is a group of logical streams that begin together: consecutive pages with the BOS flag
 * open it (one per logical stream), and a BOS page after a non-BOS page opens the next chain (a
 * chained stream: one song after another, each with its own headers). Each logical stream's
 * codec, known from its first packet, says how many header packets follow (Vorbis and Theora 3,
 * Opus and Speex 2, FLAC as its mapping header says, anything else 1). The pages that carry those
 * packets are copied (at most {@link #MAX_HEADER_BYTES} per chain); the chain's headers are
 * complete at the end of the page where the last of them ends. From then on every page start is
 * a start, whose prefix is the chain's header pages; the first page of a chain is a start with no
 * prefix, since the headers follow it anyway. Page starts inside a chain's header pages are not
 * starts. A stream joined mid-way (no BOS page seen) has no headers to replay: its page starts are
 * starts with no prefix.
 *
 * <p>Titles: when a chain's headers are complete, its Vorbis or Opus comment header is parsed and
 * its {@code TITLE} comment (Icecast shows the artist apart) is reported to the {@link TitleListener} at the
 * chain's start.
 *
 * <p>Sync: pages are expected back to back; bytes that do not begin with the capture pattern
 * {@code OggS} (and version 0) where a page should start make the scanner search for the next
 * one. Page CRCs are not checked: a false capture pattern in compressed data has a chance of about
 * 2^-40 per byte, and a player checks CRCs itself. Only page headers and header pages are read;
 * other page bodies are skipped by count.
 */
final class OggScanner extends FormatScanner {
  private static final System.Logger LOG = System.getLogger(OggScanner.class.getName());
  /** Header pages kept per chain; a chain with more (e.g. huge embedded cover art) replays none. */
  static final int MAX_HEADER_BYTES = 1 << 20;
  private static final int CHAINS_KEPT = 8;
  private static final int FIXED_HEADER = 27;
  private static final int BOS = 0x02;

  private final TitleListener titles;
  private final StartIndex starts = new StartIndex(STARTS_KEPT);
  private final ArrayDeque<Chain> chains = new ArrayDeque<>();
  private boolean chainsDropped;
  private final byte[] head = new byte[FIXED_HEADER + 255];
  private int headLen;
  private int headWant = FIXED_HEADER;
  private long pageStart;
  private boolean searching;
  private int match; // bytes of "OggS" matched while searching
  private long body; // body bytes of the current page still to pass
  private boolean copying; // the current page is a header page being copied
  private boolean prevBos;

  OggScanner(TitleListener titles) {
    this.titles = titles;
  }

  @Override
  public String formatName() {
    return "ogg";
  }

  @Override
  Start start(long position) {
    Chain oldest = chains.peekFirst();
    if (chainsDropped && oldest != null && position < oldest.start) {
      position = oldest.start; // older starts belong to chains whose headers are gone
    }
    long s = starts.atOrAfter(position);
    if (s < 0) {
      return null;
    }
    Chain chain = null;
    for (Chain c : chains) {
      if (c.start <= s) {
        chain = c;
      }
    }
    if (chain == null || chain.start == s || chain.replay == null) {
      return Start.at(s);
    }
    return new Start(s, chain.replay);
  }

  @Override
  long consume(MemorySegment chunk, long off, long len, long at) {
    if (body > 0) {
      long n = Math.min(body, len);
      if (copying) {
        current().append(chunk, off, (int) n);
      }
      body -= n;
      if (body == 0) {
        endPage(at + n);
      }
      return n;
    }
    if (searching) {
      return search(chunk, off, len, at);
    }
    if (headLen == 0) {
      pageStart = at;
    }
    head[headLen++] = chunk.get(ValueLayout.JAVA_BYTE, off);
    if (headLen == 4 && !(head[0] == 'O' && head[1] == 'g' && head[2] == 'g' && head[3] == 'S')) {
      lostSync();
    } else if (headLen == 5 && head[4] != 0) {
      lostSync();
    } else if (headLen == headWant) {
      if (headWant == FIXED_HEADER) {
        headWant += head[26] & 0xFF;
      }
      if (headLen == headWant) {
        beginPage(at + 1);
      }
    }
    return 1;
  }

  /** Searches for the capture pattern; consumes up to and including the pattern when found. */
  private long search(MemorySegment chunk, long off, long len, long at) {
    for (long i = 0; i < len; i++) {
      byte b = chunk.get(ValueLayout.JAVA_BYTE, off + i);
      match = b == "OggS".charAt(match) ? match + 1 : (b == 'O' ? 1 : 0);
      if (match == 4) {
        searching = false;
        match = 0;
        head[0] = 'O';
        head[1] = 'g';
        head[2] = 'g';
        head[3] = 'S';
        headLen = 4;
        headWant = FIXED_HEADER;
        pageStart = at + i - 3;
        return i + 1;
      }
    }
    return len;
  }

  private void lostSync() {
    // the bytes after the first one may begin the pattern: search them again
    searching = true;
    match = 0;
    for (int i = 1; i < headLen; i++) {
      match = head[i] == "OggS".charAt(match) ? match + 1 : (head[i] == 'O' ? 1 : 0);
    }
    headLen = 0;
    prevBos = false;
  }

  /** The page header is complete; {@code bodyAt} is where the body begins. */
  private void beginPage(long bodyAt) {
    int segments = head[26] & 0xFF;
    long bodyLength = 0;
    for (int i = 0; i < segments; i++) {
      bodyLength += head[FIXED_HEADER + i] & 0xFF;
    }
    boolean bos = (head[5] & BOS) != 0;
    int serial = le32(head, 14);
    Chain chain = chains.peekLast();
    if (bos && !prevBos) {
      chain = new Chain(pageStart);
      if (chains.size() == CHAINS_KEPT) {
        chains.removeFirst();
        chainsDropped = true;
      }
      chains.addLast(chain);
      starts.add(pageStart);
    }
    if (bos) {
      chain.addStream(serial);
    }
    copying = chain != null && (bos || chain.inHeaders(serial));
    if (copying) {
      chain.append(head, headLen);
    } else if (chain == null || chain.headersEnd >= 0 && pageStart >= chain.headersEnd) {
      starts.add(pageStart);
    }
    prevBos = bos;
    headLen = 0;
    headWant = FIXED_HEADER;
    body = bodyLength;
    if (body == 0) {
      endPage(bodyAt);
    }
  }

  /** The current page ended at {@code end}. */
  private void endPage(long end) {
    if (!copying) {
      return;
    }
    copying = false;
    Chain chain = current();
    if (chain.pageDone(end) && chain.headersEnd == end) {
      String title = chain.title();
      if (title != null) {
        titles.title(chain.start, title);
      }
      if (chain.replay == null) {
        LOG.log(System.Logger.Level.WARNING,
            "Ogg header pages of the stream at byte " + chain.start + " exceed "
                + MAX_HEADER_BYTES + " bytes: late listeners will not get them");
      }
    }
  }

  private Chain current() {
    return chains.peekLast();
  }

  /** Whether {@code b[p, end)} begins with {@code magic} (characters below 256). */
  static boolean startsWith(byte[] b, int p, int end, String magic) {
    if (p < 0 || p + magic.length() > end) {
      return false;
    }
    for (int i = 0; i < magic.length(); i++) {
      if ((b[p + i] & 0xFF) != magic.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  static int le32(byte[] b, int at) {
    return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
  }

  /** One chain: its logical streams, their header pages, where the headers end. */
  private static final class Chain {
    final long start;
    long headersEnd = -1;
    byte[] replay; // the header pages, exact length, once complete and not too big
    private byte[] pages = new byte[4096];
    private int length;
    private boolean tooBig;
    private int[] serials = new int[2];
    private int[] remaining = new int[2]; // header packets still to come; -1 = codec not yet known
    private int streams;
    private int pageFirst; // offset in pages of the page being copied

    Chain(long start) {
      this.start = start;
    }

    void addStream(int serial) {
      if (streams == serials.length) {
        serials = Arrays.copyOf(serials, streams * 2);
        remaining = Arrays.copyOf(remaining, streams * 2);
      }
      serials[streams] = serial;
      remaining[streams] = -1;
      streams++;
    }

    boolean inHeaders(int serial) {
      int i = index(serial);
      return i >= 0 && remaining[i] != 0;
    }

    void append(byte[] src, int n) {
      pageFirst = length;
      if (reserve(n)) {
        System.arraycopy(src, 0, pages, length, n);
        length += n;
      }
    }

    void append(MemorySegment src, long off, int n) {
      if (reserve(n)) {
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, off, pages, length, n);
        length += n;
      }
    }

    private boolean reserve(int n) {
      if (tooBig || length + n > MAX_HEADER_BYTES) {
        tooBig = true;
        return false;
      }
      if (length + n > pages.length) {
        pages = Arrays.copyOf(pages, Math.min(MAX_HEADER_BYTES, Math.max(length + n, pages.length * 2)));
      }
      return true;
    }

    /** A copied page ended at {@code end}; returns true if the chain's headers are now complete. */
    boolean pageDone(long end) {
      if (tooBig) {
        return markDone(end); // counting needs the page, which was not kept: give up replay
      }
      int serial = le32(pages, pageFirst + 14);
      int i = index(serial);
      int segments = pages[pageFirst + 26] & 0xFF;
      int ended = 0;
      for (int s = 0; s < segments; s++) {
        if ((pages[pageFirst + FIXED_HEADER + s] & 0xFF) < 255) {
          ended++;
        }
      }
      if (remaining[i] < 0) {
        remaining[i] = headerPackets(pages, pageFirst + FIXED_HEADER + segments, length);
      }
      remaining[i] = Math.max(0, remaining[i] - ended);
      for (int k = 0; k < streams; k++) {
        if (remaining[k] != 0) {
          return false;
        }
      }
      return markDone(end);
    }

    private boolean markDone(long end) {
      if (headersEnd < 0) {
        headersEnd = end;
        replay = tooBig ? null : Arrays.copyOf(pages, length);
        pages = null;
      }
      return true;
    }

    private int index(int serial) {
      for (int i = 0; i < streams; i++) {
        if (serials[i] == serial) {
          return i;
        }
      }
      return -1;
    }

    /** Header packets of a logical stream whose first packet begins at {@code p}. */
    private static int headerPackets(byte[] b, int p, int end) {
      if (startsWith(b, p, end, "\u0001vorbis") || startsWith(b, p, end, "\u0080theora")) {
        return 3;
      }
      if (startsWith(b, p, end, "OpusHead") || startsWith(b, p, end, "Speex   ")) {
        return 2;
      }
      if (startsWith(b, p, end, "\u007FFLAC") && p + 9 <= end) {
        int more = (b[p + 7] & 0xFF) << 8 | (b[p + 8] & 0xFF);
        return 1 + Math.max(more, 0);
      }
      return 1;
    }

    /** The {@code TITLE} of the first Vorbis or Opus comment header, or null. */
    String title() {
      if (replay == null) {
        return null;
      }
      VorbisComments comments = VorbisComments.fromHeaderPages(replay);
      return comments == null ? null : comments.displayTitle();
    }
  }
}
