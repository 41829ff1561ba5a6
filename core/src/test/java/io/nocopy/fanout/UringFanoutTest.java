package io.nocopy.fanout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nocopy.pipe.Net;
import io.nocopy.pipe.Net.Kind;
import io.nocopy.pipe.Net.Pair;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fan-out contract (and the userspace transport's own tests) once more with the source
 * thread's direct writes batched through io_uring, and what only batching does.
 */
class UringFanoutTest extends UserFanoutTest {
  @BeforeAll
  static void ioUringWorks() {
    // io_uring, and the socket descriptors the sends need (the build's run without add-opens has
    // none: the fan-out does not batch there, and UserFanoutTest covers it)
    assumeTrue(Fanout.whyNoIoUring() == null,
        () -> "io_uring sends unavailable: " + Fanout.whyNoIoUring());
  }

  @Override
  Fanout.Builder builder() {
    return super.builder().ioUring(true);
  }

  @Override
  long allocationPerChunkLimit() {
    // a step's io_uring_enter downcall: about 40 B a step in this short run (its captured-state
    // argument escapes until the JIT has compiled the call), under 8 B in the harness's long runs
    return 64;
  }

  @Test
  void idleSinksAreWrittenByBatchedSendsAndSlowOnesByTheirWriters() throws Exception {
    byte[] data = Net.random(3_000_000, 91);
    Events ev = new Events();
    List<Pair> pairs = new ArrayList<>();
    try (Pair s = Net.pair(Kind.TCP);
        Fanout f = builder().listener(ev).sinkBound(8 << 20).open(Source.channel(s.b()))) {
      assertTrue(f.ioUring());
      List<Sink> sinks = new ArrayList<>();
      List<Future<byte[]>> got = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        Pair p = Net.pair(i % 2 == 0 ? Kind.TCP : Kind.UNIX);
        pairs.add(p);
        sinks.add(f.add(p.a()));
        if (i != 5) {
          got.add(Net.readAll(p.b()));
        }
      }
      f.start();
      Net.writePaced(s.a(), data, 16 * 1024).get();
      // the last sink's reader starts late: its sends came back short or EAGAIN and its writer
      // took the remainders over, in order
      Future<byte[]> late = Net.readAll(pairs.get(5).b());
      f.join();
      for (int i = 0; i < 6; i++) {
        Sink sk = sinks.get(i);
        assertEquals(Reason.FINISHED, sk.reason(), "sink " + i);
        pairs.get(i).a().shutdownOutput();
        byte[] bytes = (i == 5 ? late : got.get(i)).get(10, TimeUnit.SECONDS);
        assertArrayEquals(data, bytes, "sink " + i);
      }
      FanoutStats st = f.stats();
      assertTrue(st.bytesDirect() > 0, "some chunks went out in batches");
      assertTrue(sinks.get(5).bytesWritten() - sinks.get(5).bytesDirect() > 0,
          "the late sink's writer wrote part of its stream");
      assertEquals(6L * data.length, st.bytesDirect() + st.bytesByWriters());
    } finally {
      for (Pair p : pairs) {
        p.close();
      }
    }
  }

  @Test
  void sinksWithInsertionsAreBatchedWithTheInsertedBytesInPlace() throws Exception {
    byte[] data = Net.random(2_000_000, 93);
    byte[] header = "OggS-header-pages".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    // a few insertions per chunk go out in one send with the chunk's pieces; a thousand-byte
    // interval gives more pieces than one send takes, written directly in order; the last sink
    // has a replayed header too and its reader starts late, so its writer takes over the rest
    long[] metaints = {7_000, 1_000, 100_000};
    List<Pair> pairs = new ArrayList<>();
    try (Pair s = Net.pair(Kind.TCP);
        Fanout f = builder().sinkBound(8 << 20).open(Source.channel(s.b()))) {
      List<Sink> sinks = new ArrayList<>();
      List<Future<byte[]>> got = new ArrayList<>();
      int late = metaints.length; // read only once the source ended: its sends come back short
      for (int i = 0; i <= metaints.length; i++) {
        Pair p = Net.pair(i % 2 == 0 ? Kind.TCP : Kind.UNIX);
        pairs.add(p);
        got.add(i == late ? null : Net.readAll(p.b()));
        SinkBuilder b = f.sink(p.a());
        if (i < metaints.length) {
          b.insert(every(metaints[i]));
        } else {
          b.header(ByteBuffer.wrap(header)).insert(every(metaints[0])); // header, then insertions
        }
        sinks.add(b.add());
      }
      f.start();
      Net.writePaced(s.a(), data, 16 * 1024).get();
      got.set(late, Net.readAll(pairs.get(late).b()));
      f.join();
      for (int i = 0; i <= metaints.length; i++) {
        assertEquals(Reason.FINISHED, sinks.get(i).reason(), "sink " + i);
        pairs.get(i).a().shutdownOutput();
        byte[] expect = i < metaints.length ? expected(new byte[0], data, metaints[i])
            : expected(header, data, metaints[0]);
        assertArrayEquals(expect, got.get(i).get(10, TimeUnit.SECONDS), "sink " + i);
      }
      assertTrue(f.sends.hookedSends() > 0, "sinks with insertions were sent in batches");
      Sink l = sinks.get(late);
      assertTrue(l.bytesWritten() - l.bytesDirect() > 0,
          "the late sink's writer wrote the rest of its short sends, insertions included");
      assertTrue(sinks.get(0).bytesDirect() > data.length / 2,
          "the sink with a few insertions per chunk was written by the source thread: "
              + sinks.get(0).bytesDirect());
      assertTrue(f.stats().bytesInserted() > 0);
    } finally {
      for (Pair p : pairs) {
        p.close();
      }
    }
  }

  @Test
  void aBatchedSinkHoldsOneDescriptorAndLeavingFreesItsSlot() throws Exception {
    int n = 16;
    byte[] first = Net.random(400_000, 95);
    byte[] second = Net.random(300_000, 96);
    List<Pair> pairs = new ArrayList<>();
    try (Pair s = Net.pair(Kind.TCP);
        Fanout f = builder().sinkBound(8 << 20).open(Source.channel(s.b()))) {
      List<Sink> sinks = new ArrayList<>();
      List<Future<byte[]>> got = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Pair p = Net.pair(Kind.TCP);
        pairs.add(p);
        sinks.add(f.add(p.a()));
        got.add(Net.readAll(p.b()));
      }
      long before = Net.openFds();
      f.start();
      feed(s.a(), first); // the source stays open
      for (Sink sk : sinks) {
        FanoutContract.await(() -> sk.bytesWritten() == first.length && sk.backlog() == 0,
            "every sink to have the first part");
      }
      // each socket is named by its slot, and a writer without a backlog keeps no duplicate:
      // only the ring's own descriptor (and the JDK's pollers) were added, not one per sink
      long added = Net.openFds() - before;
      assertTrue(added < n / 2, "descriptors added while " + n + " sinks were served: " + added);
      assertEquals(n, f.sends.slotsInUse(), "each sink's socket is in a slot of the ring's table");
      // half of them leave, their channels closed as a server does: the table must not keep
      // their sockets open, so their peers read to the end
      for (int i = 0; i < n / 2; i++) {
        sinks.get(i).remove();
        pairs.get(i).a().close();
      }
      for (int i = 0; i < n / 2; i++) {
        assertArrayEquals(first, got.get(i).get(10, TimeUnit.SECONDS), "sink " + i);
      }
      FanoutContract.await(() -> f.sends.slotsInUse() == n / 2, "the leavers' slots to be free");
      Net.writePaced(s.a(), second, 16 * 1024).get(); // then shuts the source's output
      f.join();
      byte[] both = new byte[first.length + second.length];
      System.arraycopy(first, 0, both, 0, first.length);
      System.arraycopy(second, 0, both, first.length, second.length);
      for (int i = n / 2; i < n; i++) {
        assertEquals(Reason.FINISHED, sinks.get(i).reason(), "sink " + i);
        pairs.get(i).a().shutdownOutput();
        assertArrayEquals(both, got.get(i).get(10, TimeUnit.SECONDS), "sink " + i);
      }
    } finally {
      for (Pair p : pairs) {
        p.close();
      }
    }
  }

  @Test
  void sinksThatComeAndGoNeverShareOrKeepASlot() throws Exception {
    // listeners join and leave while the stream runs: a slot released twice would be handed to
    // two sinks (one of them then gets the other's bytes), one never released would keep its
    // socket open and the table would run out; every byte each sink got is checked
    byte[] data = Net.random(6_000_000, 97);
    int stayers = 3;
    int churners = 120;
    List<Pair> pairs = new ArrayList<>();
    long churnersSent = 0;
    try (Pair s = Net.pair(Kind.TCP);
        Fanout f = builder().sinkBound(16 << 20).open(Source.channel(s.b()))) {
      List<Sink> stay = new ArrayList<>();
      List<Future<byte[]>> got = new ArrayList<>();
      for (int i = 0; i < stayers; i++) {
        Pair p = Net.pair(Kind.TCP);
        pairs.add(p);
        stay.add(f.add(p.a()));
        got.add(Net.readAll(p.b()));
      }
      long before = Net.openFds();
      f.start();
      Future<byte[]> feeding = Net.writePaced(s.a(), data, 8 * 1024); // about 0.75 s
      for (int i = 0; i < churners; i++) {
        try (Pair p = Net.pair(Kind.TCP)) {
          Future<byte[]> read = Net.readAll(p.b());
          Sink sk;
          try {
            sk = f.add(p.a());
          } catch (IllegalStateException ended) {
            break; // the source ended first
          }
          Thread.sleep(i % 3); // a send or two, or none
          sk.remove();
          p.a().close(); // as a server does: the peer must then read to the end
          byte[] b = read.get(10, TimeUnit.SECONDS);
          churnersSent += sk.bytesDirect();
          long from = sk.startPosition();
          assertTrue(from + b.length <= data.length, "churner " + i + " got more than the stream");
          assertArrayEquals(java.util.Arrays.copyOfRange(data, (int) from, (int) from + b.length), b,
              "churner " + i + " from " + from);
        }
      }
      assertTrue(churnersSent > 0, "the churners were sent to by batched sends");
      FanoutContract.await(() -> f.sends.slotsInUse() <= stayers, "the churners' slots to be free");
      assertTrue(Net.openFds() - before < 8, "descriptors left: " + (Net.openFds() - before));
      feeding.get(20, TimeUnit.SECONDS);
      f.join();
      for (int i = 0; i < stayers; i++) {
        assertEquals(Reason.FINISHED, stay.get(i).reason(), "stayer " + i);
        pairs.get(i).a().shutdownOutput();
        assertArrayEquals(data, got.get(i).get(10, TimeUnit.SECONDS), "stayer " + i);
      }
    } finally {
      for (Pair p : pairs) {
        p.close();
      }
    }
  }

  /** Writes {@code data} to the source in 16 KiB pieces a millisecond apart, leaving it open. */
  private static void feed(java.nio.channels.SocketChannel ch, byte[] data) throws Exception {
    for (int off = 0; off < data.length; off += 16 * 1024) {
      ByteBuffer b = ByteBuffer.wrap(data, off, Math.min(16 * 1024, data.length - off));
      while (b.hasRemaining()) {
        ch.write(b);
      }
      Thread.sleep(1);
    }
  }

  @Test
  void withoutTheOptionNothingIsBatched() throws Exception {
    try (Pair s = Net.pair(Kind.TCP);
        Fanout f = Fanout.builder().transport(TransportKind.USERSPACE).ioUring(false)
            .open(Source.channel(s.b()))) {
      assertFalse(f.ioUring());
    }
    if (!io.nocopy.internal.linux.Native.ACCELERATED) {
      return;
    }
    try (Pair s = Net.pair(Kind.TCP);
        Fanout f = Fanout.builder().transport(TransportKind.KERNEL).ioUring(true)
            .open(Source.channel(s.b()))) {
      assertFalse(f.ioUring(), "the kernel transport does not batch");
    }
  }
}
