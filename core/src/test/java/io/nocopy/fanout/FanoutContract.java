package io.nocopy.fanout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.buffer.BufWriter;
import io.nocopy.buffer.Slice;
import io.nocopy.internal.linux.Native;
import io.nocopy.pipe.FdCheckedTest;
import io.nocopy.pipe.Net;
import io.nocopy.pipe.Net.Kind;
import io.nocopy.pipe.Net.Pair;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The fan-out's contract, run once per transport: every sink gets the stream, sinks come and go,
 * slow sinks are dropped alone, the burst and read-ahead bytes come first without a gap or a
 * duplicate, the source thread writes to sinks that keep up.
 */
abstract class FanoutContract extends FdCheckedTest {

  /** The transport under test. */
  abstract TransportKind kind();

  /** A builder for the transport under test. */
  Fanout.Builder builder() {
    return Fanout.builder().transport(kind());
  }

  /** Records what the fan-out reports. */
  static final class Events implements FanoutListener {
    final Map<Sink, Reason> reasons = new ConcurrentHashMap<>();
    final CountDownLatch sourceEnded = new CountDownLatch(1);
    volatile long sourceBytes = -1;
    volatile IOException sourceError;

    @Override
    public void sinkClosed(Sink sink, Reason reason, IOException error) {
      reasons.put(sink, reason);
      if (error != null && reason != Reason.FAILED) {
        throw new AssertionError("error without FAILED", error);
      }
    }

    @Override
    public void sourceEnded(long bytes, IOException error) {
      sourceBytes = bytes;
      sourceError = error;
      sourceEnded.countDown();
    }
  }

  /** Waits (bounded) for a condition another thread makes true. */
  static void await(BooleanSupplier cond, String what) throws InterruptedException {
    for (int i = 0; i < 20_000 && !cond.getAsBoolean(); i++) {
      Thread.sleep(1);
    }
    assertTrue(cond.getAsBoolean(), "timed out waiting for " + what);
  }

  static void write(Pair s, byte[] data, int from, int to) throws IOException {
    ByteBuffer bb = ByteBuffer.wrap(data, from, to - from);
    while (bb.hasRemaining()) {
      s.a().write(bb);
    }
  }

