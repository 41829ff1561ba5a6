package io.nocopy.loadgen;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Checks a stream of {@link Frames} as a listener receives it, in pieces of any size.
 *
 * <p>A listener that joins mid-stream first gets the relay's burst, cut at an arbitrary byte, so
 * the stream starts with the tail of some frame. The verifier buffers up to {@code 2 * SIZE - 1}
 * bytes and looks for the first offset {@code o < SIZE} where a complete, valid frame starts
 * <em>and</em> the {@code o} bytes before it are exactly the tail of the frame before that one
 * (send time aside). From there every byte is checked as it arrives: magic, contiguous sequence
 * numbers, send times that never go backwards, and the exact filler. The first mismatch is kept
 * as {@link #failure()} and everything after it is ignored.
 *
 * <p>Each completed header records {@code now - sendTime} into the caller's histogram when asked
 * to. Steady state allocates nothing. Not thread safe: one verifier per listener, fed by one
 * thread; read the results after that thread is done (or accept racy progress figures).
 */
public final class FrameVerifier {
  private static final int SYNC_WINDOW = 2 * Frames.SIZE - 1;

  private final LatencyHistogram latency;
  private final byte[] sync = new byte[SYNC_WINDOW];
  private int syncFilled;
  private int syncChecked; // candidate offsets below this were complete and invalid

  private boolean locked;
  private long seq; // the frame being received
  private int pos; // bytes of it checked so far
  private long seqRead;
  private long nanosRead;
  private long word;
  private long lastSendNanos = Long.MIN_VALUE;
  private long firstSeq = -1;

  private long bytes;
  private long frames;
  private int leadIn;
  private String failure;

  /**
   * @param latency where delivery latencies go when {@code recordLatency} is passed as true; owned
   *     by the caller, written only by the thread feeding this verifier
   */
  public FrameVerifier(LatencyHistogram latency) {
    this.latency = latency;
  }

  /**
   * Checks the bytes between {@code buf}'s position and limit and moves its position to the limit.
   *
   * @param buf received bytes; only read during the call
   * @param nowNanos {@code System.nanoTime()} when they were received
   * @param recordLatency whether frames whose header completes here go into the histogram
   */
  public void accept(ByteBuffer buf, long nowNanos, boolean recordLatency) {
    int p = buf.position();
    int end = buf.limit();
    buf.position(end);
    if (failure != null) {
      bytes += end - p;
      return;
    }
    while (!locked && p < end) {
      int n = Math.min(end - p, SYNC_WINDOW - syncFilled);
      buf.get(p, sync, syncFilled, n);
      syncFilled += n;
      p += n;
      bytes += n;
      int o = findFrame();
      if (o >= 0) {
        locked = true;
        leadIn = o;
        seq = readLong(sync, o + Frames.SEQ_AT);
        firstSeq = seq;
        pos = 0;
        check(ByteBuffer.wrap(sync), o, syncFilled, nowNanos, recordLatency);
      } else if (syncFilled == SYNC_WINDOW) {
        fail("no valid frame in the first " + SYNC_WINDOW + " bytes of the stream");
        bytes += end - p;
        return;
      }
    }
    if (p < end) {
      bytes += end - p;
      check(buf, p, end, nowNanos, recordLatency);
    }
  }

  /** Offset of the first frame the stream can be locked onto, or -1 if none is visible yet. */
  private int findFrame() {
    for (int o = syncChecked; o < Frames.SIZE && o + Frames.SIZE <= syncFilled; o++) {
      syncChecked = o + 1;
      if (readInt(sync, o) != Frames.MAGIC) {
        continue;
      }
      long s = readLong(sync, o + Frames.SEQ_AT);
      if (s < 0 || (o > 0 && s == 0)) {
        continue;
      }
      if (matches(s, o, 0, Frames.SIZE) && (o == 0 || matches(s - 1, 0, Frames.SIZE - o, o))) {
        return o;
      }
    }
    return -1;
  }

  /** Whether sync[at, at+len) equals bytes [from, from+len) of frame {@code s}, send time aside. */
  private boolean matches(long s, int at, int from, int len) {
    for (int i = 0; i < len; i++) {
      int fp = from + i;
      if (!Frames.isSendTime(fp) && sync[at + i] != Frames.expectedByte(s, fp)) {
        return false;
      }
    }
    return true;
  }

  private void check(ByteBuffer buf, int p, int end, long nowNanos, boolean recordLatency) {
    boolean bigEndian = buf.order() == ByteOrder.BIG_ENDIAN;
    for (; p < end; p++) {
      // the filler a word at a time where the piece and the frame hold a whole one (most bytes);
      // a word that differs is checked byte by byte below, which says where
      while (pos >= Frames.HEADER
          && ((pos - Frames.HEADER) & 7) == 0
          && pos + 8 < Frames.SIZE
          && p + 8 <= end
          && littleEndianLong(buf, p, bigEndian)
              == Frames.fillerLong(seq, (pos - Frames.HEADER) >>> 3)) {
        p += 8;
        pos += 8;
      }
      if (p == end) {
        return;
      }
      byte b = buf.get(p);
      if (pos < Frames.SEQ_AT) {
        if (b != Frames.expectedByte(seq, pos)) {
          fail("frame " + seq + " (stream byte " + streamOffset(p, end) + "): bad magic");
          return;
        }
      } else if (pos < Frames.NANOS_AT) {
        seqRead = (seqRead << 8) | (b & 0xFF);
        if (pos == Frames.NANOS_AT - 1 && seqRead != seq) {
          fail("expected frame " + seq + ", got frame " + seqRead
              + (seqRead > seq ? " (" + (seqRead - seq) + " frame(s) missing)" : " (out of order)"));
          return;
        }
      } else if (pos < Frames.HEADER) {
        nanosRead = (nanosRead << 8) | (b & 0xFF);
        if (pos == Frames.HEADER - 1) {
          if (nanosRead < lastSendNanos) {
            fail("frame " + seq + ": send time went backwards");
            return;
          }
          lastSendNanos = nanosRead;
          if (recordLatency) {
            latency.record(nowNanos - nanosRead);
          }
        }
      } else {
        int j = pos - Frames.HEADER;
        if ((j & 7) == 0) {
          word = Frames.fillerLong(seq, j >>> 3);
        }
        byte want = (byte) (word >>> (8 * (j & 7)));
        if (b != want) {
          fail(String.format("frame %d byte %d (stream byte %d): 0x%02x, expected 0x%02x", seq, pos,
              streamOffset(p, end), b & 0xFF, want & 0xFF));
          return;
        }
      }
      if (++pos == Frames.SIZE) {
        frames++;
        seq++;
        pos = 0;
        seqRead = 0;
        nanosRead = 0;
      }
    }
  }

  private static long littleEndianLong(ByteBuffer buf, int p, boolean bigEndian) {
    long v = buf.getLong(p);
    return bigEndian ? Long.reverseBytes(v) : v;
  }

  /** The stream offset of the byte at index p of a piece ending at index end (stream byte bytes-1). */
  private long streamOffset(int p, int end) {
    return bytes - (end - p);
  }

  private void fail(String why) {
    if (failure == null) {
      failure = why;
    }
  }

  /**
   * Declares the end of the stream: a stream that ended before one whole frame fails.
   *
   * @param why added to the failure message, e.g. who ended the stream
   */
  public void end(String why) {
    if (failure == null && !locked) {
      fail("stream ended after " + bytes + " bytes, before a complete frame (" + why + ")");
    }
  }

  /** @return the first error found, or null while every byte checked out */
  public String failure() {
    return failure;
  }

  /** @return true once a frame was found and the stream is being checked byte for byte */
  public boolean locked() {
    return locked;
  }

  /** @return complete frames verified */
  public long framesVerified() {
    return frames;
  }

  /** @return bytes received, including the lead-in and any partial frame */
  public long bytes() {
    return bytes;
  }

  /** @return bytes before the first complete frame (the checked tail of the frame before it) */
  public int leadIn() {
    return leadIn;
  }

  /** @return bytes of the frame after the last complete one received so far */
  public int partialBytes() {
    return pos;
  }

  /** @return the sequence number of the first frame locked onto, -1 before that */
  public long firstSeq() {
    return firstSeq;
  }

  /** @return the sequence number of the last complete frame, -1 if none */
  public long lastSeq() {
    return locked && frames > 0 ? seq - 1 : -1;
  }

  private static int readInt(byte[] a, int at) {
    return ((a[at] & 0xFF) << 24) | ((a[at + 1] & 0xFF) << 16) | ((a[at + 2] & 0xFF) << 8) | (a[at + 3] & 0xFF);
  }

  private static long readLong(byte[] a, int at) {
    return ((long) readInt(a, at) << 32) | (readInt(a, at + 4) & 0xFFFFFFFFL);
  }
}
