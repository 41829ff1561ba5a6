package io.nocopy.pipe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.internal.linux.KernelPipe;
import io.nocopy.internal.linux.Syscalls;
import io.nocopy.pipe.Net.Kind;
import io.nocopy.pipe.Net.Pair;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Channels;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Pipe: readFrom/writeTo, tee chains, sizes, close and interrupt; splice path and fallback. */
class PipeTest extends FdCheckedTest {

  static <T> CompletableFuture<T> async(IoSupplier<T> body) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return body.get();
          } catch (IOException e) {
            throw new CompletionException(e);
          }
        },
        Thread::startVirtualThread);
  }

  interface IoSupplier<T> {
    T get() throws IOException;
  }

  @Test
  void readFromThenWriteToMovesEveryByte() throws Exception {
    byte[] data = Net.random(2_000_000, 1);
    try (Pipe p = Pipe.open();
        Pair s = Net.pair(Kind.TCP);
        Pair d = Net.pair(Kind.UNIX)) {
      assertEquals(!Net.fallbackRun(), p.accelerated());
      Future<Void> w = Net.writeAll(s.a(), data, 50_000, 2);
      Future<byte[]> r = Net.readAll(d.b());
      Future<Long> out = async(() -> p.writeTo(d.a()));
      assertEquals(data.length, p.readFrom(s.b()));
      p.closeWrite();
      assertEquals(data.length, out.get());
      d.a().shutdownOutput();
      w.get();
      assertArrayEquals(data, r.get());
    }
  }

  @ParameterizedTest(name = "chain of {0}")
  @ValueSource(ints = {1, 2, 3, 5, 10})
  void teeChainsDuplicateEverything(int n) throws Exception {
    byte[] data = Net.random(1_000_000, n);
    List<Pipe> pipes = new ArrayList<>();
    List<Pair> sinks = new ArrayList<>();
    try (Pair s = Net.pair(Kind.TCP)) {
      for (int i = 0; i < n; i++) {
        Pipe p = Pipe.open();
        if (i % 2 == 1) {
          p.bufferSize(4096); // small targets take partial tees
        }
        pipes.add(p);
        sinks.add(Net.pair(i % 2 == 0 ? Kind.TCP : Kind.UNIX));
        if (i > 0) {
          pipes.get(i - 1).tee(p);
        }
      }
      List<Future<byte[]>> got = new ArrayList<>();
      List<Future<Long>> written = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Pipe p = pipes.get(i);
        Pair sink = sinks.get(i);
        got.add(Net.readAll(sink.b()));
        written.add(
            async(
                () -> {
                  long m = p.writeTo(sink.a());
                  sink.a().shutdownOutput();
                  return m;
                }));
      }
      Future<Void> w = Net.writeAll(s.a(), data, 70_000, 3);
      assertEquals(data.length, pipes.get(0).readFrom(s.b()));
      pipes.get(0).closeWrite(); // propagates down the chain
      w.get();
      for (int i = 0; i < n; i++) {
        assertEquals(data.length, written.get(i).get(30, TimeUnit.SECONDS), "pipe " + i);
        assertArrayEquals(data, got.get(i).get(30, TimeUnit.SECONDS), "sink " + i);
      }
    } finally {
      for (Pipe p : pipes) {
        p.close();
      }
      for (Pair p : sinks) {
        p.close();
      }
    }
  }

  @Test
  void partialTeesAreCompletedThroughTheSpillPipe() throws Exception {
    long spills = Accel.SPILLED.sum();
    byte[] data = Net.random(3_000_000, 77);
    try (Pipe main = Pipe.open();
        Pipe small = Pipe.open();
        Pair s = Net.pair(Kind.TCP);
        Pair d1 = Net.pair(Kind.TCP);
        Pair d2 = Net.pair(Kind.TCP)) {
      small.bufferSize(4096);
      main.tee(small);
      Future<byte[]> r1 = Net.readAll(d1.b());
      Future<byte[]> r2 = slowReader(d2.b());
      Future<Long> w1 = async(() -> main.writeTo(d1.a()));
      Future<Long> w2 = async(() -> small.writeTo(d2.a()));
      Future<Void> w = Net.writeAll(s.a(), data, 1 << 20, 4);
      main.readFrom(s.b());
      main.closeWrite();
      w.get();
      assertEquals(data.length, w1.get());
      assertEquals(data.length, w2.get());
      d1.a().shutdownOutput();
      d2.a().shutdownOutput();
      assertArrayEquals(data, r1.get());
      assertArrayEquals(data, r2.get());
    }
    if (!Net.fallbackRun()) {
      assertTrue(Accel.SPILLED.sum() > spills, "no tee was partial: the spill path is untested");
    }
  }

  /** Reads in small pieces so the writer's pipe stays nearly full. */
  private static Future<byte[]> slowReader(ReadableByteChannel ch) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer bb = ByteBuffer.allocate(1500);
            while (ch.read(bb.clear()) >= 0) {
              out.write(bb.array(), 0, bb.position());
              Thread.yield();
            }
            return out.toByteArray();
          } catch (IOException e) {
            throw new CompletionException(e);
          }
        },
        Thread::startVirtualThread);
  }

  @Test
  void channelsWithoutDescriptorsGoThroughBlocks() throws Exception {
    byte[] data = Net.random(700_000, 5);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (Pipe p = Pipe.open()) {
      var out = Channels.newChannel(sink);
      Future<Long> w = async(() -> p.writeTo(out));
      assertEquals(data.length, p.readFrom(Channels.newChannel(new ByteArrayInputStream(data))));
      p.closeWrite();
      assertEquals(data.length, w.get());
    }
    assertArrayEquals(data, sink.toByteArray());
  }

  @Test
  void transferBetweenChannelsWithoutDescriptors() throws Exception {
    byte[] data = Net.random(300_000, 6);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (Pair s = Net.pair(Kind.TCP)) {
      assertFalse(Transfer.accelerated(s.b(), Channels.newChannel(sink)));
      Future<Void> w = Net.writeAll(s.a(), data, 9000, 6);
      assertEquals(data.length, Transfer.transfer(s.b(), Channels.newChannel(sink)));
      w.get();
    }
    assertArrayEquals(data, sink.toByteArray());
  }

  @Test
  void bufferSizeCanGrow() throws Exception {
    try (Pipe p = Pipe.open()) {
      assertTrue(p.bufferSize() > 0);
      p.bufferSize(1 << 20);
      assertTrue(p.bufferSize() >= 1 << 20, "size " + p.bufferSize());
      assertThrows(IllegalArgumentException.class, () -> p.bufferSize(0));
    }
  }

  @Test
  void resizeRefusalNamesTheLimit() {
    IOException e = KernelPipe.resizeFailure(1 << 30, Syscalls.EPERM);
    assertTrue(e.getMessage().contains("/proc/sys/fs/pipe-max-size"), e.getMessage());
    assertTrue(KernelPipe.resizeFailure(4096, Syscalls.EBUSY).getMessage().contains("EBUSY"));
  }

  @Test
  void closingThePipeEndsAWaitingWriteTo() throws Exception {
    try (Pair d = Net.pair(Kind.TCP)) {
      Pipe p = Pipe.open();
      CompletableFuture<Long> w = async(() -> p.writeTo(d.a()));
      Thread.sleep(300);
      assertFalse(w.isDone());
      p.close();
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> w.get(10, TimeUnit.SECONDS));
      assertInstanceOf(AsynchronousCloseException.class, e.getCause());
    }
  }

  @Test
  void interruptEndsAWaitingWriteTo() throws Exception {
    try (Pipe p = Pipe.open();
        Pair d = Net.pair(Kind.UNIX)) {
      CompletableFuture<Throwable> f = new CompletableFuture<>();
      Thread t =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      p.writeTo(d.a());
                      f.complete(null);
                    } catch (Throwable e) {
                      f.complete(e);
                    }
                  });
      Thread.sleep(300);
      t.interrupt();
      assertInstanceOf(ClosedByInterruptException.class, f.get(10, TimeUnit.SECONDS));
      t.join();
    }
  }

  @Test
  void oneReaderAtATime() throws Exception {
    try (Pipe p = Pipe.open();
        Pair s = Net.pair(Kind.TCP)) {
      CompletableFuture<Long> r = async(() -> p.readFrom(s.b()));
      Thread.sleep(200);
      assertThrows(IllegalStateException.class, () -> p.readFrom(s.b()));
      s.a().shutdownOutput();
      assertEquals(0, r.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void teeCyclesAreRejected() throws Exception {
    try (Pipe a = Pipe.open();
        Pipe b = Pipe.open()) {
      a.tee(b);
      assertThrows(IllegalArgumentException.class, () -> b.tee(a));
      assertThrows(IllegalArgumentException.class, () -> a.tee(a));
    }
  }
}