  /** Writes in pieces at about 10 MB/s, as a live source delivers. */
  static void writeLive(Pair s, byte[] data, int from, int to) throws Exception {
    for (int off = from; off < to; off += 10_000) {
      write(s, data, off, Math.min(to, off + 10_000));
      Thread.sleep(1);
    }
  }

  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] c = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, c, at, p.length);
      at += p.length;
    }
    return c;
  }

  static Slice sliceOf(byte[] bytes) throws IOException {
    try (BufWriter w = BufWriter.of(Native.sharedAllocator())) {
      return w.write(bytes).toSlice();
    }
  }

  @Test
  void everySinkGetsEveryByte() throws Exception {
    byte[] data = Net.random(2_000_000, 21);
    Events ev = new Events();
    List<Pair> pairs = new ArrayList<>();
    try (Pair s = Net.pair(Kind.TCP);
        Fanout f = builder().listener(ev).open(Source.channel(s.b()))) {
      assertEquals(kind(), f.transport());
      List<Sink> sinks = new ArrayList<>();
      List<Future<byte[]>> got = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        Pair p = Net.pair(i % 2 == 0 ? Kind.TCP : Kind.UNIX);
        pairs.add(p);
        got.add(Net.readAll(p.b()));
        sinks.add(f.add(p.a()));
      }
      f.start();
      // a live source (8 KiB per millisecond): an unpaced one on a loaded machine may outrun a
      // sink's thread by the whole bound, which is a drop by design
      Net.writePaced(s.a(), data, 8 * 1024).get();
      f.join();
      assertTrue(ev.sourceEnded.await(10, TimeUnit.SECONDS));
      assertEquals(data.length, ev.sourceBytes);
      assertNull(ev.sourceError);
      for (int i = 0; i < 5; i++) {
        Sink sk = sinks.get(i);
        assertEquals(Reason.FINISHED, ev.reasons.get(sk), "sink " + i);
        assertEquals(Reason.FINISHED, sk.reason());
        assertEquals(kind(), sk.transport());
        assertEquals(data.length, sk.bytesWritten());
        pairs.get(i).a().shutdownOutput();
        assertArrayEquals(data, got.get(i).get(10, TimeUnit.SECONDS), "sink " + i);
      }
      assertEquals(0, f.sinks().size());
      FanoutStats st = f.stats();
      assertEquals(data.length, st.bytesIn());
      assertEquals(5, st.sinksAdded());
      assertEquals(5L * data.length, st.bytesDirect() + st.bytesByWriters());
      assertThrows(IllegalStateException.class, () -> f.add(pairs.get(0).a()));
    } finally {
      for (Pair p : pairs) {
        p.close();
      }
    }
  }

  @Test
  void sinksJoinAndLeaveMidStreamWithAPrefix() throws Exception {
    byte[] part1 = Net.random(1_000_000, 31);
    byte[] part2 = Net.random(1_000_000, 32);
    byte[] header = "ICY 200 OK\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    Events ev = new Events();
    try (Pair s = Net.pair(Kind.TCP);
        Pair stay = Net.pair(Kind.TCP);
        Pair leave = Net.pair(Kind.UNIX);
        Pair join = Net.pair(Kind.TCP);
        Fanout f = builder().listener(ev).open(Source.channel(s.b()))) {
      Future<byte[]> gotStay = Net.readAll(stay.b());
      Future<byte[]> gotLeave = Net.readAll(leave.b());
      Future<byte[]> gotJoin = Net.readAll(join.b());
      Sink st = f.add(stay.a());
      Sink lv = f.add(leave.a());
      f.start();
      write(s, part1, 0, part1.length);
      await(() -> f.bytesIn() == part1.length && lv.bytesWritten() == part1.length, "part 1");
      lv.remove();
      await(() -> !lv.isOpen(), "the removed sink to end");
      Sink jn = f.sink(join.a()).prefix(ByteBuffer.wrap(header)).add();
      write(s, part2, 0, part2.length);
      s.a().shutdownOutput();
      f.join();
      assertEquals(Reason.REMOVED, ev.reasons.get(lv));
      assertEquals(Reason.FINISHED, ev.reasons.get(st));
      assertEquals(Reason.FINISHED, ev.reasons.get(jn));
      stay.a().shutdownOutput();
      leave.a().shutdownOutput();
      join.a().shutdownOutput();
      assertArrayEquals(concat(part1, part2), gotStay.get());
      assertArrayEquals(part1, gotLeave.get());
      assertArrayEquals(concat(header, part2), gotJoin.get());
      assertEquals(header.length + part2.length, jn.bytesWritten());
      assertEquals(header.length, jn.prefixLength());
    }
  }

  @Test
  void aSlowSinkIsDroppedWithoutSlowingTheOthers() throws Exception {
    long total = 6L << 20;
    Events ev = new Events();
    try (Pair s = Net.pair(Kind.TCP);
        Pair fast = Net.pair(Kind.TCP);
        Pair slow = Net.pair(Kind.TCP);
        Fanout f = builder().listener(ev).open(Source.channel(s.b()))) {
      slow.a().setOption(StandardSocketOptions.SO_SNDBUF, 16 * 1024);
      slow.b().setOption(StandardSocketOptions.SO_RCVBUF, 16 * 1024);
      Future<String> gotFast = Net.hashAll(fast.b());
      Sink fs = f.add(fast.a());
      Sink ss = f.add(slow.a()); // nobody reads slow.b()
      f.start();
      // a live source: 8 KiB per millisecond at most, so the reader that keeps up would have to
      // stall for 125 ms to fall a whole bound (1 MiB) behind, while the sink nobody reads is over
      // it after ~1 MiB
      String sentHash = Net.writePaced(s.a(), total, 41, 8 * 1024).get(60, TimeUnit.SECONDS);
      f.join();
      assertEquals(Reason.TOO_SLOW, ev.reasons.get(ss));
      assertTrue(ss.bytesWritten() < total, "slow sink wrote " + ss.bytesWritten());
      assertEquals(Reason.FINISHED, ev.reasons.get(fs));
      fast.a().shutdownOutput();
      assertEquals(sentHash, gotFast.get());
      assertEquals(total, f.bytesIn());
      assertEquals(1, f.stats().dropsTooSlow());
    }
  }

  @Test
  void closeEndsEverySink() throws Exception {
    Events ev = new Events();
    try (Pair s = Net.pair(Kind.TCP);
        Pair a = Net.pair(Kind.TCP);
        Pair b = Net.pair(Kind.UNIX)) {
      Fanout f = builder().listener(ev).open(Source.channel(s.b()));
      Sink sa = f.add(a.a());
      Sink sb = f.add(b.a());
      f.start();
      write(s, new byte[100_000], 0, 100_000);
      await(() -> sa.bytesWritten() == 100_000 && sb.bytesWritten() == 100_000, "delivery");
      f.close();
      if (f.transport() == TransportKind.USERSPACE) {
        s.b().close(); // the userspace source thread is blocked in the source's read
      }
      f.join();
      assertEquals(Reason.CLOSED, ev.reasons.get(sa));
      assertEquals(Reason.CLOSED, ev.reasons.get(sb));
      assertTrue(ev.sourceEnded.await(10, TimeUnit.SECONDS));
    }
  }

  /** Reads {@code ch} to its end after {@code stallMillis}, in 4 KiB reads, with a pause mid-way. */
  private static Future<String> hashAfterStalls(Pair p, long stallMillis) {
    return java.util.concurrent.CompletableFuture.supplyAsync(
        () -> {
          try {
            java.security.MessageDigest md = Net.sha256();
            ByteBuffer bb = ByteBuffer.allocate(4096);
            long n = 0;
            long pauseAt = 400_000;
            Thread.sleep(stallMillis);
            int r;
            while ((r = p.b().read(bb.clear())) >= 0) {
              md.update(bb.array(), 0, r);
              n += r;
              if (n >= pauseAt) {
                pauseAt = Long.MAX_VALUE;
                Thread.sleep(stallMillis);
              }
            }
            return java.util.HexFormat.of().formatHex(md.digest()) + "/" + n;
          } catch (IOException | InterruptedException e) {
            throw new RuntimeException(e);
          }
        },
        Thread::startVirtualThread);
  }

  @Test
  void sinksThatKeepUpAreWrittenByTheSourceAndAStalledOneCatchesUpInOrder() throws Exception {
    long total = 1_500_000;
    Events ev = new Events();
    try (Pair s = Net.pair(Kind.TCP);
        Pair keeps = Net.pair(Kind.TCP);
        Pair stalls = Net.pair(Kind.UNIX);
        Fanout f = builder().listener(ev).open(Source.channel(s.b()))) {
      stalls.a().setOption(StandardSocketOptions.SO_SNDBUF, 16 * 1024);
      Future<String> gotKeeps = Net.hashAll(keeps.b());
      // stalls twice for 60 ms: at 2 KiB/ms ~120 KiB wait each time, well within the 1 MiB bound
      Future<String> gotStalls = hashAfterStalls(stalls, 60);
      Sink ks = f.add(keeps.a());
      Sink ss = f.add(stalls.a());
      f.start();
      String sent = Net.writePaced(s.a(), total, 77, 2 * 1024).get(60, TimeUnit.SECONDS);
      f.join();
      assertEquals(Reason.FINISHED, ev.reasons.get(ks));
      assertEquals(Reason.FINISHED, ev.reasons.get(ss));
      keeps.a().shutdownOutput();
      stalls.a().shutdownOutput();
      assertEquals(sent, gotKeeps.get(10, TimeUnit.SECONDS));
      assertEquals(sent, gotStalls.get(10, TimeUnit.SECONDS));
      // the source thread wrote some of it straight to the channels, and the stalled sink's
      // backlog went through its own thread
      long direct = f.stats().bytesDirect();
      assertTrue(direct > 0, "no byte was delivered directly");
      assertTrue(direct < 2 * total, "every byte went directly: " + direct);
      assertEquals(direct, ks.bytesDirect() + ss.bytesDirect());
      assertTrue(ss.bytesDirect() < total, "the stalled sink was written by its own thread too");
    }
  }

  @Test
  void aSinkWhoseChannelIsClosedWhileIdleEndsAndTheOthersGoOn() throws Exception {
    long total = 1_000_000;
    Events ev = new Events();
    try (Pair s = Net.pair(Kind.TCP);
        Pair a = Net.pair(Kind.TCP);
        Pair b = Net.pair(Kind.TCP);
        Fanout f = builder().listener(ev).open(Source.channel(s.b()))) {
      Future<String> gotA = Net.hashAll(a.b());
      Net.hashAll(b.b());
      Sink sa = f.add(a.a());
      Sink sb = f.add(b.a());
      f.start();
      Future<String> sent = Net.writePaced(s.a(), total, 78, 4 * 1024);
      await(() -> sb.bytesWritten() > 100_000, "delivery to b");
      b.a().close(); // the caller closes a listener's socket while the stream runs
      await(() -> ev.reasons.containsKey(sb), "b to end");
      assertEquals(Reason.FAILED, ev.reasons.get(sb));
      String hash = sent.get(60, TimeUnit.SECONDS);
      f.join();
      assertEquals(Reason.FINISHED, ev.reasons.get(sa));
      a.a().shutdownOutput();
      assertEquals(hash, gotA.get(10, TimeUnit.SECONDS));
      assertEquals(1, f.stats().dropsFailed());
    }
  }

  // --- detaching ----------------------------------------------------------------------------------

  @Test
  void aDetachedSinkStopsAtItsPositionKeepsItsChannelAndJoinsAnotherFanout() throws Exception {
    byte[] first = Net.random(600_000, 91);
    byte[] second = Net.random(300_000, 92);
    int burst = 16 * 1024;
    int leaveAt = 450_000;
    Events evA = new Events();
    Events evB = new Events();
    try (Pair srcA = Net.pair(Kind.TCP);
        Pair srcB = Net.pair(Kind.TCP);
        Pair mover = Net.pair(Kind.TCP);
        Pair stay = Net.pair(Kind.UNIX);
        Fanout a = builder().listener(evA).open(Source.channel(srcA.b()));
        Fanout b = builder().burst(burst).listener(evB).open(Source.channel(srcB.b()))) {
      Future<byte[]> gotMover = Net.readAll(mover.b());
      Future<byte[]> gotStay = Net.readAll(stay.b());
      Sink m = a.add(mover.a());
      Sink st = a.add(stay.a());
      a.start();
      b.start();
      writeLive(srcA, first, 0, 200_000);
      await(() -> m.bytesWritten() == 200_000, "the first bytes");
      assertTrue(m.detach(leaveAt), "a position ahead of the sink");
      assertTrue(m.detach(leaveAt + 1000), "a later position keeps the earlier one");
      writeLive(srcB, second, 0, 100_000);
      await(() -> b.bytesIn() == 100_000, "the other source's first bytes");
      writeLive(srcA, first, 200_000, first.length);
      await(() -> evA.reasons.get(m) != null, "the detached sink's report");
      assertEquals(Reason.DETACHED, evA.reasons.get(m));
      assertEquals(leaveAt, m.endPosition());
      assertEquals(leaveAt, m.bytesWritten());
      assertTrue(mover.a().isOpen(), "detaching leaves the channel open");
      assertEquals(1, a.sinks().size());
      Sink joined = b.add(mover.a());
      assertEquals(100_000 - burst, joined.startPosition());
      writeLive(srcB, second, 100_000, second.length);
      srcA.a().shutdownOutput();
      srcB.a().shutdownOutput();
      a.join();
      b.join();
      assertEquals(Reason.FINISHED, evB.reasons.get(joined));
      assertEquals(Reason.FINISHED, evA.reasons.get(st));
      mover.a().shutdownOutput();
      stay.a().shutdownOutput();
      assertArrayEquals(concat(Arrays.copyOf(first, leaveAt),
          Arrays.copyOfRange(second, 100_000 - burst, second.length)), gotMover.get(),
          "the first stream up to the position, then the second from its burst, on one channel");
      assertArrayEquals(first, gotStay.get());
    }
  }

  @Test
  void detachRefusesAPositionAlreadyPassedAndEndsAtOnceAtTheSinksEnd() throws Exception {
    byte[] data = Net.random(300_000, 93);
    Events ev = new Events();
    try (Pair s = Net.pair(Kind.TCP);
        Pair out = Net.pair(Kind.TCP);
        Fanout f = builder().listener(ev).open(Source.channel(s.b()))) {
      Future<byte[]> got = Net.readAll(out.b());
      Sink k = f.add(out.a());
      f.start();
      writeLive(s, data, 0, 100_000);
      await(() -> k.bytesWritten() == 100_000, "the first bytes");
      assertFalse(k.detach(50_000), "bytes past it were given");
      assertTrue(k.isOpen());
      assertEquals(100_000, k.endPosition());
      assertTrue(k.detach(k.endPosition()));
      await(() -> ev.reasons.get(k) != null, "the sink to end");
      assertEquals(Reason.DETACHED, k.reason());
      assertFalse(k.detach(k.endPosition()), "an ended sink");
      writeLive(s, data, 100_000, data.length);
      s.a().shutdownOutput();
      f.join();
      assertTrue(out.a().isOpen());
      out.a().shutdownOutput();
      assertArrayEquals(Arrays.copyOf(data, 100_000), got.get());
      assertEquals(data.length, f.bytesIn());
    }
  }

  @Test
  void theTapMayDetachASinkAtAPositionInTheChunkItScans() throws Exception {
    byte[] data = Net.random(500_000, 94);
    int leaveAt = 333_333; // inside some chunk, wherever the chunks fall
    Sink[] sink = new Sink[1];
    long[] scanned = {0};
    boolean[] asked = {false};
    boolean[] accepted = {false};
    Events ev = new Events();
    try (Pair s = Net.pair(Kind.TCP);
        Pair out = Net.pair(Kind.TCP);
        Pair other = Net.pair(Kind.UNIX);
        Fanout f = builder().listener(ev).tap(seg -> {
          scanned[0] += seg.byteSize();
          if (!asked[0] && scanned[0] > leaveAt) {
            asked[0] = true;
            accepted[0] = sink[0].detach(leaveAt);
          }
        }).open(Source.channel(s.b()))) {
      Future<byte[]> got = Net.readAll(out.b());
      Future<byte[]> gotOther = Net.readAll(other.b());
      sink[0] = f.sink(out.a()).insert(Insertions.every(100_000, p -> ByteBuffer.allocate(0))).add();
      Sink o = f.add(other.a());
      f.start();
      writeLive(s, data, 0, data.length);
      s.a().shutdownOutput();
      f.join();
      assertTrue(accepted[0], "a position in the chunk being scanned is never refused");
      assertEquals(Reason.DETACHED, ev.reasons.get(sink[0]));
      assertEquals(Reason.FINISHED, ev.reasons.get(o));
      out.a().shutdownOutput();
      other.a().shutdownOutput();
      assertArrayEquals(Arrays.copyOf(data, leaveAt), got.get());
      assertArrayEquals(data, gotOther.get());
    }
  }

  // --- burst and read-ahead ---------------------------------------------------------------------

  @Test
  void aLateSinkGetsTheLastBurstBytesThenTheLiveStreamExactly() throws Exception {
    int burst = 64 * 1024;
    byte[] data = Net.random(1_500_000, 51);
    int joinAt = 700_000;
    try (Pair s = Net.pair(Kind.TCP);
        Pair early = Net.pair(Kind.TCP);
        Pair late = Net.pair(Kind.UNIX);
        Fanout f = builder().burst(burst).open(Source.channel(s.b()))) {
      Future<byte[]> gotEarly = Net.readAll(early.b());
      Future<byte[]> gotLate = Net.readAll(late.b());
      Sink e = f.add(early.a());
      f.start();
      writeLive(s, data, 0, joinAt);
      await(() -> f.bytesIn() == joinAt, "the first part read");
      Sink l = f.add(late.a());
      assertEquals(joinAt - burst, l.startPosition());
      writeLive(s, data, joinAt, data.length);
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
        Fanout f = builder().burst(64 * 1024).open(Source.channel(s.b()))) {
      Future<byte[]> gotLate = Net.readAll(late.b());
      f.start();
      write(s, small, 0, small.length);
      await(() -> f.bytesIn() == small.length, "read");
      f.add(late.a());
      s.a().shutdownOutput();
      f.join();
      late.a().shutdownOutput();
      assertArrayEquals(small, gotLate.get(), "the whole (short) stream as burst, once");
    }
  }

  @Test
  void leadingBytesComeFirstForEverySink() throws Exception {
    byte[] ahead = Net.random(200_000, 53); // more than one chunk
    byte[] rest = Net.random(300_000, 54);
    try (Pair s = Net.pair(Kind.TCP);
        Pair a = Net.pair(Kind.TCP);
        Pair late = Net.pair(Kind.TCP);
        Fanout f = builder().burst(8192).open(Source.channel(s.b(), sliceOf(ahead)))) {
      Future<byte[]> gotA = Net.readAll(a.b());
      Future<byte[]> gotLate = Net.readAll(late.b());
      f.add(a.a());
      f.start();
      await(() -> f.bytesIn() == ahead.length, "leading bytes delivered");
      f.add(late.a());
      write(s, rest, 0, rest.length);
      s.a().shutdownOutput();
      f.join();
      a.a().shutdownOutput();
      late.a().shutdownOutput();
      byte[] all = concat(ahead, rest);
      assertArrayEquals(all, gotA.get());
      assertArrayEquals(Arrays.copyOfRange(all, ahead.length - 8192, all.length), gotLate.get());
      assertEquals(all.length, f.bytesIn());
    }
  }

  @Test
  void leadingBytesAreFreedWhenTheFanoutNeverStarts() throws Exception {
    try (Pair s = Net.pair(Kind.TCP)) {
      Slice ahead = sliceOf(new byte[1000]);
      Fanout f = builder().open(Source.channel(s.b(), ahead));
      f.close();
      assertTrue(ahead.isClosed());
    }
  }

  @Test
  void burstLargerThanTheBoundIsRejected() throws Exception {
    try (Pair s = Net.pair(Kind.TCP)) {
      assertThrows(IllegalArgumentException.class,
          () -> builder().sinkBound(65536).burst(65537).open(Source.channel(s.b())));
      assertThrows(IllegalArgumentException.class, () -> Fanout.builder().burst(-1));
      assertThrows(IllegalArgumentException.class, () -> Fanout.builder().sinkBound(4095));
    }
  }

  // --- per-sink hooks ---------------------------------------------------------------------------

  /** What a sink with {@code header}, insertions of {@code ins(position)} every {@code n} gets. */
  static byte[] expected(byte[] header, byte[] stream, long n) {
    byte[] body = concat(header, stream);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (int at = 0; at < body.length; ) {
      int next = (int) Math.min(body.length, (at / n + 1) * n);
      out.write(body, at, next - at);
      at = next;
      if (at % n == 0) {
        out.writeBytes(insertAt(at));
      }
    }
    return out.toByteArray();
  }

  /** The bytes inserted at a position: its value, framed, so a misplaced insertion shows. */
  static byte[] insertAt(long position) {
    return ("<" + position + ">").getBytes(StandardCharsets.US_ASCII);
  }

  static Insertions every(long n) {
    return Insertions.every(n, p -> ByteBuffer.wrap(insertAt(p)));
  }

  @Test
  void aSinkStartsWhereItsStartPositionSaysAfterItsHeaderWithInsertions() throws Exception {
    int burst = 64 * 1024;
    byte[] data = Net.random(900_000, 61);
    byte[] codec = "OggS-header-pages".getBytes(StandardCharsets.US_ASCII);
    int joinAt = 500_000;
    int metaint = 7_000;
    try (Pair s = Net.pair(Kind.TCP);
        Pair plain = Net.pair(Kind.TCP);
        Pair inBurst = Net.pair(Kind.TCP);
        Pair ahead = Net.pair(Kind.UNIX);
        Pair icy = Net.pair(Kind.TCP);
        Fanout f = builder().burst(burst).open(Source.channel(s.b()))) {
      Future<byte[]> gotPlain = Net.readAll(plain.b());
      Future<byte[]> gotInBurst = Net.readAll(inBurst.b());
      Future<byte[]> gotAhead = Net.readAll(ahead.b());
      Future<byte[]> gotIcy = Net.readAll(icy.b());
      // from the first byte: only insertions, so every chunk passes through the hooks
      Sink icySink = f.sink(icy.a()).insert(every(metaint)).add();
      f.add(plain.a());
      f.start();
      writeLive(s, data, 0, joinAt);
      await(() -> f.bytesIn() == joinAt, "the first part read");
      // a boundary inside the burst, chosen by the "format": 1000 bytes after its start
      Sink b = f.sink(inBurst.a()).header(ByteBuffer.wrap(codec))
          .startAt((oldest, live) -> oldest + 1000).insert(every(metaint)).add();
      assertEquals(joinAt - burst + 1000, b.startPosition());
      // a boundary ahead of the live stream: nothing until the stream reaches it
      Sink a = f.sink(ahead.a()).startAt((oldest, live) -> live + 12_345).add();
      writeLive(s, data, joinAt, data.length);
      s.a().shutdownOutput();
      f.join();
      for (Pair p : List.of(plain, inBurst, ahead, icy)) {
        p.a().shutdownOutput();
      }
      assertArrayEquals(data, gotPlain.get());
      assertArrayEquals(expected(new byte[0], data, metaint), gotIcy.get());
      assertArrayEquals(
          expected(codec, Arrays.copyOfRange(data, joinAt - burst + 1000, data.length), metaint),
          gotInBurst.get());
      assertArrayEquals(Arrays.copyOfRange(data, joinAt + 12_345, data.length), gotAhead.get());
      assertEquals(Reason.FINISHED, a.reason());
      assertEquals(Reason.FINISHED, b.reason());
      assertEquals(Reason.FINISHED, icySink.reason());
      assertTrue(f.stats().bytesInserted() > 0);
    }
  }

  @Test
  void theTapSeesEverySourceByteOnceBeforeAnySink() throws Exception {
    byte[] data = Net.random(400_000, 64);
    java.io.ByteArrayOutputStream tapped = new java.io.ByteArrayOutputStream();
    long[] early = {0}; // tap calls that saw the chunk's bytes counted in before the call
    Fanout[] fo = new Fanout[1];
    try (Pair s = Net.pair(Kind.TCP);
        Pair out = Net.pair(Kind.TCP);
        Fanout f = builder().burst(8192).tap(seg -> {
          if (fo[0].bytesIn() != tapped.size()) {
            early[0]++;
          }
          tapped.writeBytes(seg.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }).open(Source.channel(s.b(), sliceOf(Arrays.copyOf(data, 1000))))) {
      fo[0] = f;
      Future<byte[]> got = Net.readAll(out.b());
      f.add(out.a());
      f.start();
      writeLive(s, data, 1000, data.length);
      s.a().shutdownOutput();
      f.join();
      out.a().shutdownOutput();
      assertArrayEquals(data, got.get());
      assertArrayEquals(data, tapped.toByteArray(), "every byte once, in order, read-ahead first");
      assertEquals(0, early[0], "the tap runs before the chunk is counted in");
    }
  }

  @Test
  void aStartPositionDecidesItsHeaderWithItsPosition() throws Exception {
    int burst = 32 * 1024;
    byte[] data = Net.random(200_000, 65);
    byte[] ignored = "builder-header".getBytes(StandardCharsets.US_ASCII);
    try (Pair s = Net.pair(Kind.TCP);
        Pair late = Net.pair(Kind.TCP);
        Fanout f = builder().burst(burst).open(Source.channel(s.b()))) {
      Future<byte[]> got = Net.readAll(late.b());
      f.start();
      write(s, data, 0, 100_000);
      await(() -> f.bytesIn() == 100_000, "the first part read");
      StartPosition format = new StartPosition() {
        @Override
        public long choose(long oldest, long live) {
          return decide(oldest, live).position();
        }

        @Override
        public Choice decide(long oldest, long live) {
          long at = oldest + 777;
          return new Choice(at, ByteBuffer.wrap(("header-for-" + at).getBytes(StandardCharsets.US_ASCII)));
        }
      };
      Sink l = f.sink(late.a()).header(ByteBuffer.wrap(ignored)).startAt(format).add();
      long at = 100_000 - burst + 777;
      assertEquals(at, l.startPosition());
      write(s, data, 100_000, data.length);
      s.a().shutdownOutput();
      f.join();
      late.a().shutdownOutput();
      assertArrayEquals(concat(("header-for-" + at).getBytes(StandardCharsets.US_ASCII),
          Arrays.copyOfRange(data, (int) at, data.length)), got.get());
    }
  }

  @Test
  void aSlowStreamOfSmallChunksStillGivesTheWholeBurst() throws Exception {
    // 128 kbit/s arrives in chunks of a few hundred bytes; a late sink must get all 64 KiB
    int burst = 64 * 1024;
    byte[] data = Net.random(200_000, 66);
    try (Pair s = Net.pair(Kind.TCP);
        Pair late = Net.pair(Kind.TCP);
        Fanout f = builder().burst(burst).sinkBound(512 << 10).open(Source.channel(s.b()))) {
      Future<byte[]> got = Net.readAll(late.b());
      f.start();
      int joinAt = 150_000;
      for (int off = 0; off < joinAt; off += 500) {
        int to = off + 500;
        write(s, data, off, to);
        await(() -> f.bytesIn() == to, "a small chunk read");
      }
      assertTrue(f.stats().chunks() >= 300, "small chunks: " + f.stats().chunks());
      Sink l = f.add(late.a());
      assertEquals(joinAt - burst, l.startPosition());
      write(s, data, joinAt, data.length);
      s.a().shutdownOutput();
      f.join();
      late.a().shutdownOutput();
      assertArrayEquals(Arrays.copyOfRange(data, joinAt - burst, data.length), got.get());
    }
  }

  @Test
  void aStartInsideABurstOfManySmallChunks() throws Exception {
    // 40 chunks of 500 bytes: as many pipe buffers as chunks, far fewer pages of bytes
    byte[] data = Net.random(40_000, 67);
    try (Pair s = Net.pair(Kind.TCP);
        Pair late = Net.pair(Kind.TCP);
        Fanout f = builder().burst(64 * 1024).open(Source.channel(s.b()))) {
      Future<byte[]> got = Net.readAll(late.b());
      f.start();
      for (int off = 0; off < 20_000; off += 500) {
        int to = off + 500;
        write(s, data, off, to);
        await(() -> f.bytesIn() == to, "a small chunk read");
      }
      Sink l = f.sink(late.a()).startAt((oldest, live) -> oldest + 100).add();
      assertEquals(100, l.startPosition());
      write(s, data, 20_000, data.length);
      s.a().shutdownOutput();
      f.join();
      late.a().shutdownOutput();
      assertEquals(Reason.FINISHED, l.reason());
      assertArrayEquals(Arrays.copyOfRange(data, 100, data.length), got.get());
    }
  }

  @Test
  void insertionsAtMisalignedPointsOfSmallChunks() throws Exception {
    // every 11 bytes of 97-byte writes: points inside chunks, at their edges and in the header;
    // few enough pieces (about 230) that a sink whose writer has not run yet still holds them
    // all: a kernel pipe of the default bound has 256 slots, a userspace queue 1024 entries
    byte[] data = Net.random(1_200, 62);
    try (Pair s = Net.pair(Kind.TCP);
        Pair icy = Net.pair(Kind.TCP);
        Fanout f = builder().open(Source.channel(s.b()))) {
      Future<byte[]> got = Net.readAll(icy.b());
      f.sink(icy.a()).header(ByteBuffer.wrap(new byte[] {1, 2, 3})).insert(every(11)).add();
      f.start();
      for (int off = 0; off < data.length; off += 97) {
        write(s, data, off, Math.min(data.length, off + 97));
      }
      s.a().shutdownOutput();
      f.join();
      icy.a().shutdownOutput();
      assertArrayEquals(expected(new byte[] {1, 2, 3}, data, 11), got.get());
    }
  }

  @Test
  void aSinkWithInsertionsThatKeepsUpIsWrittenByTheSourceThreadAlone() throws Exception {
    // Inserted bytes must not hand a keeping-up sink's channel to its writer thread: while that
    // thread waits to be scheduled, every chunk after the insertion is queued, and a source that
    // delivers a burst then (a relay catching up after a pause) fills the sink's bound and drops
    // it. 40 steps of 1,000 bytes plus insertions stay far below the socket's buffers, so every
    // write of the source thread is taken whole even if the reader lags.
    byte[] data = Net.random(40_000, 64);
    try (Pair s = Net.pair(Kind.TCP);
        Pair icy = Net.pair(Kind.TCP);
        Fanout f = builder().open(Source.channel(s.b()))) {
      Future<byte[]> got = Net.readAll(icy.b());
      Sink k = f.sink(icy.a()).insert(every(100)).add();
      f.start();
      await(() -> k.handover.owner() == Handover.IDLE, "the writer hands the channel over");
      for (int off = 0; off < data.length; off += 1_000) {
        write(s, data, off, off + 1_000);
        long due = expected(new byte[0], Arrays.copyOf(data, off + 1_000), 100).length;
        await(() -> k.bytesWritten() == due, "the step written");
      }
      s.a().shutdownOutput();
      f.join();
      icy.a().shutdownOutput();
      assertArrayEquals(expected(new byte[0], data, 100), got.get());
      assertEquals(k.bytesWritten(), k.bytesDirect(), "bytes written by the sink's own thread");
    }
  }

  @Test
  void aFileSinkIsWrittenByItsOwnThreadAndAUserspaceSinkMayJoinAnyFanout() throws Exception {
    byte[] data = Net.random(800_000, 63);
    java.nio.file.Path file = java.nio.file.Files.createTempFile("nocopy-fanout", ".bin");
    try (Pair s = Net.pair(Kind.TCP);
        Pair user = Net.pair(Kind.TCP);
        java.nio.channels.FileChannel fc = java.nio.channels.FileChannel.open(file,
            java.nio.file.StandardOpenOption.WRITE);
        Fanout f = builder().open(Source.channel(s.b()))) {
      Future<byte[]> gotUser = Net.readAll(user.b());
      Sink rec = f.add(fc);
      Sink us = f.sink(user.a()).transport(TransportKind.USERSPACE).add();
      assertEquals(TransportKind.USERSPACE, us.transport());
      f.start();
      Net.writePaced(s.a(), data, 8 * 1024).get();
      f.join();
      user.a().shutdownOutput();
      assertEquals(Reason.FINISHED, rec.reason());
      assertEquals(0, rec.bytesDirect(), "a file is never written by the source thread");
      assertArrayEquals(data, java.nio.file.Files.readAllBytes(file));
      assertArrayEquals(data, gotUser.get());
    } finally {
      java.nio.file.Files.delete(file);
    }
  }

  // --- backpressure on the source -------------------------------------------------------------

  /**
   * Reads {@code ch} to its end at most about {@code perMilli} bytes per millisecond (a listener
   * slower than an unpaced source), and not at all for the last {@code pauseMillis} of every 100
   * ms (a reader thread that gets only part of a CPU), returning the SHA-256 and the count as
   * "hex/count".
   */
  static Future<String> hashThrottled(
      java.nio.channels.ReadableByteChannel ch, int perMilli, int pauseMillis) {
    return java.util.concurrent.CompletableFuture.supplyAsync(
        () -> {
          try {
            java.security.MessageDigest md = Net.sha256();
            ByteBuffer bb = ByteBuffer.allocate(perMilli);
            long n = 0;
            long next = System.nanoTime();
            int r;
            while ((r = ch.read(bb.clear())) >= 0) {
              md.update(bb.array(), 0, r);
              n += r;
              // no credit for time spent waiting for bytes: never faster than perMilli, even after
              // an idle moment
              next = Math.max(next, System.nanoTime() - 1_000_000L) + 1_000_000L * r / perMilli;
              long now = System.nanoTime();
              long inPeriod = now % 100_000_000L;
              if (inPeriod >= (100 - pauseMillis) * 1_000_000L) {
                next = Math.max(next, now + 100_000_000L - inPeriod); // paused to the period's end
              }
              long wait = next - now;
              if (wait > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
              }
            }
            return java.util.HexFormat.of().formatHex(md.digest()) + "/" + n;
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        },
        Thread::startVirtualThread);
  }

  /**
   * Sinks over TCP with fixed socket buffers (no autotuning), each read by a throttled reader. The
   * source goes at the pace of the sink whose backlog drains first, and socket buffers that grow
   * to megabytes for one reader and not another make equal readers look that much apart: the
   * sinks here are alike.
   */
  static final class AlikeSinks implements AutoCloseable {
    final List<Pair> pairs = new ArrayList<>();
    final List<Sink> sinks = new ArrayList<>();
    final List<Future<String>> got = new ArrayList<>();

    AlikeSinks(Fanout f, int n, int perMilli) throws IOException {
      for (int i = 0; i < n; i++) {
        add(f, perMilli, 0);
      }
    }

    /** One more sink, read as {@link #hashThrottled} says. */
    Sink add(Fanout f, int perMilli, int pauseMillis) throws IOException {
      Pair p = Net.pair(Kind.TCP);
      pairs.add(p);
      p.a().setOption(StandardSocketOptions.SO_SNDBUF, 64 * 1024);
      p.b().setOption(StandardSocketOptions.SO_RCVBUF, 64 * 1024);
      got.add(hashThrottled(p.b(), perMilli, pauseMillis));
      Sink sink = f.add(p.a());
      sinks.add(sink);
      return sink;
    }

    /** Every sink finished and its reader got exactly {@code sent} ("hex/count"). */
    void assertEveryByte(Events ev, String sent) throws Exception {
      for (int i = 0; i < sinks.size(); i++) {
        assertEquals(Reason.FINISHED, ev.reasons.get(sinks.get(i)), "sink " + i);
        pairs.get(i).a().shutdownOutput();
        assertEquals(sent, got.get(i).get(30, TimeUnit.SECONDS), "sink " + i);
      }
    }

    @Override
    public void close() throws IOException {
      for (Pair p : pairs) {
        p.close();
      }
    }
  }

  /** Adds a sink over {@code stuck}, whose other end nobody reads, with small socket buffers. */
  static Sink addStuck(Fanout f, Pair stuck) throws IOException {
    stuck.a().setOption(StandardSocketOptions.SO_SNDBUF, 16 * 1024);
    stuck.b().setOption(StandardSocketOptions.SO_RCVBUF, 16 * 1024);
    return f.add(stuck.a());
  }

  /** The stuck sink was dropped as too slow before the stream's end. */
  static void assertStuckDropped(Events ev, Sink st, long total) {
    assertEquals(Reason.TOO_SLOW, ev.reasons.get(st));
    assertTrue(st.bytesWritten() < total, "the stuck sink wrote " + st.bytesWritten());
  }

  @Test
  void anUnpacedSourceGoesAtThePaceOfItsSinksAndEverySinkGetsEveryByte() throws Exception {
    long total = 12L << 20;
    Events ev = new Events();
    try (Pair s = Net.pair(Kind.TCP);
        Fanout f = builder().listener(ev).open(Source.channel(s.b()));
        // each drains at most ~20 MB/s, far below what the source gives: without backpressure
        // every one falls its whole bound (1 MiB) behind within a fraction of a second
        AlikeSinks sinks = new AlikeSinks(f, 10, 20_000)) {
      f.start();
      String sent = Net.writeGenerated(s.a(), total, 91, () -> Net.shutdownOutput(s.a()))
          .get(120, TimeUnit.SECONDS);
      f.join();
      sinks.assertEveryByte(ev, sent);
      FanoutStats st = f.stats();
      assertEquals(total, st.bytesIn());
      assertEquals(0, st.dropsTooSlow());
      assertTrue(st.sourceHeldNanos() > 0, "the source was never held");
    }
  }

  @Test
  void aStuckSinkAmongFastOnesIsDroppedWhileAnUnpacedSourceGoesOn() throws Exception {
    long total = 12L << 20;
    Events ev = new Events();
    try (Pair s = Net.pair(Kind.TCP);
        Pair stuck = Net.pair(Kind.TCP);
        Fanout f = builder().listener(ev).open(Source.channel(s.b()));
        // readers about as fast as they can: CPU-bound readers on a loaded machine may be a whole
        // bound apart for a moment, and the source waits for the one behind (it keeps up)
        AlikeSinks fast = new AlikeSinks(f, 4, 400_000)) {
      Sink st = addStuck(f, stuck);
      f.start();
      String sent = Net.writeGenerated(s.a(), total, 92, () -> Net.shutdownOutput(s.a()))
          .get(120, TimeUnit.SECONDS);
      f.join();
      assertStuckDropped(ev, st, total);
      fast.assertEveryByte(ev, sent);
      assertEquals(total, f.bytesIn());
      assertEquals(1, f.stats().dropsTooSlow());
    }
  }

  @Test
  void aSinkReadAtSeventyPercentOfTheOthersPaceIsKeptWhileAStuckOneIsDropped() throws Exception {
    long total = 40L << 20;
    Events ev = new Events();
    try (Pair s = Net.pair(Kind.TCP);
        Pair stuck = Net.pair(Kind.TCP);
        Fanout f = builder().listener(ev).open(Source.channel(s.b()));
        // alike readers of ~20 MB/s, and one of them that reads only 70 ms of every 100 (14 MB/s
        // over the ~3 s stream): the source waits for it, it is not left behind
        AlikeSinks sinks = new AlikeSinks(f, 4, 20_000)) {
      Sink slower = sinks.add(f, 20_000, 30);
      Sink st = addStuck(f, stuck); // it drains at 0 % of the others' pace
      f.start();
      long t0 = System.nanoTime();
      String sent = Net.writeGenerated(s.a(), total, 94, () -> Net.shutdownOutput(s.a()))
          .get(120, TimeUnit.SECONDS);
      f.join();
      long took = System.nanoTime() - t0;
      assertStuckDropped(ev, st, total);
      assertEquals(Reason.FINISHED, ev.reasons.get(slower), "the slower sink");
      sinks.assertEveryByte(ev, sent);
      FanoutStats stats = f.stats();
      assertEquals(total, stats.bytesIn());
      assertEquals(1, stats.dropsTooSlow());
      // the stream went at the slower sink's pace (14 MB/s: ~3 s), not the others' (~2 s)
      assertTrue(took >= total * 1_000_000L / 14_000 * 9 / 10, "took " + took + " ns");
    }
  }

  @Test
  void aLoneStuckSinkHoldsTheSourceForTheStallThenIsDropped() throws Exception {
    long total = 4L << 20;
    int bound = 256 << 10;
    Events ev = new Events();
    try (Pair s = Net.pair(Kind.TCP);
        Pair stuck = Net.pair(Kind.TCP);
        Fanout f = builder().sinkBound(bound).listener(ev).open(Source.channel(s.b()))) {
      Sink st = addStuck(f, stuck);
      f.start();
      long t0 = System.nanoTime();
      Net.writeGenerated(s.a(), total, 93, () -> Net.shutdownOutput(s.a()))
          .get(120, TimeUnit.SECONDS);
      f.join();
      assertEquals(Reason.TOO_SLOW, ev.reasons.get(st));
      assertEquals(total, f.bytesIn(), "the source goes on after the stall");
      long held = f.stats().sourceHeldNanos();
      assertTrue(held >= SourceHold.STALL_NANOS, "held for " + held + " ns");
      assertTrue(System.nanoTime() - t0 >= SourceHold.STALL_NANOS);
    }
  }

  /** Bytes the source thread may allocate per chunk in a steady state on this transport. */
  abstract long allocationPerChunkLimit();

  @Test
  void theSourceThreadsSteadyStateAllocatesAlmostNothing() throws Exception {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    Thread[] source = new Thread[1];
    java.util.concurrent.ThreadFactory platform = r -> source[0] = Thread.ofPlatform().unstarted(r);
    long total = 32L << 20;
    List<Pair> pairs = new ArrayList<>();
    try (Pair s = Net.pair(Kind.TCP);
        Fanout f = builder().burst(32 << 10).sourceThreadFactory(platform)
            .open(Source.channel(s.b()))) {
      List<Future<String>> got = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        Pair p = Net.pair(Kind.TCP);
        pairs.add(p);
        got.add(Net.hashAll(p.b()));
        f.add(p.a());
      }
      f.start();
      Future<String> sent = Net.writePaced(s.a(), total, 81, 8 * 1024);
      // Windows of 1/16 of the stream until one is quiet: the first ones run while the JIT is
      // still compiling the downcalls (whose argument segments escape until then).
      long best = Long.MAX_VALUE;
      String window = "";
      for (int w = 1; w < 16 && best > allocationPerChunkLimit(); w++) {
        long from = total * w / 16;
        await(() -> f.bytesIn() > from, "window " + w);
        long a0 = mx.getThreadAllocatedBytes(source[0].threadId());
        long c0 = f.stats().chunks();
        await(() -> f.bytesIn() >= from + total / 16, "window end " + w); // the 15th: the end
        long a1 = mx.getThreadAllocatedBytes(source[0].threadId());
        long c1 = f.stats().chunks();
        long perChunk = (a1 - a0) / Math.max(1, c1 - c0);
        if (perChunk < best) {
          best = perChunk;
          window = (a1 - a0) + " bytes allocated over " + (c1 - c0) + " chunks";
        }
      }
      String hash = sent.get(60, TimeUnit.SECONDS);
      f.join();
      for (int i = 0; i < 8; i++) {
        pairs.get(i).a().shutdownOutput();
        assertEquals(hash, got.get(i).get(10, TimeUnit.SECONDS));
      }
      assertTrue(best <= allocationPerChunkLimit(), "the quietest window: " + window);
    } finally {
      for (Pair p : pairs) {
        p.close();
      }
    }
  }
}
