package io.nocopy.drpc;

import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Tier;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The receive path of one stream, per message, on one thread, from bytes arriving on a channel
 * to the consumer finishing with the message: what the connection's reader and a stream's
 * consumer do, without the thread hand-off and the network.
 *
 * <ul>
 *   <li>{@code zeroAlloc}: the transport's path: the reader (32 KiB blocks, large frame data from
 *       blocks of up to 512 KiB) hands each frame's data to the stream's {@link MessageQueue} as
 *       block references ({@link BufReader#readBlocks}; staged without locking, moved in with one
 *       lock per frame), {@link PacketRules} checks the packet rules, and the consumer takes the
 *       message with {@link MessageQueue#receive(MessageHandler)} (reading every chunk's first and
 *       last byte); no object per message.
 *   <li>{@code chunkQueueSlice}: the same, but the consumer takes the message as a {@link Slice}
 *       ({@link MessageQueue#receive()}) and closes it: the cost of the handle alone.
 *   <li>{@code copying}: the reference, a receive path with a copy at every hand-off as in drpc's
 *       ring buffer: reads into a heap buffer, appends each frame's data to a packet buffer (copy
 *       2), copies the packet into its ring slot (copy 3), and the consumer copies it out into a
 *       fresh array (copy 4, one allocation).
 * </ul>
 *
 * <p>In package {@code io.nocopy.drpc} to reach the transport's package-private queue and packet
 * rules (the benchmarks use nocopy-core on the class path).
 *
 * <p>Run: {@code ./nocopy bench 'drpc.ReceivePathBenchmark' -f 1 -wi 3 -w 1s -i 5 -r 1s}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g"})
public class ReceivePathBenchmark {
  @Param({"64", "1024", "65536", "1048576"})
  public int size;

  private static final int MAX_FRAME = DrpcOptions.DEFAULT_MAX_FRAME;

  private Allocator alloc;
  private CopyingReceiver copying;

  private BufReader chunkReader;
  private PacketRules rules;
  private MessageQueue chunkQueue;
  private final FrameHeader chunkHeader = new FrameHeader();
  private long seen;
  private final io.nocopy.buffer.ChunkConsumer touch =
      c -> seen += c.get(ValueLayout.JAVA_BYTE, 0) + c.get(ValueLayout.JAVA_BYTE, c.byteSize() - 1);
  private final MessageHandler handler = m -> {
    seen += m.length();
    m.forEachChunk(touch);
  };

  @Setup(Level.Trial)
  public void setUp() {
    int count = Math.max(4, (8 << 20) / Math.max(size, 1));
    alloc = Allocator.builder().maxBytes(256L << 20).build();
    copying = new CopyingReceiver(new ReplayChannel(size, count, MAX_FRAME));
    chunkReader = BufReader.of(new ReplayChannel(size, count, MAX_FRAME), alloc, Tier.BIG,
        DrpcOptions.DEFAULT_MAX_READ_TIER);
    rules = new PacketRules(1, DrpcOptions.DEFAULT_MAX_PACKET);
    chunkQueue = new MessageQueue(64, OverflowPolicy.BLOCK);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    chunkReader.close();
    chunkQueue.abort(new IOException("benchmark over"));
    alloc.close();
  }

  /** Reads frames until a message is complete and queues it in {@code chunkQueue}. */
  private void receiveFrames() throws Exception {
    while (true) {
      if (!chunkHeader.readFrom(chunkReader)) {
        throw new IllegalStateException("replay ended");
      }
      if (rules.frame(chunkHeader)) {
        throw new IllegalStateException("the replay abandons no packet");
      }
      if (chunkHeader.length() > 0) {
        chunkReader.readBlocks(chunkHeader.length(), chunkQueue);
      }
      if (chunkHeader.done()) {
        rules.complete();
        break;
      }
      chunkQueue.endFrame();
    }
    chunkQueue.publish();
  }

  @Benchmark
  public long zeroAlloc() throws Exception {
    receiveFrames();
    if (!chunkQueue.receive(handler)) {
      throw new IllegalStateException("queue ended");
    }
    return seen;
  }

  @Benchmark
  public long chunkQueueSlice() throws Exception {
    receiveFrames();
    try (Slice m = chunkQueue.receive()) {
      return m.length();
    }
  }

  @Benchmark
  public long copying() throws IOException {
    return copying.receive().length;
  }

  /** Heap buffers and a copy at every hand-off. */
  static final class CopyingReceiver {
    private final java.nio.channels.ReadableByteChannel ch;
    private byte[] buf = new byte[64 << 10];
    private ByteBuffer bb;
    private int start;
    private int end;
    private byte[] packet = new byte[1024];
    private int packetLen;
    private final byte[][] slots = new byte[64][];
    private final int[] slotLen = new int[64];
    private int head;

    CopyingReceiver(java.nio.channels.ReadableByteChannel ch) {
      this.ch = ch;
      this.bb = ByteBuffer.wrap(buf);
      for (int i = 0; i < slots.length; i++) {
        slots[i] = new byte[0];
      }
    }

    byte[] receive() throws IOException {
      packetLen = 0;
      while (true) {
        int p = start;
        int control = need(p, 1) ? buf[p++] & 0xFF : -1;
        long[] v = varints;
        if (control < 0 || (p = varint(p, v, 0)) < 0 || (p = varint(p, v, 1)) < 0
            || (p = varint(p, v, 2)) < 0 || !need(p, (int) v[2])) {
          fill();
          continue;
        }
        int n = (int) v[2];
        if (packetLen + n > packet.length) { // append: grow and copy
          packet = java.util.Arrays.copyOf(packet, Math.max(packet.length * 2, packetLen + n));
        }
        System.arraycopy(buf, p, packet, packetLen, n);
        packetLen += n;
        start = p + n;
        if ((control & 1) != 0) {
          break;
        }
      }
      // ring buffer Enqueue: copy into the slot's buffer
      int slot = head;
      head = (head + 1) % slots.length;
      if (slots[slot].length < packetLen) {
        slots[slot] = new byte[Math.max(packetLen, slots[slot].length * 2)];
      }
      System.arraycopy(packet, 0, slots[slot], 0, packetLen);
      slotLen[slot] = packetLen;
      // RawRecv: copy out for the caller, then Done
      return java.util.Arrays.copyOf(slots[slot], slotLen[slot]);
    }

    private final long[] varints = new long[3];

    private boolean need(int p, int n) {
      return end - p >= n;
    }

    private int varint(int p, long[] out, int i) {
      long v = 0;
      for (int k = 0; k < 10; k++) {
        if (p >= end) {
          return -1;
        }
        int b = buf[p++] & 0xFF;
        v |= (long) (b & 0x7F) << (7 * k);
        if (b < 0x80) {
          out[i] = v;
          return p;
        }
      }
      throw new IllegalStateException("varint too long");
    }

    /** Moves unparsed bytes to the front (growing the buffer for a large frame) and reads more. */
    private void fill() throws IOException {
      int left = end - start;
      if (left > buf.length / 2) {
        buf = java.util.Arrays.copyOf(buf, buf.length * 2);
        bb = ByteBuffer.wrap(buf);
      }
      System.arraycopy(buf, start, buf, 0, left);
      start = 0;
      end = left;
      bb.limit(buf.length).position(end);
      int n = ch.read(bb);
      if (n < 0) {
        throw new java.io.EOFException();
      }
      end += n;
    }
  }
}
