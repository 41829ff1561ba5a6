package io.nocopy.fanout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.buffer.Slice;
import io.nocopy.pipe.Net;
import io.nocopy.pipe.Net.Kind;
import io.nocopy.pipe.Net.Pair;
import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The fan-out contract on the userspace transport (block references shared by every sink), and what
 * only it can do: a source of slices parsed in userspace.
 */
class UserFanoutTest extends FanoutContract {
  @Override
  long allocationPerChunkLimit() {
    return 32; // no object per chunk (a handle and its data would be 72 B) and none per sink
  }

  @Override
  TransportKind kind() {
    return TransportKind.USERSPACE;
  }

  /** Slices of {@code data} in pieces of 1 to 5000 bytes. */
  private static SliceSource pieces(byte[] data) {
    java.util.Random rnd = new java.util.Random(7);
    int[] at = {0};
    return () -> {
      if (at[0] == data.length) {
        return null;
      }
      int n = Math.min(data.length - at[0], 1 + rnd.nextInt(5000));
      Slice s = sliceOf(Arrays.copyOfRange(data, at[0], at[0] + n));
      at[0] += n;
      return s;
    };
  }

  @Test
  void aSliceSourceReachesEverySinkWithItsBurstAndHooks() throws Exception {
    byte[] data = Net.random(400_000, 71);
    Events ev = new Events();
    try (Pair a = Net.pair(Kind.TCP);
        Pair b = Net.pair(Kind.UNIX);
        Fanout f = Fanout.builder().burst(10_000).listener(ev).open(Source.slices(pieces(data)))) {
      assertEquals(TransportKind.USERSPACE, f.transport());
      Future<byte[]> gotA = Net.readAll(a.b());
      Future<byte[]> gotB = Net.readAll(b.b());
      f.add(a.a());
      f.sink(b.a()).insert(every(1000)).add();
      f.start();
      f.join();
      a.a().shutdownOutput();
      b.a().shutdownOutput();
      assertArrayEquals(data, gotA.get());
      assertArrayEquals(expected(new byte[0], data, 1000), gotB.get());
      assertEquals(data.length, ev.sourceBytes);
    }
  }

  @Test
  void aFailingSliceSourceEndsTheStreamWithItsError() throws Exception {
    Events ev = new Events();
    SliceSource broken = () -> {
      throw new java.net.ProtocolException("malformed chunk size");
    };
    try (Pair a = Net.pair(Kind.TCP);
        Fanout f = Fanout.builder().listener(ev).open(Source.slices(broken))) {
      Sink s = f.add(a.a());
      f.start();
      f.join();
      assertTrue(ev.sourceError instanceof java.net.ProtocolException);
      assertEquals(Reason.FINISHED, s.reason());
    }
  }

  @Test
  void aWriterHoldsADuplicateDescriptorOnlyWhileItIsBehind() throws Exception {
    // the writer's native sends of a backlog use a duplicate of the socket's descriptor; once the
    // backlog is sent it is closed, so listeners that caught up hold one descriptor each
    int n = 8;
    byte[] data = Net.random(2_000_000, 98);
    java.util.List<Pair> pairs = new java.util.ArrayList<>();
    java.util.List<Sink> sinks = new java.util.ArrayList<>();
    java.util.List<Future<byte[]>> got = new java.util.ArrayList<>();
    try (Pair s = Net.pair(Kind.TCP);
        Fanout f = builder().sinkBound(8 << 20).open(Source.channel(s.b()))) {
      for (int i = 0; i < n; i++) {
        Pair p = Net.pair(Kind.TCP);
        p.a().setOption(java.net.StandardSocketOptions.SO_SNDBUF, 32 * 1024);
        p.b().setOption(java.net.StandardSocketOptions.SO_RCVBUF, 32 * 1024);
        pairs.add(p);
        sinks.add(f.add(p.a()));
      }
      long before = Net.openFds();
      f.start();
      write(s, data, 0, data.length); // no sink is read yet: each falls behind
      for (Sink sk : sinks) {
        await(() -> sk.bytesWritten() + sk.backlog() == data.length && sk.backlog() > 0,
            "every sink to be behind");
      }
      if (io.nocopy.internal.linux.ChannelFds.available() && NativeSend.ENABLED) {
        await(() -> Net.openFds() - before >= n, "each writer to hold a duplicate while behind");
      }
      for (Pair p : pairs) {
        got.add(Net.readAll(p.b()));
      }
      for (Sink sk : sinks) {
        await(() -> sk.bytesWritten() == data.length && sk.backlog() == 0, "every sink to catch up");
      }
      await(() -> Net.openFds() - before < n / 2, "the writers to close their duplicates");
      s.a().shutdownOutput();
      f.join();
      for (int i = 0; i < n; i++) {
        assertEquals(Reason.FINISHED, sinks.get(i).reason(), "sink " + i);
        pairs.get(i).a().shutdownOutput();
        assertArrayEquals(data, got.get(i).get(10, java.util.concurrent.TimeUnit.SECONDS), "sink " + i);
      }
    } finally {
      for (Pair p : pairs) {
        p.close();
      }
    }
  }

  @Test
  void theKernelTransportCannotCarryASliceSource() {
    assertThrows(IllegalArgumentException.class,
        () -> Fanout.builder().transport(TransportKind.KERNEL).open(Source.slices(() -> null)));
  }

  @Test
  void aSinkChannelWithoutADescriptorWorks() throws Exception {
    byte[] data = Net.random(100_000, 72);
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (Pair s = Net.pair(Kind.TCP);
        var out = java.nio.channels.Channels.newChannel(bytes);
        Fanout f = Fanout.builder().open(Source.channel(s.b()))) {
      Sink k = f.add(out);
      assertEquals(TransportKind.USERSPACE, k.transport());
      f.start();
      write(s, data, 0, data.length);
      s.a().shutdownOutput();
      f.join();
      assertEquals(Reason.FINISHED, k.reason());
    } catch (IOException e) {
      throw e;
    }
    assertArrayEquals(data, bytes.toByteArray());
  }
}
