package io.nocopy.buffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.Tier;
import java.io.EOFException;
import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GoMem's TestBufRead: bytes 1..20 read with BufLen 5 (each read returns at most 5 bytes), and the
 * a harsher variant with at most 2 bytes per read. Our smallest block is 32 B (tier PICO), so
 * the read size, not the block, is what splits values across reads.
 */
class GoMemScenarioTest {
  @ParameterizedTest
  @ValueSource(ints = {2, 5})
  void testBufRead(int perRead) throws IOException {
    byte[] data = new byte[20];
    for (int i = 0; i < 20; i++) {
      data[i] = (byte) (i + 1);
    }
    try (Allocator alloc = Allocator.create();
        BufReader r = BufReader.of(ChunkedChannel.fixed(data, perRead), alloc, Tier.PICO)) {
      assertEquals(1, r.readByte());
      assertEquals(0x02030405L, r.readBE(4));
      if (perRead == 5) {
        assertEquals(0, r.buffered(), "like GoMem: nothing left over after the 4 bytes");
      }
      assertEquals(6, r.readByte());
      assertEquals(0x0a090807L, r.readLE(4));
      r.skip(2); // 11, 12
      assertEquals(13, r.readByte());
      assertEquals(0x0e0f101112L, r.readBE(5));
      // 2 bytes left: a 3-byte read fails and loses nothing (GoMem drops them)
      assertThrows(EOFException.class, () -> r.readBE(3));
      assertEquals(0x1314L, r.readBE(2));
      assertThrows(EOFException.class, r::readByte);
      r.close();
      assertEquals(0, alloc.inUse());
    }
  }
}
