package io.nocopy.relay.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameScannerTest {
  private static final byte[] MP3 = Fixtures.load("mp3.mp3");
  private static final byte[] AAC = Fixtures.load("aac.aac");

  private static long[] scan(String type, byte[] bytes, long seed, int maxChunk) {
    FormatScanner s = FormatScanner.forContentType(type, FormatScanner.NO_TITLES);
    Fixtures.feed(s, bytes, seed, maxChunk);
    return Fixtures.starts(s);
  }

  @Test
  void mp3FramesFollowTheId3TagBackToBack() {
    long[] starts = scan("audio/mpeg", MP3, 1, 4096);
    // ffmpeg's mp3 muxer writes an ID3v2 tag first: 10 bytes + a syncsafe size
    assertEquals('I', MP3[0]);
    int id3 = 10 + ((MP3[6] & 0x7F) << 21 | (MP3[7] & 0x7F) << 14 | (MP3[8] & 0x7F) << 7 | (MP3[9] & 0x7F));
    assertEquals(id3, starts[0], "first frame right after the ID3 tag");
    // 64 kbit/s MPEG-1 layer III at 44.1 kHz: 144 * 64000 / 44100 = 208 bytes, 209 when padded
    for (int i = 1; i < starts.length; i++) {
      long gap = starts[i] - starts[i - 1];
      assertTrue(gap == 208 || gap == 209, "frame " + i + " is " + gap + " bytes");
      assertEquals(0xFF, MP3[(int) starts[i]] & 0xFF);
    }
    assertTrue(MP3.length - starts[starts.length - 1] <= 209, "the last frame ends the file");
    assertTrue(starts.length > 100, "3 s of 1152-sample frames: " + starts.length);
  }

  @Test
  void adtsFrameLengthsChainToTheEndOfTheFile() {
    long[] starts = scan("audio/aac", AAC, 2, 4096);
    assertEquals(0, starts[0]);
    for (long s : starts) {
      int at = (int) s;
      int length = (AAC[at + 3] & 3) << 11 | (AAC[at + 4] & 0xFF) << 3 | (AAC[at + 5] & 0xFF) >> 5;
      int next = Arrays.binarySearch(starts, s + length);
      assertTrue(next >= 0 || s + length == AAC.length, "frame at " + s + " is followed by the next start");
    }
    assertTrue(starts.length > 100);
  }

  @Test
  void chunkBoundariesDoNotMatter() {
    for (String type : new String[] {"audio/mpeg", "audio/aac"}) {
      byte[] bytes = type.equals("audio/mpeg") ? MP3 : AAC;
      long[] whole = scan(type, bytes, 0, bytes.length);
      for (int maxChunk : new int[] {1, 3, 7, 100, 5000}) {
        assertArrayEquals(whole, scan(type, bytes, maxChunk, maxChunk), type + " in chunks of up to " + maxChunk);
      }
    }
  }

  @Test
  void garbageBeforeTheStreamIsSkipped() {
    byte[] garbage = new byte[3000];
    new Random(42).nextBytes(garbage);
    for (int i = 0; i < garbage.length; i += 97) {
      garbage[i] = (byte) 0xFF; // plenty of false sync bytes
    }
    long[] clean = scan("audio/aac", AAC, 0, 4096);
    long[] dirty = scan("audio/aac", Fixtures.concat(garbage, AAC), 0, 4096);
    assertArrayEquals(Arrays.stream(clean).map(s -> s + garbage.length).toArray(), dirty);
  }

  @Test
  void syncIsFoundAgainAfterCorruption() {
    byte[] broken = MP3.clone();
    int from = MP3.length / 2;
    Arrays.fill(broken, from, from + 300, (byte) 0);
    long[] clean = scan("audio/mpeg", MP3, 0, 4096);
    long[] after = scan("audio/mpeg", broken, 0, 4096);
    long[] cleanTail = Arrays.stream(clean).filter(s -> s > from + 300 + 2 * 209).toArray();
    long[] afterTail = Arrays.stream(after).filter(s -> s > from + 300 + 2 * 209).toArray();
    assertArrayEquals(cleanTail, afterTail);
    assertTrue(Arrays.stream(after).noneMatch(s -> s >= from && s < from + 300), "no start inside the zeros");
  }

  @Test
  void startsAreFrameStartsAtOrAfterThePosition() {
    FormatScanner s = FormatScanner.forContentType("audio/mpeg", FormatScanner.NO_TITLES);
    assertNull(s.startAtOrAfter(0), "nothing seen yet");
    Fixtures.feed(s, MP3, 3, 1000);
    long[] starts = Fixtures.starts(s);
    assertEquals(starts[5], s.startAtOrAfter(starts[4] + 1).position());
    assertEquals(0, s.startAtOrAfter(starts[4] + 1).prefix().length);
    assertNull(s.startAtOrAfter(MP3.length), "no start past the end yet");
    assertEquals("mpeg", s.formatName());
  }
}
