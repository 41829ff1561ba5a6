package io.nocopy.drpc;

import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * An endless in-memory source of DRPC frames for receive-path benchmarks: {@code count} messages
 * of {@code size} bytes on stream 1, split into frames of at most {@code maxFrame} bytes, replayed
 * forever. Message ids are written as fixed ten-byte varints (non-minimal encodings are valid) so
 * that each replay can renumber them in place: ids keep increasing, as the receiver demands, and
 * nothing is allocated. Reads copy into the reader's buffer like a socket read would.
 */
final class ReplayChannel implements ReadableByteChannel {
  private final byte[] data;
  private final int[] idOffsets; // where each frame's message id varint starts
  private final int[] idFrames; // message index of each frame
  private final int count;
  private int pos;
  private long base; // message id of message 0 in the current replay

  ReplayChannel(int size, int count, int maxFrame) {
    this.count = count;
    int framesPerMsg = Math.max(1, (size + maxFrame - 1) / maxFrame);
    int frames = framesPerMsg * count;
    idOffsets = new int[frames];
    idFrames = new int[frames];
    ByteBuffer b = ByteBuffer.allocate(frames * (1 + 10 + 10 + 10) + size * count);
    int f = 0;
    for (int m = 0; m < count; m++) {
      for (int off = 0; off < size || (size == 0 && off == 0); off += maxFrame) {
        int n = Math.min(maxFrame, size - off);
        boolean done = off + n >= size;
        b.put((byte) FrameHeader.controlByte(Kind.MESSAGE.code(), done, false));
        b.put((byte) 1); // stream 1
        idOffsets[f] = b.position();
        idFrames[f++] = m;
        b.put(new byte[10]); // message id, filled by renumber()
        Varint.write(b, n);
        for (int i = 0; i < n; i++) {
          b.put((byte) (off + i));
        }
        if (size == 0) {
          break;
        }
      }
    }
    data = java.util.Arrays.copyOf(b.array(), b.position());
    base = 1;
    renumber();
  }

  private void renumber() {
    for (int f = 0; f < idOffsets.length; f++) {
      long id = base + idFrames[f];
      int at = idOffsets[f];
      for (int i = 0; i < 9; i++) {
        data[at + i] = (byte) ((id & 0x7F) | 0x80);
        id >>>= 7;
      }
      data[at + 9] = (byte) (id & 0x01);
    }
  }

  @Override
  public int read(ByteBuffer dst) {
    if (pos == data.length) {
      pos = 0;
      base += count;
      renumber();
    }
    int n = Math.min(dst.remaining(), data.length - pos);
    dst.put(data, pos, n);
    pos += n;
    return n;
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public void close() {}
}
