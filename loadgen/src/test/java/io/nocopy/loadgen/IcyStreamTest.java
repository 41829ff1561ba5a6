package io.nocopy.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nocopy.relay.format.IcyMetadata;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class IcyStreamTest {
  /** Frames 0..count-1 as a relay would send them with a block after every metaint bytes. */
  private static byte[] interleaved(int count, int metaint, String... titles) {
    ByteBuffer audio = ByteBuffer.allocate(count * Frames.SIZE);
    for (int s = 0; s < count; s++) {
      Frames.write(audio, s * Frames.SIZE, s, 1000 + s);
    }
    byte[] a = audio.array();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int block = 0;
    for (int p = 0; p < a.length; p += metaint) {
      out.write(a, p, Math.min(metaint, a.length - p));
      if (p + metaint <= a.length) {
        // a title every third block, "unchanged" in between, as a relay writes them
        out.writeBytes(block % 3 == 0 && block / 3 < titles.length
            ? IcyMetadata.block(titles[block / 3], null, StandardCharsets.ISO_8859_1)
            : IcyMetadata.UNCHANGED);
        block++;
      }
    }
    return out.toByteArray();
  }

  @Test
  void theAudioVerifiesAndTheTitlesAreCountedWhateverTheReadSizes() {
    byte[] body = interleaved(200, 1000, "first", "first", "second", "third song");
    for (int maxPiece : new int[] {1, 7, 1000, 1001, 70_000}) {
      FrameVerifier v = new FrameVerifier(new LatencyHistogram());
      IcyStream icy = new IcyStream(1000, v);
      Random r = new Random(maxPiece);
      for (int p = 0; p < body.length; ) {
        int n = Math.min(body.length - p, 1 + r.nextInt(maxPiece));
        icy.accept(ByteBuffer.wrap(body, p, n), 5000, true);
        p += n;
      }
      assertNull(v.failure(), "pieces up to " + maxPiece);
      assertEquals(200, v.framesVerified());
      assertEquals(200 * Frames.SIZE, v.bytes());
      assertEquals(3, icy.titles(), "a repeated title is no change");
      assertEquals(4, icy.blocks());
      assertEquals("third song", icy.title());
      assertEquals(body.length - 200 * Frames.SIZE, icy.metadataBytes());
    }
  }

  @Test
  void aMisplacedBlockCorruptsTheAudio() {
    byte[] body = interleaved(20, 1000, "t");
    FrameVerifier v = new FrameVerifier(new LatencyHistogram());
    new IcyStream(999, v).accept(ByteBuffer.wrap(body), 5000, false); // the wrong interval
    assertNotNull(v.failure());
    assertThrows(IllegalArgumentException.class, () -> new IcyStream(0, v));
  }
}
