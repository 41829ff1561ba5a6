package io.nocopy.drpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.buffer.BufWriter;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ByteChannel;
import java.nio.channels.GatheringByteChannel;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * Sending allocates nothing in steady state: the payload handed to the connection ({@link
 * Payload}) must not survive the JIT's escape analysis, and the writer reuses its blocks. Measured
 * on the sending thread, as the growth between a short and a long run after a warm-up.
 */
class DrpcSendAllocationTest {
  private static final int WARM_UP = 300_000;

  /** Discards what is written; a read waits until the channel is closed. */
  private static final class SinkChannel implements ByteChannel, GatheringByteChannel {
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile long written;

    @Override
    public int read(ByteBuffer dst) throws IOException {
      try {
        closed.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw new AsynchronousCloseException();
    }

    @Override
    public int write(ByteBuffer src) {
      int n = src.remaining();
      src.position(src.limit());
      written += n;
      return n;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
      long n = 0;
      for (int i = offset; i < offset + length; i++) {
        n += write(srcs[i]);
      }
      return n;
    }

    @Override
    public long write(ByteBuffer[] srcs) {
      return write(srcs, 0, srcs.length);
    }

    @Override
    public boolean isOpen() {
      return closed.getCount() > 0;
    }

    @Override
    public void close() {
      closed.countDown();
    }
  }

  @FunctionalInterface
  private interface Send {
    void run(DrpcStream s) throws IOException;
  }

  private static long allocatedBy(DrpcStream s, Send send, int n) throws IOException {
    var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long a0 = mx.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < n; i++) {
      send.run(s);
    }
    return mx.getCurrentThreadAllocatedBytes() - a0;
  }

  private static void assertSteadyStateAllocatesNothing(Send send) throws Exception {
    try (Allocator alloc = Allocator.create()) {
      SinkChannel ch = new SinkChannel();
      try (DrpcClient c = DrpcClient.over(ch, alloc, DrpcOptions.DEFAULTS);
          DrpcStream s = c.openStream("/test.Alloc/Send")) {
        allocatedBy(s, send, WARM_UP);
        long small = allocatedBy(s, send, 10_000);
        long large = allocatedBy(s, send, 110_000);
        assertTrue(
            large - small < 100_000 / 8,
            "the sending thread allocated " + small + " B for 10,000 sends and " + large
                + " B for 110,000");
        assertEquals(true, ch.written > 0);
      }
    }
  }

  @Test
  void sendingADirectBufferAllocatesNothing() throws Exception {
    ByteBuffer msg = ByteBuffer.allocateDirect(64);
    assertSteadyStateAllocatesNothing(s -> s.send(msg));
  }

  @Test
  void sendingASliceAllocatesNothing() throws Exception {
    try (Allocator alloc = Allocator.create();
        BufWriter w = BufWriter.of(alloc)) {
      w.write(new byte[64]);
      try (Slice msg = w.toSlice()) {
        assertSteadyStateAllocatesNothing(s -> s.send(msg));
      }
    }
  }
}
