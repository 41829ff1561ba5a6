package io.nocopy.fanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nocopy.internal.linux.Native;
import io.nocopy.pipe.Net;
import io.nocopy.pipe.Net.Kind;
import io.nocopy.pipe.Net.Pair;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fan-out contract on the kernel transport (tee + splice), and its per-sink fallback. */
class KernelFanoutTest extends FanoutContract {
  @BeforeEach
  void needsAcceleration() {
    assumeTrue(Native.ACCELERATED, "splice acceleration is off: " + Native.whyNot());
  }

  @Override
  long allocationPerChunkLimit() {
    return 64; // nothing per sink (a tee and a splice each), a few bytes per chunk at most
  }

  @Override
  TransportKind kind() {
    return TransportKind.KERNEL;
  }

  @Test
  void aSinkWithoutADescriptorFallsBackToUserspaceUnlessKernelIsAsked() throws Exception {
    try (Pair s = Net.pair(Kind.TCP);
        WritableByteChannel out = Channels.newChannel(new ByteArrayOutputStream());
        Fanout f = builder().open(Source.channel(s.b()))) {
      assertThrows(IllegalArgumentException.class,
          () -> f.sink(out).transport(TransportKind.KERNEL).add());
      Sink fallback = f.add(out);
      assertEquals(TransportKind.USERSPACE, fallback.transport());
      assertEquals(TransportKind.KERNEL, f.transport());
    }
  }

  @Test
  void sinksBeyondThePipeBudgetTakeTheUserspacePath() throws Exception {
    int bound = 256 * 1024;
    long charge = PipeBudget.charge(bound);
    PipeBudget small = new PipeBudget(2 * charge);
    int fdsAtStart = Net.fdTargets().size();
    PipeBudget old = PipeBudget.replaceUser(small);
    java.util.List<Pair> pairs = new java.util.ArrayList<>();
    try (Pair s = Net.pair(Kind.TCP);
        Fanout f = builder().sinkBound(bound).open(Source.channel(s.b()))) {
      java.util.List<Sink> sinks = new java.util.ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Pair p = Net.pair(Kind.TCP);
        pairs.add(p);
        sinks.add(f.add(p.a()));
      }
      assertEquals(TransportKind.KERNEL, sinks.get(0).transport());
      assertEquals(TransportKind.KERNEL, sinks.get(1).transport());
      assertEquals(TransportKind.USERSPACE, sinks.get(2).transport(), "beyond the budget");
      assertEquals(TransportKind.USERSPACE, sinks.get(3).transport(), "beyond the budget");
      assertEquals(2 * charge, small.used());
      Pair p = Net.pair(Kind.TCP);
      pairs.add(p);
      Sink forced = f.sink(p.a()).transport(TransportKind.KERNEL).add();
      assertEquals(TransportKind.KERNEL, forced.transport(), "a sink that asks for the kernel gets it");
      assertEquals(3 * charge, small.used());
      sinks.get(0).remove();
      forced.remove();
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (small.used() != charge && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(charge, small.used(), "a removed sink gives its pipe's pages back");
      Pair q = Net.pair(Kind.TCP);
      pairs.add(q);
      assertEquals(TransportKind.KERNEL, f.add(q.a()).transport(), "room again");
    } finally {
      PipeBudget.replaceUser(old);
      for (Pair p : pairs) {
        p.close();
      }
    }
    assertEquals(0, small.used(), "every sink's pages are given back when the fan-out closes");
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (Net.fdTargets().size() > fdsAtStart && System.nanoTime() < deadline) {
      Thread.sleep(10); // the removed sinks' writers close their descriptors on their own threads
    }
    assertEquals(fdsAtStart, Net.fdTargets().size(), "descriptors back: " + Net.fdTargets());
  }

  @Test
  void pipeBudgetArithmetic() {
    assertEquals(4096, PipeBudget.charge(1));
    assertEquals(65536, PipeBudget.charge(65536));
    assertEquals(131072, PipeBudget.charge(65537));
    assertEquals(524288, PipeBudget.charge(400_000));
    assertEquals(16384L * 4096 / 4 * 3, PipeBudget.forSinks(16384, false));
    assertEquals(Long.MAX_VALUE, PipeBudget.forSinks(16384, true));
    assertEquals(Long.MAX_VALUE, PipeBudget.forSinks(0, false));
    PipeBudget b = new PipeBudget(10);
    assertEquals(true, b.take(6));
    assertEquals(false, b.take(5));
    b.give(6);
    assertEquals(true, b.take(10));
    b.force(5);
    assertEquals(15, b.used());
  }
}
