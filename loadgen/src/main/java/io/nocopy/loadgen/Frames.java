package io.nocopy.loadgen;

import java.nio.ByteBuffer;

/**
 * The demo's synthetic payload: a stream of fixed-size frames that a listener joining at any byte
 * can find its place in and then check byte for byte.
 *
 * <pre>
 * offset  size  field
 *      0     4  MAGIC, big-endian ("NCDF")
 *      4     8  sequence number, big-endian, 0, 1, 2, ... per source
 *     12     8  the sender's System.nanoTime() when the frame was written, big-endian
 *     20  1004  filler: byte j is byte (j % 8) (little-endian) of {@link #fillerLong}(seq, j / 8)
 * </pre>
 *
 * Every byte except the send time is a function of the sequence number alone, so the receiver
 * checks all of them; {@code System.nanoTime()} is CLOCK_MONOTONIC on Linux, comparable between
 * the sender and a receiver on the same machine, which gives the delivery latency. Stateless.
 */
public final class Frames {
  /** Bytes in one frame. */
  public static final int SIZE = 1024;
  /** Bytes before the filler. */
  public static final int HEADER = 20;
  /** The first four bytes of every frame. */
  public static final int MAGIC = 0x4E434446;
  /** Offset of the sequence number. */
  static final int SEQ_AT = 4;
  /** Offset of the send time, the only bytes the receiver cannot predict. */
  static final int NANOS_AT = 12;

  private Frames() {}

  /**
   * Writes one frame at {@code dst}'s absolute index {@code at}, leaving its position and limit
   * alone. The caller owns {@code dst}.
   *
   * @param dst where to write; needs {@link #SIZE} bytes from {@code at}
   * @param at absolute index of the frame's first byte
   * @param seq the sequence number (>= 0)
   * @param sendNanos the sender's {@code System.nanoTime()}
   */
  public static void write(ByteBuffer dst, int at, long seq, long sendNanos) {
    dst.putInt(at, MAGIC);
    dst.putLong(at + SEQ_AT, seq);
    dst.putLong(at + NANOS_AT, sendNanos);
    int k = 0;
    int p = at + HEADER;
    int end = at + SIZE;
    for (; p + 8 <= end; p += 8, k++) {
      dst.putLong(p, Long.reverseBytes(fillerLong(seq, k))); // little-endian word in a big-endian buffer
    }
    long last = fillerLong(seq, k);
    for (int i = 0; p < end; p++, i++) {
      dst.put(p, (byte) (last >>> (8 * i)));
    }
  }

  /**
   * The {@code k}-th filler word of frame {@code seq}: SplitMix64 of a counter, so any word can be
   * computed without the ones before it.
   *
   * @param seq the frame's sequence number
   * @param k the word index, 0 .. (SIZE - HEADER) / 8
   * @return the word
   */
  public static long fillerLong(long seq, int k) {
    long z = seq * 0x9E3779B97F4A7C15L + (k + 1) * 0xD1B54A32D192ED03L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Whether byte {@code pos} of a frame is its send time, which only the sender knows.
   *
   * @param pos 0 .. SIZE-1
   * @return true for the eight send-time bytes
   */
  public static boolean isSendTime(int pos) {
    return pos >= NANOS_AT && pos < HEADER;
  }

  /**
   * The byte at {@code pos} of frame {@code seq}, for every position but the send time.
   *
   * @param seq the sequence number
   * @param pos 0 .. SIZE-1, not a send-time byte
   * @return the byte the frame must carry there
   */
  public static byte expectedByte(long seq, int pos) {
    if (pos < SEQ_AT) {
      return (byte) (MAGIC >>> (8 * (3 - pos)));
    }
    if (pos < NANOS_AT) {
      return (byte) (seq >>> (8 * (NANOS_AT - 1 - pos)));
    }
    if (pos < HEADER) {
      throw new IllegalArgumentException("byte " + pos + " is the send time");
    }
    int j = pos - HEADER;
    return (byte) (fillerLong(seq, j >>> 3) >>> (8 * (j & 7)));
  }
}
