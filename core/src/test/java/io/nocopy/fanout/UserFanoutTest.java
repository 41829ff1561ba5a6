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
