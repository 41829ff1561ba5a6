package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.buffer.BufWriter;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The userspace engine's subscriber: slices reach an idle listener straight from the source
 * thread, a listener that stalls gets the rest through its own thread, in order, and every block
 * comes back.
 */
class SubscriberTest {

  private static SocketChannel[] socketPair() throws IOException {
    try (ServerSocketChannel ss = ServerSocketChannel.open()) {
      ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      SocketChannel client = SocketChannel.open(ss.getLocalAddress());
      return new SocketChannel[] {ss.accept(), client};
    }
  }

  /** Reads to the end; after each read sleeps what {@code pause} says for the bytes read so far. */
  private static Future<byte[]> read(SocketChannel in, int bufferSize, java.util.function.LongUnaryOperator pause) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ByteBuffer bb = ByteBuffer.allocate(bufferSize);
            while (in.read(bb.clear()) >= 0) {
              got.write(bb.array(), 0, bb.position());
              long ms = pause.applyAsLong(got.size());
              if (ms > 0) {
                Thread.sleep(ms);
              }
            }
            return got.toByteArray();
          } catch (IOException | InterruptedException e) {
            throw new RuntimeException(e);
          }
        },
        Thread::startVirtualThread);
  }

  /** Reads to the end; sleeps {@code stallMillis} once, after the first {@code stallAfter} bytes. */
  private static Future<byte[]> readAll(SocketChannel in, long stallAfter, long stallMillis) {
    boolean[] stalled = {false};
    return read(in, 4096, n -> {
      if (!stalled[0] && n >= stallAfter) {
        stalled[0] = true;
        return stallMillis;
      }
      return 0;
    });
  }

  @Test
  void aListenerGetsEverySliceInOrderWhetherWrittenDirectlyOrFromItsBacklog() throws Exception {
    byte[] head = "HTTP/1.0 200 OK\r\n\r\n".getBytes();
    byte[] data = new byte[600_000];
    new SplittableRandom(5).nextBytes(data);
    try (Allocator alloc = Allocator.create()) {
      SocketChannel[] pair = socketPair();
      SocketChannel out = pair[0];
      out.setOption(StandardSocketOptions.SO_SNDBUF, 8 * 1024);
      // the reader stalls for 200 ms after 100 KB: the socket fills and the source hands over
      Future<byte[]> got = readAll(pair[1], 100_000, 200);
      Subscriber sub = new Subscriber("test", true, out, head, 4 << 20, alloc);
      Thread writer = Thread.ofVirtual().start(() -> {
        try {
          sub.run();
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      for (int off = 0; off < data.length; off += 2000) {
        try (BufWriter w = BufWriter.of(alloc)) {
          w.write(data, off, Math.min(2000, data.length - off));
          try (Slice s = w.toSlice()) {
            assertTrue(sub.offer(s), "offer at " + off);
          }
        }
        Thread.sleep(0, 200_000); // a live source, 2000 bytes per 0.2 ms
      }
      sub.finish();
      writer.join(10_000);
      assertFalse(writer.isAlive());
      sub.releaseQueued();
      byte[] all = got.get(10, TimeUnit.SECONDS);
      assertEquals(head.length + data.length, all.length);
      assertArrayEquals(head, java.util.Arrays.copyOf(all, head.length));
      assertArrayEquals(data, java.util.Arrays.copyOfRange(all, head.length, all.length));
      assertEquals(head.length + data.length, sub.bytesWritten() + head.length);
      assertEquals(0, sub.backlogBytes());
      assertTrue(sub.directBytes() > 0, "nothing was written directly by the source thread");
      assertTrue(sub.directBytes() < data.length, "the stalled reader's backlog was not queued");
      pair[1].close();
      assertEquals(0, alloc.inUse());
    }
  }

  @Test
  void aListenerThatStopsReadingIsRefusedPastItsBound() throws Exception {
    try (Allocator alloc = Allocator.create()) {
      SocketChannel[] pair = socketPair();
      SocketChannel out = pair[0];
      out.setOption(StandardSocketOptions.SO_SNDBUF, 8 * 1024);
      pair[1].setOption(StandardSocketOptions.SO_RCVBUF, 8 * 1024);
      Subscriber sub = new Subscriber("test", true, out, new byte[0], 64 * 1024, alloc);
      Thread writer = Thread.ofVirtual().start(() -> {
        try {
          sub.run();
        } catch (IOException ignored) {
          // the drop closes the socket under the writer
        }
      });
      byte[] chunk = new byte[4096];
      boolean refused = false;
      for (int i = 0; i < 1000 && !refused; i++) {
        try (BufWriter w = BufWriter.of(alloc)) {
          w.write(chunk);
          try (Slice s = w.toSlice()) {
            refused = !sub.offer(s);
          }
        }
      }
      assertTrue(refused, "a reader that never reads was never refused");
      sub.drop();
      writer.join(10_000);
      assertFalse(writer.isAlive());
      sub.releaseQueued();
      pair[1].close();
      assertEquals(0, alloc.inUse());
    }
  }

  /** Reads to the end with a random pause (0..3 ms) after each read. */
  private static Future<byte[]> readJittery(SocketChannel in, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    return read(in, 1024 + r.nextInt(7168), n -> r.nextInt(4));
  }

  @Test
  void ownershipMovesBackAndForthManyTimesWithoutLosingOrReorderingAByte() throws Exception {
    long direct = 0;
    long total = 0;
    for (int round = 0; round < 6; round++) {
      byte[] data = new byte[200_000];
      new SplittableRandom(100 + round).nextBytes(data);
      try (Allocator alloc = Allocator.create()) {
        SocketChannel[] pair = socketPair();
        pair[0].setOption(StandardSocketOptions.SO_SNDBUF, 8 * 1024);
        Future<byte[]> got = readJittery(pair[1], round);
        Subscriber sub = new Subscriber("stress", true, pair[0], new byte[0], 4 << 20, alloc);
        Thread writer = Thread.ofVirtual().start(() -> {
          try {
            sub.run();
          } catch (IOException e) {
            throw new RuntimeException(e);
          }
        });
        SplittableRandom r = new SplittableRandom(round);
        for (int off = 0; off < data.length; ) {
          int n = Math.min(1 + r.nextInt(6000), data.length - off);
          try (BufWriter w = BufWriter.of(alloc)) {
            w.write(data, off, n);
            try (Slice s = w.toSlice()) {
              assertTrue(sub.offer(s), "round " + round + " offer at " + off);
            }
          }
          off += n;
          if (r.nextInt(4) == 0) {
            Thread.sleep(1);
          }
        }
        sub.finish();
        writer.join(20_000);
        assertFalse(writer.isAlive(), "round " + round);
        sub.releaseQueued();
        assertArrayEquals(data, got.get(20, TimeUnit.SECONDS), "round " + round);
        assertEquals(data.length, sub.bytesWritten());
        direct += sub.directBytes();
        total += data.length;
        pair[1].close();
        assertEquals(0, alloc.inUse(), "round " + round);
      }
    }
    assertTrue(direct > 0 && direct < total, "both paths ran: " + direct + " of " + total + " direct");
  }
}
