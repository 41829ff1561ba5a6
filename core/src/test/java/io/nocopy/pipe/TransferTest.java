package io.nocopy.pipe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.pipe.Net.Kind;
import io.nocopy.pipe.Net.Pair;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The zerocopy Transfer scenarios, ported and fixed; run on the splice path and the fallback. */
class TransferTest extends FdCheckedTest {
  @TempDir Path tmp;

  static Stream<Arguments> kindPairs() {
    return Stream.of(
        Arguments.of(Kind.TCP, Kind.TCP, 1 << 20),
        Arguments.of(Kind.TCP, Kind.UNIX, 200),
        Arguments.of(Kind.UNIX, Kind.TCP, 64 * 1024),
        Arguments.of(Kind.UNIX, Kind.UNIX, 3000));
  }

  @ParameterizedTest(name = "{0} -> {1}, writes of 1..{2} B")
  @MethodSource("kindPairs")
  void socketToSocket(Kind from, Kind to, int maxChunk) throws Exception {
    byte[] data = Net.random(3_000_000, from.ordinal() * 7 + to.ordinal());
    try (Pair s = Net.pair(from);
        Pair d = Net.pair(to)) {
      assertEquals(!Net.fallbackRun(), Transfer.accelerated(s.b(), d.a()));
      Future<Void> w = Net.writeAll(s.a(), data, maxChunk, 42);
      Future<byte[]> r = Net.readAll(d.b());
      long n = Transfer.transfer(s.b(), d.a());
      d.a().shutdownOutput();
      w.get();
      assertEquals(data.length, n);
      assertArrayEquals(data, r.get());
    }
  }

