package io.nocopy.pipe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nocopy.pipe.Fanout.Reason;
import io.nocopy.pipe.Fanout.Sink;
import io.nocopy.pipe.Net.Kind;
import io.nocopy.pipe.Net.Pair;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Fanout's burst (recent past for late sinks) and leading (read-ahead) bytes, on both paths. */
class FanoutBurstTest extends FdCheckedTest {

  private static void write(Pair s, byte[] data, int from, int to) throws Exception {
    ByteBuffer bb = ByteBuffer.wrap(data, from, to - from);
    while (bb.hasRemaining()) {
      s.a().write(bb);
    }
  }

  @Test
  void aLateSinkGetsTheLastBurstBytesThenTheLiveStreamExactly() throws Exception {
    int burst = 64 * 1024;
    byte[] data = Net.random(1_500_000, 51);
    int joinAt = 700_000;
    FanoutTest.Events ev = new FanoutTest.Events();
    try (Pair s = Net.pair(Kind.TCP);
        Pair early = Net.pair(Kind.TCP);
        Pair late = Net.pair(Kind.UNIX);
        Fanout f = Fanout.builder().burst(burst).listener(ev).open(s.b())) {
      Future<byte[]> gotEarly = Net.readAll(early.b());
      Future<byte[]> gotLate = Net.readAll(late.b());
      Sink e = f.add(early.a());
      f.start();
      // in pieces at about 10 MB/s, as a live source delivers (an unpaced one may outrun the
      // early sink's writer by the whole bound on a loaded machine, which drops it by design)
      for (int off = 0; off < joinAt; off += 10_000) {
        write(s, data, off, Math.min(joinAt, off + 10_000));
        Thread.sleep(1);
      }
      FanoutTest.await(() -> f.bytesIn() == joinAt, "the first part read");
      Sink l = f.add(late.a());
      for (int off = joinAt; off < data.length; off += 10_000) {
        write(s, data, off, Math.min(data.length, off + 10_000));
        Thread.sleep(1);
      }
      s.a().shutdownOutput();
      f.join();
      assertEquals(Reason.FINISHED, e.reason());
      assertEquals(Reason.FINISHED, l.reason());
      early.a().shutdownOutput();
      late.a().shutdownOutput();
      assertArrayEquals(data, gotEarly.get());
      assertArrayEquals(Arrays.copyOfRange(data, joinAt - burst, data.length), gotLate.get(),
          "exactly the last " + burst + " bytes before joining, then everything after");
    }
  }

  @Test
  void aSinkAddedBeforeAnyByteGetsNoBurstAndAShortStreamIsAllBurst() throws Exception {
    byte[] small = Net.random(5000, 52);
    try (Pair s = Net.pair(Kind.TCP);
        Pair late = Net.pair(Kind.TCP);
        Fanout f = Fanout.builder().burst(64 * 1024).open(s.b())) {
      Future<byte[]> gotLate = Net.readAll(late.b());
      f.start();
      write(s, small, 0, small.length);
      FanoutTest.await(() -> f.bytesIn() == small.length, "read");
      f.add(late.a());
      s.a().shutdownOutput();
      f.join();
      late.a().shutdownOutput();
      assertArrayEquals(small, gotLate.get(), "the whole (short) stream as burst, once");
    }
  }

  @Test
  void leadingBytesComeFirstForEverySink() throws Exception {
    byte[] ahead = Net.random(20_000, 53);
    byte[] rest = Net.random(300_000, 54);
    try (Pair s = Net.pair(Kind.TCP);
        Pair a = Net.pair(Kind.TCP);
        Pair late = Net.pair(Kind.TCP);
        Fanout f = Fanout.builder().burst(8192).leading(ByteBuffer.wrap(ahead)).open(s.b())) {
      Future<byte[]> gotA = Net.readAll(a.b());
      Future<byte[]> gotLate = Net.readAll(late.b());
      f.add(a.a());
      f.start();
      FanoutTest.await(() -> f.bytesIn() == ahead.length, "leading bytes delivered");
      f.add(late.a());
      write(s, rest, 0, rest.length);
      s.a().shutdownOutput();
      f.join();
      a.a().shutdownOutput();
      late.a().shutdownOutput();
      byte[] all = Arrays.copyOf(ahead, ahead.length + rest.length);
      System.arraycopy(rest, 0, all, ahead.length, rest.length);
      assertArrayEquals(all, gotA.get());
      assertArrayEquals(Arrays.copyOfRange(all, ahead.length - 8192, all.length), gotLate.get());
      assertEquals(all.length, f.bytesIn());
    }
  }

  @Test
  void burstLargerThanTheBoundIsRejected() throws Exception {
    try (Pair s = Net.pair(Kind.TCP)) {
      assertThrows(IllegalArgumentException.class,
          () -> Fanout.builder().sinkBound(65536).burst(65537).open(s.b()));
      assertThrows(IllegalArgumentException.class, () -> Fanout.builder().burst(-1));
    }
  }
}
