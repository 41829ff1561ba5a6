package io.nocopy.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameVerifierTest {
  /** Frames first..last, the send time of frame s being 1000 + s. */
  private static byte[] stream(long first, long last) {
    ByteBuffer b = ByteBuffer.allocate((int) (last - first + 1) * Frames.SIZE);
    for (long s = first; s <= last; s++) {
      Frames.write(b, (int) (s - first) * Frames.SIZE, s, 1000 + s);
    }
    return b.array();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] s = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, s, a.length, b.length);
    return s;
  }

  /** Feeds bytes [from, to) in pieces of 1..maxPiece bytes, recording latency as if now = 5000. */
  private static FrameVerifier feed(byte[] data, int from, int to, int maxPiece, long seed) {
    FrameVerifier v = new FrameVerifier(new LatencyHistogram());
    Random r = new Random(seed);
    for (int p = from; p < to; ) {
      int n = Math.min(to - p, 1 + r.nextInt(maxPiece));
      v.accept(ByteBuffer.wrap(data, p, n), 5000, true);
      p += n;
    }
    return v;
  }

  @Test
  void everyByteButTheSendTimeIsAFunctionOfTheSequenceNumber() {
    ByteBuffer b = ByteBuffer.allocate(Frames.SIZE + 3);
    Frames.write(b, 3, 77, 123_456_789L);
    for (int p = 0; p < Frames.SIZE; p++) {
      if (Frames.isSendTime(p)) {
        continue;
      }
      assertEquals(Frames.expectedByte(77, p), b.get(3 + p), "byte " + p);
    }
    assertEquals(Frames.MAGIC, b.getInt(3));
    assertEquals(77, b.getLong(3 + 4));
    assertEquals(123_456_789L, b.getLong(3 + 12));
    assertEquals(0, b.get(0)); // nothing written before the frame
  }

  @Test
  void aWholeStreamInRandomPiecesVerifiesAndRecordsLatency() {
    byte[] s = stream(0, 49);
    LatencyHistogram h = new LatencyHistogram();
    FrameVerifier v = new FrameVerifier(h);
    Random r = new Random(1);
    for (int p = 0; p < s.length; ) {
      int n = Math.min(s.length - p, 1 + r.nextInt(3000));
      v.accept(ByteBuffer.wrap(s, p, n), 5000, true);
      p += n;
    }
    assertNull(v.failure());
    assertEquals(50, v.framesVerified());
    assertEquals(0, v.firstSeq());
    assertEquals(49, v.lastSeq());
    assertEquals(0, v.leadIn());
    assertEquals(s.length, v.bytes());
    assertEquals(50, h.count());
    assertEquals(5000 - 1000, h.max()); // frame 0: sent at 1000, received at 5000
  }

  @Test
  void aStreamCutAtEveryByteOffsetResynchronisesOnTheNextFrame() {
    byte[] s = stream(10, 15);
    for (int cut = 0; cut <= 2 * Frames.SIZE; cut++) {
      FrameVerifier v = feed(s, cut, s.length, 1 + cut % 1500, cut);
      assertNull(v.failure(), "cut at " + cut);
      long first = 10 + (cut + Frames.SIZE - 1) / Frames.SIZE;
      assertEquals(first, v.firstSeq(), "cut at " + cut);
      assertEquals(15, v.lastSeq(), "cut at " + cut);
      assertEquals(16 - first, v.framesVerified(), "cut at " + cut);
      assertEquals((Frames.SIZE - cut % Frames.SIZE) % Frames.SIZE, v.leadIn(), "cut at " + cut);
      assertEquals(0, v.partialBytes());
    }
  }

  @Test
  void aCorruptedByteAnywhereButInASendTimeIsFound() {
    byte[] clean = stream(0, 3);
    for (int p = 0; p < clean.length; p++) {
      if (Frames.isSendTime(p % Frames.SIZE)) {
        continue;
      }
      byte[] s = clean.clone();
      s[p] ^= (byte) (1 << (p % 8));
      FrameVerifier v = feed(s, 0, s.length, 700, p);
      assertNotNull(v.failure(), "corrupted byte " + p);
    }
  }

  @Test
  void aCorruptedFillerByteIsNamedExactlyInBuffersOfEitherByteOrder() {
    byte[] s = stream(0, 3);
    int at = 2 * Frames.SIZE + 500; // frame 2, byte 500: inside a filler word
    s[at] ^= 0x10;
    for (java.nio.ByteOrder order :
        new java.nio.ByteOrder[] {java.nio.ByteOrder.BIG_ENDIAN, java.nio.ByteOrder.LITTLE_ENDIAN}) {
      FrameVerifier v = new FrameVerifier(new LatencyHistogram());
      v.accept(ByteBuffer.wrap(s).order(order), 5000, false);
      assertTrue(v.failure().startsWith("frame 2 byte 500 (stream byte " + at + ")"), v.failure());
      FrameVerifier clean = new FrameVerifier(new LatencyHistogram());
      clean.accept(ByteBuffer.wrap(stream(0, 3)).order(order), 5000, false);
      assertNull(clean.failure(), order.toString());
      assertEquals(4, clean.framesVerified(), order.toString());
    }
  }

  @Test
  void aCorruptedByteInTheLeadInOrTheFirstFrameOfACutStreamIsFound() {
    byte[] clean = stream(4, 8);
    int cut = 300; // lead-in: bytes 300..1023 of frame 4; first frame: 5
    for (int p = cut; p < 2 * Frames.SIZE; p++) {
      if (Frames.isSendTime(p % Frames.SIZE)) {
        continue;
      }
      byte[] s = clean.clone();
      s[p] ^= 0x40;
      FrameVerifier v = feed(s, cut, s.length, 4096, p);
      assertNotNull(v.failure(), "corrupted byte " + p);
    }
  }

  @Test
  void aMissingFrameIsNamed() {
    byte[] s = concat(stream(0, 4), stream(6, 9));
    FrameVerifier v = feed(s, 0, s.length, 999, 3);
    assertEquals("expected frame 5, got frame 6 (1 frame(s) missing)", v.failure());
    assertEquals(5, v.framesVerified());
    assertEquals(4, v.lastSeq());
  }

  @Test
  void aRepeatedFrameIsOutOfOrder() {
    byte[] s = concat(stream(0, 2), stream(2, 3));
    FrameVerifier v = feed(s, 0, s.length, 5000, 4);
    assertEquals("expected frame 3, got frame 2 (out of order)", v.failure());
  }

  @Test
  void aSendTimeGoingBackwardsIsFound() {
    ByteBuffer b = ByteBuffer.allocate(2 * Frames.SIZE);
    Frames.write(b, 0, 0, 2000);
    Frames.write(b, Frames.SIZE, 1, 1999);
    FrameVerifier v = feed(b.array(), 0, b.capacity(), 5000, 5);
    assertEquals("frame 1: send time went backwards", v.failure());
  }

  @Test
  void randomBytesNeverLock() {
    byte[] junk = new byte[8192];
    new Random(6).nextBytes(junk);
    FrameVerifier v = feed(junk, 0, junk.length, 512, 6);
    assertFalse(v.locked());
    assertEquals("no valid frame in the first 2047 bytes of the stream", v.failure());
  }

  @Test
  void aStreamEndingBeforeAWholeFrameFails() {
    byte[] s = stream(3, 4);
    FrameVerifier v = feed(s, 100, 100 + Frames.SIZE + 50, 64, 7);
    assertNull(v.failure());
    v.end("closed by test");
    assertEquals("stream ended after 1074 bytes, before a complete frame (closed by test)", v.failure());
  }

  @Test
  void aTruncatedLastFrameShowsAsPartialBytes() {
    byte[] s = stream(0, 3);
    FrameVerifier v = feed(s, 0, s.length - 100, 333, 8);
    v.end("closed by test");
    assertNull(v.failure());
    assertEquals(2, v.lastSeq());
    assertEquals(Frames.SIZE - 100, v.partialBytes());
  }

  @Test
  void latencyIsRecordedOnlyWhenAsked() {
    byte[] s = stream(0, 3);
    LatencyHistogram h = new LatencyHistogram();
    FrameVerifier v = new FrameVerifier(h);
    v.accept(ByteBuffer.wrap(s, 0, 2 * Frames.SIZE), 9000, false);
    v.accept(ByteBuffer.wrap(s, 2 * Frames.SIZE, 2 * Frames.SIZE), 9000, true);
    assertEquals(2, h.count());
    assertEquals(9000 - 1002, h.max());
    assertTrue(v.framesVerified() == 4 && v.failure() == null);
  }
}