  @Test
  void theCallersAllocatorServesTheUserspacePaths() throws Exception {
    byte[] data = Net.random(300_000, 91);
    try (io.nocopy.memory.Allocator mine = io.nocopy.memory.Allocator.create()) {
      // channels without descriptors: the userspace path, whatever the acceleration
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      long n = Transfer.transfer(
          java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(data)),
          java.nio.channels.Channels.newChannel(out), Long.MAX_VALUE, mine);
      assertEquals(data.length, n);
      assertArrayEquals(data, out.toByteArray());
      assertTrue(mine.reservedBytes() > 0, "the transfer's block came from the caller's allocator");
      assertEquals(0, mine.inUse());
      try (Pipe p = Pipe.open(mine)) {
        java.io.ByteArrayOutputStream piped = new java.io.ByteArrayOutputStream();
        Future<Long> w = CompletableFuture.supplyAsync(() -> {
          try {
            return p.writeTo(java.nio.channels.Channels.newChannel(piped));
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }, Thread::startVirtualThread);
        p.readFrom(java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(data)));
        p.closeWrite();
        assertEquals(data.length, w.get(10, TimeUnit.SECONDS));
        assertArrayEquals(data, piped.toByteArray());
      }
      assertEquals(0, mine.inUse());
    }
  }

  @Test
  void socketToFile() throws Exception {
    byte[] data = Net.random(2_500_000, 3);
    Path file = tmp.resolve("out");
    try (Pair s = Net.pair(Kind.TCP);
        FileChannel fc = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      Future<Void> w = Net.writeAll(s.a(), data, 100_000, 5);
      long n = Transfer.transfer(s.b(), fc);
      w.get();
      assertEquals(data.length, n);
      assertEquals(data.length, fc.position());
    }
    assertArrayEquals(data, Files.readAllBytes(file));
  }

  @ParameterizedTest(name = "from offset {0}")
  @ValueSource(ints = {0, 1000})
  void fileToSocket(int offset) throws Exception {
    byte[] data = Net.random(2_000_000, 9);
    Path file = tmp.resolve("in");
    Files.write(file, data);
    try (Pair d = Net.pair(Kind.UNIX);
        FileChannel fc = FileChannel.open(file, StandardOpenOption.READ)) {
      fc.position(offset);
      Future<byte[]> r = Net.readAll(d.b());
      long n = Transfer.transfer(fc, d.a());
      d.a().shutdownOutput();
      assertEquals(data.length - offset, n);
      assertEquals(data.length, fc.position());
      assertArrayEquals(Arrays.copyOfRange(data, offset, data.length), r.get());
    }
  }

  @Test
  void fileToSocketWithLimit() throws Exception {
    byte[] data = Net.random(500_000, 10);
    Path file = tmp.resolve("in");
    Files.write(file, data);
    try (Pair d = Net.pair(Kind.TCP);
        FileChannel fc = FileChannel.open(file, StandardOpenOption.READ)) {
      Future<byte[]> r = Net.readAll(d.b());
      assertEquals(123_456, Transfer.transfer(fc, d.a(), 123_456));
      assertEquals(123_456, fc.position());
      d.a().shutdownOutput();
      assertArrayEquals(Arrays.copyOf(data, 123_456), r.get());
    }
  }

  @ParameterizedTest(name = "limit {0} of 100000")
  @ValueSource(longs = {0, 1, 4095, 99_999, 100_000, 100_001, Long.MAX_VALUE})
  void limits(long limit) throws Exception {
    byte[] data = Net.random(100_000, limit);
    try (Pair s = Net.pair(Kind.TCP);
        Pair d = Net.pair(Kind.TCP)) {
      Future<Void> w = Net.writeAll(s.a(), data, 30_000, 7);
      Future<byte[]> r = Net.readAll(d.b());
      long n = Transfer.transfer(s.b(), d.a(), limit);
      d.a().shutdownOutput();
      int expected = (int) Math.min(limit, data.length);
      assertEquals(expected, n);
      assertArrayEquals(Arrays.copyOf(data, expected), r.get());
      w.get();
      // the transfer read nothing beyond its limit: the rest is still in the source
      byte[] rest = Net.readAll(s.b()).get();
      assertArrayEquals(Arrays.copyOfRange(data, expected, data.length), rest);
    }
  }

  @Test
  void negativeLimitIsRejected() throws Exception {
    try (Pair s = Net.pair(Kind.TCP)) {
      assertThrows(IllegalArgumentException.class, () -> Transfer.transfer(s.a(), s.b(), -1));
    }
  }

  @Test
  void readerAlreadyAtEof() throws Exception {
    try (Pair s = Net.pair(Kind.TCP);
        Pair d = Net.pair(Kind.UNIX)) {
      s.a().shutdownOutput();
      Future<byte[]> r = Net.readAll(d.b());
      assertEquals(0, Transfer.transfer(s.b(), d.a()));
      assertEquals(0, Transfer.transfer(s.b(), d.a()));
      d.a().shutdownOutput();
      assertEquals(0, r.get().length);
    }
  }

  @Test
  void twoWayProxyEndsWhenBothSidesClose() throws Exception {
    byte[] data = Net.random(1_500_000, 11);
    try (Pair client = Net.pair(Kind.TCP);
        Pair server = Net.pair(Kind.TCP)) {
      // client.a = the client, client.b = proxy's accepted side; server.a = proxy's upstream
      Future<Long> up =
          CompletableFuture.supplyAsync(
              () -> proxyHalf(client.b(), server.a()), Thread::startVirtualThread);
      Future<Long> down =
          CompletableFuture.supplyAsync(
              () -> proxyHalf(server.a(), client.b()), Thread::startVirtualThread);
      Future<Void> echo = Net.echo(server.b());
      Future<byte[]> back = Net.readAll(client.a());
      Future<Void> w = Net.writeAll(client.a(), data, 5000, 12);
      w.get();
      assertArrayEquals(data, back.get(30, TimeUnit.SECONDS));
      echo.get(30, TimeUnit.SECONDS);
      assertEquals(data.length, up.get(30, TimeUnit.SECONDS));
      assertEquals(data.length, down.get(30, TimeUnit.SECONDS));
    }
  }

  private static long proxyHalf(SocketChannel from, SocketChannel to) {
    try {
      long n = Transfer.transfer(from, to);
      to.shutdownOutput();
      return n;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void twoHundredFiftySixMebibytesKeepTheirHash() throws Exception {
    long total = 256L << 20;
    try (Pair s = Net.pair(Kind.TCP);
        Pair d = Net.pair(Kind.TCP)) {
      Future<String> sent = Net.writeGenerated(s.a(), total, 256, () -> Net.shutdownOutput(s.a()));
      Future<String> got = Net.hashAll(d.b());
      assertEquals(total, Transfer.transfer(s.b(), d.a()));
      d.a().shutdownOutput();
      assertEquals(sent.get(), got.get());
    }
  }

  /** The long profile ({@code mvn -Plong}): 1 GiB through one transfer. */
  @Test
  @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "nocopy.test.long", matches = "true")
  void oneGibibyteKeepsItsHash() throws Exception {
    long total = 1L << 30;
    try (Pair s = Net.pair(Kind.UNIX);
        Pair d = Net.pair(Kind.TCP)) {
      Future<String> sent = Net.writeGenerated(s.a(), total, 1024, () -> Net.shutdownOutput(s.a()));
      Future<String> got = Net.hashAll(d.b());
      assertEquals(total, Transfer.transfer(s.b(), d.a()));
      d.a().shutdownOutput();
      assertEquals(sent.get(), got.get());
    }
  }

  @Test
  void splicePathReallySplices() throws Exception {
    long spliced = Accel.SPLICED.sum();
    long copied = Accel.COPIED.sum();
    long total = 16L << 20;
    try (Pair s = Net.pair(Kind.TCP);
        Pair d = Net.pair(Kind.UNIX)) {
      Future<String> sent = Net.writeGenerated(s.a(), total, 1, () -> Net.shutdownOutput(s.a()));
      Future<String> got = Net.hashAll(d.b());
      assertEquals(total, Transfer.transfer(s.b(), d.a()));
      d.a().shutdownOutput();
      assertEquals(sent.get(), got.get());
    }
    long splicedNow = Accel.SPLICED.sum() - spliced;
    long copiedNow = Accel.COPIED.sum() - copied;
    if (Net.fallbackRun()) {
      assertEquals(0, splicedNow, "the fallback must not splice");
      assertTrue(copiedNow >= total, "fallback copied " + copiedNow);
    } else {
      // the adaptive path may copy the first reads; bulk data must go through splice
      assertTrue(splicedNow >= total * 3 / 4, "spliced " + splicedNow + " of " + total);
      assertEquals(total, splicedNow + copiedNow);
    }
  }

  @Test
  void peerResetEndsTheTransferWithAnIOException() throws Exception {
    try (Pair s = Net.pair(Kind.TCP);
        Pair d = Net.pair(Kind.TCP)) {
      CompletableFuture<Void> w =
          CompletableFuture.runAsync(
              () -> {
                ByteBuffer bb = ByteBuffer.allocateDirect(64 * 1024);
                try {
                  for (int i = 0; i < 16 * 1024; i++) { // at most 1 GiB, ends at the close below
                    s.a().write(bb.clear());
                  }
                } catch (IOException expected) {
                  // the test closed the source side
                }
              },
              Thread::startVirtualThread);
      Future<Long> t =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return Transfer.transfer(s.b(), d.a());
                } catch (IOException e) {
                  throw new java.util.concurrent.CompletionException(e);
                }
              },
              Thread::startVirtualThread);
      ByteBuffer bb = ByteBuffer.allocate(100_000);
      while (bb.hasRemaining()) {
        d.b().read(bb);
      }
      d.b().setOption(StandardSocketOptions.SO_LINGER, 0);
      d.b().close(); // RST to the transfer's destination
      ExecutionException e = assertThrows(ExecutionException.class, () -> t.get(30, TimeUnit.SECONDS));
      assertInstanceOf(IOException.class, e.getCause());
      s.a().close();
      w.get(30, TimeUnit.SECONDS);
    }
  }

  enum Closer {
    SOURCE,
    DESTINATION
  }

  @ParameterizedTest(name = "close {0}")
  @ValueSource(strings = {"SOURCE", "DESTINATION"})
  void closeFromAnotherThreadIsPrompt(String which) throws Exception {
    Closer closer = Closer.valueOf(which);
    try (Pair s = Net.pair(Kind.TCP);
        Pair d = Net.pair(Kind.TCP)) {
      if (closer == Closer.DESTINATION) {
        // fill the destination (nobody reads d.b()) so the transfer blocks writing to it
        CompletableFuture.runAsync(
            () -> {
              ByteBuffer bb = ByteBuffer.allocateDirect(1 << 20);
              try {
                for (int i = 0; i < 1024; i++) { // ends at the close at the end of the test
                  s.a().write(bb.clear());
                }
              } catch (IOException expected) {
                // closed at the end of the test
              }
            },
            Thread::startVirtualThread);
      }
      CompletableFuture<Long> t = startTransfer(s.b(), d.a(), false);
      Thread.sleep(300); // let it block (on readiness, or inside the JDK read/write)
      assertFalse(t.isDone());
      long t0 = System.nanoTime();
      (closer == Closer.SOURCE ? s.b() : d.a()).close();
      ExecutionException e = assertThrows(ExecutionException.class, () -> t.get(10, TimeUnit.SECONDS));
      assertInstanceOf(AsynchronousCloseException.class, e.getCause());
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
    }
  }

  @ParameterizedTest(name = "virtual thread: {0}")
  @ValueSource(booleans = {false, true})
  void interruptIsPrompt(boolean virtual) throws Exception {
    try (Pair s = Net.pair(Kind.UNIX);
        Pair d = Net.pair(Kind.TCP)) {
      Thread[] th = new Thread[1];
      CompletableFuture<Long> t = new CompletableFuture<>();
      Runnable body =
          () -> {
            try {
              t.complete(Transfer.transfer(s.b(), d.a()));
            } catch (Throwable e) {
              t.completeExceptionally(e);
            }
          };
      th[0] = virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body);
      Thread.sleep(300);
      assertFalse(t.isDone());
      th[0].interrupt();
      ExecutionException e = assertThrows(ExecutionException.class, () -> t.get(10, TimeUnit.SECONDS));
      assertInstanceOf(ClosedByInterruptException.class, e.getCause());
      assertFalse(s.b().isOpen(), "an interrupted transfer closes its channels");
      th[0].join();
    }
  }

  private static CompletableFuture<Long> startTransfer(
      SocketChannel src, SocketChannel dst, boolean platform) {
    CompletableFuture<Long> f = new CompletableFuture<>();
    Runnable body =
        () -> {
          try {
            f.complete(Transfer.transfer(src, dst));
          } catch (Throwable e) {
            f.completeExceptionally(e);
          }
        };
    if (platform) {
      Thread.ofPlatform().start(body);
    } else {
      Thread.ofVirtual().start(body);
    }
    return f;
  }

  /**
   * No per-read buffers: what the transferring thread allocates grows by less than 1 KiB per MiB
   * moved (128 MiB versus 8 MiB, after a warm-up), on either path. A ByteBuffer or segment per
   * 4 KiB read would be 4+ KiB per MiB. The residue (~100-450 B per MiB, by the syscall rate) is
   * the JDK's, found with JFR allocation samples ({@code io.nocopy.bench.pipe.TransferAllocProbe}):
   * every downcall linked with {@code captureCallState} slices its capture segment ({@code
   * SharedUtils.checkCaptureSegment -> MemorySegment.asSlice}, one ~40 B segment object per call),
   * which C2's escape analysis removes but C1 does not; the syscall wrappers are called once per
   * splice of up to 1 MiB, so they stay in C1 (tier 3) code for the first GiBs
   * ({@code -XX:+PrintCompilation}: {@code Syscalls::splice} reached tier 4 after ~4 s of 1 MiB
   * splices) and allocate one segment per system call until then; nothing per byte.
   */
  @Test
  void bytesMovedDoNotAllocate() throws Exception {
    movedAllocating(64L << 20); // warm up classes, pools, the JIT (deoptimizations allocate)
    long small = movedAllocating(8L << 20);
    long large = movedAllocating(128L << 20);
    assertTrue(
        large - small < 120 * 1024,
        "transfer thread allocated " + small + " B for 8 MiB and " + large + " B for 128 MiB");
  }

  /** Bytes the transferring (platform) thread allocated while moving {@code total} bytes. */
  private static long movedAllocating(long total) throws Exception {
    var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    try (Pair s = Net.pair(Kind.TCP);
        Pair d = Net.pair(Kind.TCP)) {
      Future<String> sent = Net.writeGenerated(s.a(), total, 5, () -> Net.shutdownOutput(s.a()));
      Future<String> got = Net.hashAll(d.b());
      CompletableFuture<Long> alloc = new CompletableFuture<>();
      Thread.ofPlatform()
          .start(
              () -> {
                try {
                  long a0 = mx.getCurrentThreadAllocatedBytes();
                  long n = Transfer.transfer(s.b(), d.a());
                  long a1 = mx.getCurrentThreadAllocatedBytes();
                  assertEquals(total, n);
                  alloc.complete(a1 - a0);
                } catch (Throwable e) {
                  alloc.completeExceptionally(e);
                }
              });
      long bytes = alloc.get(60, TimeUnit.SECONDS);
      d.a().shutdownOutput();
      assertEquals(sent.get(), got.get());
      return bytes;
    }
  }

  @Test
  void aPipeReturnedWithBytesIsClosedNotReused() throws Exception {
    if (Net.fallbackRun()) {
      return; // no kernel pipes on the fallback
    }
    PipePool.drain();
    PipePool.Lease lease = PipePool.acquire();
    java.lang.foreign.MemorySegment b = java.lang.foreign.Arena.ofAuto().allocate(10);
    assertEquals(10, lease.sc.write(lease.pipe.w.fd, b.address(), 10));
    PipePool.release(lease, false); // what Transfer does when a splice out failed
    assertEquals(0, PipePool.idle());
    assertTrue(lease.pipe.r.closed() && lease.pipe.w.closed());
    PipePool.Lease next = PipePool.acquire();
    assertEquals(
        -io.nocopy.internal.linux.Syscalls.EAGAIN,
        next.sc.read(next.pipe.r.fd, b.address(), 10),
        "a fresh pipe holds no bytes");
    PipePool.release(next, true);
    assertEquals(1, PipePool.idle());
    PipePool.drain();
  }

  @Test
  void pipesGoBackToABoundedPool() throws Exception {
    if (Net.fallbackRun()) {
      return; // no kernel pipes on the fallback
    }
    PipePool.drain();
    for (int i = 0; i < 3; i++) {
      try (Pair s = Net.pair(Kind.TCP);
          Pair d = Net.pair(Kind.TCP)) {
        Future<Void> w = Net.writeAll(s.a(), Net.random(200_000, i), 65536, i);
        Future<byte[]> r = Net.readAll(d.b());
        Transfer.transfer(s.b(), d.a());
        d.a().shutdownOutput();
        w.get();
        r.get();
      }
      assertEquals(1, PipePool.idle(), "the one pipe is reused, not leaked or duplicated");
    }
  }
}
