package io.nocopy.relay.format;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IcyMetadataTest {
  @Test
  void theEmptyTitleBlockIsIcecastsInitialOne() {
    byte[] block = IcyMetadata.block("", null, UTF_8);
    byte[] expected = new byte[17];
    expected[0] = 1;
    System.arraycopy("StreamTitle='';".getBytes(ISO_8859_1), 0, expected, 1, 15);
    assertArrayEquals(expected, block);
  }

  @Test
  void blocksAreSixteenByteUnitsPaddedWithNuls() {
    byte[] block = IcyMetadata.block("Artist - Song", "http://example.org/", UTF_8);
    String text = "StreamTitle='Artist - Song';StreamUrl='http://example.org/';";
    int units = (text.length() + 15) / 16;
    assertEquals(units, block[0]);
    assertEquals(1 + 16 * units, block.length);
    assertEquals(text, new String(block, 1, text.length(), ISO_8859_1));
    for (int i = 1 + text.length(); i < block.length; i++) {
      assertEquals(0, block[i]);
    }
    assertEquals(Map.of("StreamTitle", "Artist - Song", "StreamUrl", "http://example.org/"),
        IcyMetadata.parse(Arrays.copyOfRange(block, 1, block.length)));
  }

  @Test
  void longTitlesAreCutAtTheLargestBlock() {
    byte[] block = IcyMetadata.block("x".repeat(5000), null, UTF_8);
    assertEquals((byte) 255, block[0]);
    assertEquals(1 + IcyMetadata.MAX_TEXT, block.length);
  }

  @Test
  void nonUtf8TextIsReadAsLatin1() {
    byte[] text = "StreamTitle='Caf\u00e9';".getBytes(ISO_8859_1);
    assertEquals("Caf\u00e9", IcyMetadata.parse(text).get("StreamTitle"));
    assertEquals("Caf\u00e9", IcyMetadata.parse("StreamTitle='Caf\u00e9';".getBytes(UTF_8)).get("StreamTitle"));
  }

  @Test
  void timelineAppliesATitleFromItsPosition() {
    IcyTimeline t = new IcyTimeline(UTF_8);
    byte[] initial = t.blockAt(0);
    assertNull(t.title());
    t.set(1000, "One", null, UTF_8);
    t.set(5000, "Two", null, UTF_8);
    assertSame(initial, t.blockAt(999));
    assertArrayEquals(IcyMetadata.block("One", null, UTF_8), t.blockAt(1000));
    assertSame(t.blockAt(1000), t.blockAt(4999), "one array per change: 'unchanged' is identity");
    assertArrayEquals(IcyMetadata.block("Two", null, UTF_8), t.blockAt(1 << 30));
    assertEquals("Two", t.title());
    t.set(10, "Late", null, UTF_8); // a position before the last change applies from that change on
    assertArrayEquals(IcyMetadata.block("Late", null, UTF_8), t.blockAt(5000));
    assertArrayEquals(IcyMetadata.block("One", null, UTF_8), t.blockAt(4999));
  }

  @Test
  void timelineKeepsTheLastChanges() {
    IcyTimeline t = new IcyTimeline(UTF_8);
    for (int i = 1; i <= 40; i++) {
      t.set(i * 100L, "T" + i, null, UTF_8);
    }
    assertArrayEquals(IcyMetadata.block("T40", null, UTF_8), t.blockAt(4000));
    assertArrayEquals(IcyMetadata.block("T30", null, UTF_8), t.blockAt(3050));
    // older than anything kept: the oldest kept change
    assertArrayEquals(IcyMetadata.block("T" + (40 - IcyTimeline.KEPT + 1), null, UTF_8), t.blockAt(0));
  }
}
