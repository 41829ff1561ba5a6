package io.nocopy.relay.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class OggScannerTest {
  private static final byte[] OPUS = Fixtures.load("opus.ogg");
  private static final byte[] VORBIS = Fixtures.load("vorbis.ogg");
  private static final byte[] OPUS2 = Fixtures.load("opus2.ogg");

  /** Page start offsets of a well-formed Ogg file, walked independently of the scanner. */
  static List<Integer> pages(byte[] b) {
    List<Integer> pages = new ArrayList<>();
    for (int p = 0; p < b.length; ) {
      assertEquals("OggS", new String(b, p, 4, java.nio.charset.StandardCharsets.ISO_8859_1), "page at " + p);
      pages.add(p);
      int segments = b[p + 26] & 0xFF;
      int body = 0;
      for (int i = 0; i < segments; i++) {
        body += b[p + 27 + i] & 0xFF;
      }
      p += 27 + segments + body;
    }
    return pages;
  }

  /** Checks every page's CRC (RFC 3533: polynomial 0x04C11DB7, no reflection, CRC field zeroed). */
  static void assertValidOgg(byte[] b) {
    int[] table = new int[256];
    for (int i = 0; i < 256; i++) {
      int r = i << 24;
      for (int k = 0; k < 8; k++) {
        r = (r & 0x80000000) != 0 ? (r << 1) ^ 0x04C11DB7 : r << 1;
      }
      table[i] = r;
    }
    List<Integer> starts = pages(b);
    starts.add(b.length);
    for (int i = 0; i + 1 < starts.size(); i++) {
      int from = starts.get(i);
      int to = starts.get(i + 1);
      int crc = 0;
      for (int p = from; p < to; p++) {
        int v = (p >= from + 22 && p < from + 26) ? 0 : b[p] & 0xFF;
        crc = (crc << 8) ^ table[((crc >>> 24) ^ v) & 0xFF];
      }
      assertEquals(OggScanner.le32(b, from + 22), crc, "CRC of the page at " + from);
    }
  }

  private static FormatScanner scanner(List<String> titles) {
    return FormatScanner.forContentType("application/ogg", (pos, t) -> titles.add(pos + ":" + t));
  }

  @Test
  void aLateListenerGetsTheHeaderPagesThenAPageBoundary() {
    List<String> titles = new ArrayList<>();
    FormatScanner s = scanner(titles);
    Fixtures.feed(s, OPUS, 1, 3000);
    List<Integer> pages = pages(OPUS);
    // OpusHead on the first page, OpusTags on the second: data from the third on
    int headersEnd = pages.get(2);
    FormatScanner.Start first = s.startAtOrAfter(0);
    assertEquals(0, first.position());
    assertEquals(0, first.prefix().length, "a listener from the beginning needs no replay");
    FormatScanner.Start late = s.startAtOrAfter(1);
    assertEquals(headersEnd, late.position(), "page starts inside the headers are not starts");
    assertArrayEquals(Arrays.copyOf(OPUS, headersEnd), late.prefix());
    FormatScanner.Start later = s.startAtOrAfter(pages.get(4) - 5);
    assertEquals((long) pages.get(4), later.position());
    byte[] joined = Fixtures.concat(later.prefix(), Arrays.copyOfRange(OPUS, (int) later.position(), OPUS.length));
    assertValidOgg(joined);
    assertEquals(List.of("0:First Song"), titles);
    assertEquals("ogg", s.formatName());
  }

  @Test
  void vorbisHasThreeHeaderPacketsAndItsTitle() {
    List<String> titles = new ArrayList<>();
    FormatScanner s = scanner(titles);
    Fixtures.feed(s, VORBIS, 2, 500);
    FormatScanner.Start late = s.startAtOrAfter(1);
    assertNotNull(late);
    // the headers end where the first audio page begins: after identification, comment and setup
    byte[] prefix = late.prefix();
    assertValidOgg(prefix);
    assertTrue(new String(prefix, java.nio.charset.StandardCharsets.ISO_8859_1).contains("\u0005vorbis"),
        "the setup header is replayed");
    assertEquals(List.of("0:Second Song"), titles);
    assertValidOgg(Fixtures.concat(prefix, Arrays.copyOfRange(VORBIS, (int) late.position(), VORBIS.length)));
  }

  @Test
  void aChainedStreamReplacesTheHeaders() {
    byte[] chained = Fixtures.concat(OPUS, VORBIS, OPUS2);
    List<String> titles = new ArrayList<>();
    FormatScanner s = scanner(titles);
    Fixtures.feed(s, chained, 3, 4000);
    assertEquals(List.of("0:First Song", OPUS.length + ":Second Song",
        (OPUS.length + VORBIS.length) + ":Third"), titles);
    FormatScanner.Start atSecond = s.startAtOrAfter(OPUS.length);
    assertEquals(OPUS.length, atSecond.position());
    assertEquals(0, atSecond.prefix().length, "a chain's first page needs no replay");
    FormatScanner.Start inSecond = s.startAtOrAfter(OPUS.length + 1);
    assertTrue(inSecond.position() > OPUS.length && inSecond.position() < OPUS.length + VORBIS.length);
    assertTrue(new String(inSecond.prefix(), java.nio.charset.StandardCharsets.ISO_8859_1).contains("vorbis"));
    FormatScanner.Start inThird = s.startAtOrAfter(OPUS.length + VORBIS.length + 1);
    assertArrayEquals(Arrays.copyOf(OPUS2, pages(OPUS2).get(2)), inThird.prefix());
    byte[] joined = Fixtures.concat(inSecond.prefix(), Arrays.copyOfRange(chained, (int) inSecond.position(), chained.length));
    assertValidOgg(joined);
  }

  @Test
  void chunkBoundariesDoNotMatter() {
    byte[] chained = Fixtures.concat(OPUS, VORBIS, OPUS2);
    FormatScanner whole = scanner(new ArrayList<>());
    Fixtures.feed(whole, chained, 0, chained.length);
    for (int maxChunk : new int[] {1, 2, 27, 300, 9000}) {
      FormatScanner s = scanner(new ArrayList<>());
      Fixtures.feed(s, chained, maxChunk, maxChunk);
      assertArrayEquals(Fixtures.starts(whole), Fixtures.starts(s), "chunks of up to " + maxChunk);
    }
  }

  @Test
  void aStreamJoinedMidwayHasPageStartsWithoutReplay() {
    List<Integer> pages = pages(OPUS);
    byte[] tail = Arrays.copyOfRange(OPUS, pages.get(3) + 100, OPUS.length); // mid-page
    FormatScanner s = scanner(new ArrayList<>());
    Fixtures.feed(s, tail, 4, 700);
    FormatScanner.Start start = s.startAtOrAfter(0);
    assertEquals(pages.get(4) - pages.get(3) - 100, start.position(), "the first whole page");
    assertEquals(0, start.prefix().length);
  }

  @Test
  void garbageBetweenPagesIsSkipped() {
    List<Integer> pages = pages(OPUS);
    int cut = pages.get(5);
    byte[] junk = "OggXOgOggjunk OggS-not-a-page".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    junk[junk.length - 9 + 4] = 7; // "OggS" followed by version 7: not a page
    byte[] dirty = Fixtures.concat(Arrays.copyOf(OPUS, cut), junk, Arrays.copyOfRange(OPUS, cut, OPUS.length));
    FormatScanner s = scanner(new ArrayList<>());
    Fixtures.feed(s, dirty, 5, 50);
    FormatScanner.Start after = s.startAtOrAfter(cut + 1);
    assertEquals(cut + junk.length, after.position(), "the next real page after the junk");
    assertArrayEquals(Arrays.copyOf(OPUS, pages.get(2)), after.prefix());
  }

  @Test
  void nothingToStartFromBeforeAnyPage() {
    FormatScanner s = scanner(new ArrayList<>());
    assertNull(s.startAtOrAfter(0));
    Fixtures.feed(s, Arrays.copyOf(OPUS, 20), 0, 20);
    assertNull(s.startAtOrAfter(0), "a page header is not complete yet");
  }
}
