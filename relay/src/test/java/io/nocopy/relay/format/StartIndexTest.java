package io.nocopy.relay.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StartIndexTest {
  @Test
  void findsTheFirstPositionAtOrAfter() {
    StartIndex idx = new StartIndex(4);
    assertEquals(-1, idx.atOrAfter(0));
    idx.add(10);
    idx.add(20);
    idx.add(30);
    assertEquals(10, idx.atOrAfter(0));
    assertEquals(20, idx.atOrAfter(11));
    assertEquals(30, idx.atOrAfter(30));
    assertEquals(-1, idx.atOrAfter(31));
  }

  @Test
  void forgetsTheOldestWhenFull() {
    StartIndex idx = new StartIndex(3);
    for (long p = 1; p <= 10; p++) {
      idx.add(p * 10);
    }
    assertEquals(3, idx.size());
    assertEquals(80, idx.atOrAfter(0));
    assertEquals(90, idx.atOrAfter(81));
    idx.clear();
    assertEquals(-1, idx.atOrAfter(0));
  }

  @Test
  void positionsMustIncrease() {
    StartIndex idx = new StartIndex(3);
    idx.add(5);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> idx.add(5));
    assertTrue(e.getMessage().contains("increase"));
  }

  @Test
  void contentTypesChooseTheScanner() {
    assertEquals("ogg", FormatScanner.forContentType("application/ogg", FormatScanner.NO_TITLES).formatName());
    assertEquals("ogg", FormatScanner.forContentType("Audio/Ogg; codecs=opus", FormatScanner.NO_TITLES).formatName());
    assertEquals("mpeg", FormatScanner.forContentType("audio/mpeg", FormatScanner.NO_TITLES).formatName());
    assertEquals("adts", FormatScanner.forContentType("audio/aacp", FormatScanner.NO_TITLES).formatName());
    assertEquals("opaque", FormatScanner.forContentType("video/webm", FormatScanner.NO_TITLES).formatName());
    assertEquals("opaque", FormatScanner.forContentType(null, FormatScanner.NO_TITLES).formatName());
    FormatScanner opaque = FormatScanner.forContentType(null, FormatScanner.NO_TITLES);
    assertEquals(null, opaque.startAtOrAfter(1));
    opaque.scan(java.lang.foreign.MemorySegment.ofArray(new byte[10]));
    assertEquals(7, opaque.startAtOrAfter(7).position());
  }
}
