package io.nocopy.buffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.BlockPool;
import io.nocopy.memory.PoolExhaustedException;
import io.nocopy.memory.Tier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The block a streaming call ({@code readRange}, {@code skip}) drains and keeps for its next
 * channel read: only a block of the reader's own tier is kept, so a big block of a large read is
 * never refilled with the stream's next bytes. (That no Slice-held block is refilled and that no
 * drained block outlives the call is in {@link BufReaderContract}.)
 */
class StreamingBlockReuseTest {
  @Test
  void aBigBlockLeftByAFailedLargeReadGoesBackInsteadOfBeingRefilled() throws IOException {
    int great = (int) Tier.GREAT.size();
    byte[] data = new byte[great + (200 << 10)];
    new Random(31).nextBytes(data);
    try (Allocator alloc =
        Allocator.builder()
            .maxBytes(16L << 20)
            .capacity(Tier.GREAT, 1)
            .acquireTimeout(Duration.ZERO)
            .build()) {
      BlockPool greatPool = alloc.pool(Tier.GREAT);
      try (BufReader r =
          BufReader.of(ChunkedChannel.fixed(data, 64 << 10), alloc, Tier.BIG, Tier.GREAT)) {
        // a 1 MiB slice wants two GREAT blocks; the pool has one: the first is filled, then the
        // request fails and leaves its bytes buffered in that GREAT block
        assertThrows(PoolExhaustedException.class, () -> r.readSlice(1 << 20));
        assertEquals(great, r.buffered());
        assertEquals(0, greatPool.available(), "the GREAT block holds the buffered bytes");

        // a range that drains the GREAT block and reads on
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        List<Integer> greatFreeDuringChunk = new ArrayList<>();
        r.readRange(
            great + 1000,
            chunk -> {
              greatFreeDuringChunk.add(greatPool.available());
              got.writeBytes(chunk.toArray(ValueLayout.JAVA_BYTE));
            });
        assertArrayEquals(java.util.Arrays.copyOf(data, great + 1000), got.toByteArray());
        assertEquals(0, greatFreeDuringChunk.get(0), "first chunk: the GREAT block's bytes");
        for (int i = 1; i < greatFreeDuringChunk.size(); i++) {
          assertEquals(1, greatFreeDuringChunk.get(i),
              "chunk " + i + ": the drained GREAT block went back, the next read took a BIG one");
        }
        assertEquals(1, greatPool.available());
      }
      assertEquals(0, alloc.inUse());
    }
  }
}
