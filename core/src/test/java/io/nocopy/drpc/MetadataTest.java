package io.nocopy.drpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** drpcmetadata's protobuf map, golden bytes written by hand from the protobuf encoding rules. */
class MetadataTest {
  private static byte[] hex(String s) {
    return HexFormat.of().parseHex(s.replace(" ", ""));
  }

  @Test
  void golden() throws Exception {
    // entry: tag 0x0A len 6 { 0x0A len 1 'a', 0x12 len 1 'b' }
    assertArrayEquals(hex("0A06 0A0161 120162"), Metadata.encode(Map.of("a", "b")));
    Map<String, String> two = new LinkedHashMap<>();
    two.put("k", "");
    two.put("key", "value");
    byte[] enc = Metadata.encode(two);
    assertArrayEquals(hex("0A05 0A016B 1200 0A0C 0A036B6579 120576616C7565"), enc);
    assertEquals(two, Metadata.decode(enc));
    assertEquals(Map.of(), Metadata.decode(new byte[0]));
  }

  @Test
  void unknownFieldsAreSkippedAndMissingPartsAreEmpty() throws Exception {
    // field 2 varint 5, then an entry with only a value and an unknown fixed32 inside
    byte[] b = hex("1005 0A08 120176 1D01020304");
    assertEquals(Map.of("", "v"), Metadata.decode(b));
  }

  @Test
  void malformedIsAProtocolError() {
    assertThrows(DrpcProtocolException.class, () -> Metadata.decode(hex("0A05 0A01")));
    assertThrows(DrpcProtocolException.class, () -> Metadata.decode(hex("0A03 0A01FF")));
    assertThrows(DrpcProtocolException.class, () -> Metadata.decode(hex("0B")));
  }
}
