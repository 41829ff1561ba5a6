package io.nocopy.internal.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nocopy.pipe.Net;
import io.nocopy.pipe.Net.Kind;
import io.nocopy.pipe.Net.Pair;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The io_uring ring: sends to real sockets, short sends, EAGAIN, a full ring, a stress run. */
class IoUringTest {
  private static final int FLAGS = IoUring.MSG_DONTWAIT | IoUring.MSG_NOSIGNAL;

  @BeforeAll
  static void ioUringWorks() {
    assumeTrue(IoUring.available(), "io_uring unavailable: " + IoUring.unavailableReason());
    assumeTrue(ChannelFds.available(), "no socket descriptors: " + ChannelFds.unavailableReason());
  }

  private static MemorySegment bytes(Arena a, byte[] data) {
    MemorySegment m = a.allocate(data.length);
    MemorySegment.copy(data, 0, m, ValueLayout.JAVA_BYTE, 0, data.length);
    return m;
  }

  /** Submits what is prepared and returns the results by user data (0 .. n-1). */
  private static int[] run(IoUring r, int n) {
    int consumed = r.submitAndWait(n);
    assertEquals(n, consumed);
    int[] res = new int[n];
    Arrays.fill(res, Integer.MIN_VALUE);
    for (int i = 0; i < n; i++) {
      assertTrue(r.nextCompletion(), "completion " + i);
      res[(int) r.userData()] = r.result();
    }
    assertFalse(r.nextCompletion());
    return res;
  }

  @Test
  void sendsOneRegionAndSeveralToEachSocketInOneSubmission() throws Exception {
    byte[] data = Net.random(3000, 1);
    try (Arena a = Arena.ofConfined();
        IoUring r = IoUring.open(8);
        Pair x = Net.pair(Kind.TCP);
        Pair y = Net.pair(Kind.UNIX)) {
      MemorySegment m = bytes(a, data);
      int fx = ChannelFds.fdOf(x.a());
      int fy = ChannelFds.fdOf(y.a());
      assertTrue(r.prepareSend(fx, false, m.address(), 3000, FLAGS, 0));
      long[] addrs = {m.address(), m.address() + 1000, m.address() + 1500};
      int[] lens = {1000, 500, 1500};
      assertTrue(r.prepareSendv(fy, false, addrs, lens, 3, FLAGS, 1));
      assertEquals(2, r.prepared());
      assertArrayEquals(new int[] {3000, 3000}, run(r, 2));
      assertEquals(0, r.prepared());
      x.a().shutdownOutput();
      y.a().shutdownOutput();
      assertArrayEquals(data, Net.readAll(x.b()).get(10, TimeUnit.SECONDS));
      assertArrayEquals(data, Net.readAll(y.b()).get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void aFullSocketGivesAShortSendThenEagain() throws Exception {
    int size = 8 << 20; // far more than a loopback socket buffers
    try (Arena a = Arena.ofConfined();
        IoUring r = IoUring.open(4);
        Pair p = Net.pair(Kind.TCP)) {
      MemorySegment m = a.allocate(size);
      int fd = ChannelFds.fdOf(p.a());
      assertTrue(r.prepareSend(fd, false, m.address(), size, FLAGS, 0));
      int first = run(r, 1)[0];
      assertTrue(first > 0 && first < size, "a short send: " + first);
      // nobody reads: the socket fills (its buffer may still grow a few times), then EAGAIN
      long sent = first;
      int res = 0;
      for (int i = 0; i < 100 && res >= 0 && sent < size; i++) {
        assertTrue(r.prepareSend(fd, false, m.address() + sent, (int) (size - sent), FLAGS, 0));
        res = run(r, 1)[0];
        sent += Math.max(res, 0);
      }
      assertEquals(-Syscalls.EAGAIN, res, "the socket is full after " + sent + " bytes");
      // the peer reads everything sent, exactly
      p.a().shutdownOutput();
      assertEquals(sent, Net.readAll(p.b()).get(10, TimeUnit.SECONDS).length);
    }
  }

  @Test
  void aClosedPeerAndABadDescriptorComeBackAsErrors() throws Exception {
    try (Arena a = Arena.ofConfined(); IoUring r = IoUring.open(4)) {
      MemorySegment m = a.allocate(100);
      Pair p = Net.pair(Kind.UNIX);
      p.b().close();
      int fd = ChannelFds.fdOf(p.a());
      assertTrue(r.prepareSend(fd, false, m.address(), 100, FLAGS, 0));
      assertTrue(r.prepareSend(Integer.MAX_VALUE, false, m.address(), 100, FLAGS, 1));
      int[] res = run(r, 2);
      assertEquals(-Syscalls.EPIPE, res[0]);
      assertEquals(-Syscalls.EBADF, res[1]);
      p.a().close();
    }
  }

  @Test
  void aRegisteredSlotSendsWithoutTheDescriptorAndHoldsTheSocketUntilCleared() throws Exception {
    byte[] data = Net.random(5000, 7);
    try (Arena a = Arena.ofConfined(); IoUring r = IoUring.open(4)) {
      assertEquals(0, r.fileSlots());
      assertEquals(0, r.registerFileTable(4), "a sparse table (Linux 5.19+)");
      assertEquals(4, r.fileSlots());
      assertThrows(IllegalStateException.class, () -> r.registerFileTable(4));
      Pair p = Net.pair(Kind.TCP);
      Pair q = Net.pair(Kind.UNIX);
      // slots are filled from another thread than the one that submits
      Thread.ofPlatform().start(() -> {
        assertEquals(0, r.setFile(3, ChannelFds.fdOf(p.a())));
        assertEquals(0, r.setFile(1, ChannelFds.fdOf(q.a())));
      }).join();
      assertEquals(-Syscalls.EBADF, r.setFile(4, ChannelFds.fdOf(p.a())), "outside the table");
      // the channel's own descriptor is closed: the ring's reference keeps the socket open
      p.a().close();
      MemorySegment m = bytes(a, data);
      assertTrue(r.prepareSend(3, true, m.address(), 3000, FLAGS, 0));
      long[] addrs = {m.address() + 3000, m.address() + 4000};
      int[] lens = {1000, 1000};
      assertTrue(r.prepareSendv(3, true, addrs, lens, 2, FLAGS, 1));
      assertTrue(r.prepareSend(2, true, m.address(), 10, FLAGS, 2)); // an empty slot
      assertTrue(r.prepareSend(1, true, m.address(), 10, FLAGS, 3));
      assertArrayEquals(new int[] {3000, 2000, -Syscalls.EBADF, 10}, run(r, 4));
      Future<byte[]> got = Net.readAll(p.b());
      // clearing the slot drops the last reference: the peer reads every byte, then the end
      assertEquals(0, r.setFile(3, -1));
      assertArrayEquals(data, got.get(10, TimeUnit.SECONDS));
      assertTrue(r.prepareSend(3, true, m.address(), 10, FLAGS, 0));
      assertArrayEquals(new int[] {-Syscalls.EBADF}, run(r, 1), "a cleared slot");
      r.close();
      assertEquals(-Syscalls.EBADF, r.setFile(1, -1), "the ring is closed");
      q.close();
      p.close();
    }
  }

  @Test
  void aFullRingRefusesMoreUntilSubmitted() throws Exception {
    List<Pair> pairs = new ArrayList<>();
    try (Arena a = Arena.ofConfined(); IoUring r = IoUring.open(4)) {
      assertEquals(4, r.capacity());
      byte[] data = Net.random(100, 2);
      MemorySegment m = bytes(a, data);
      List<Future<byte[]>> got = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        Pair p = Net.pair(Kind.UNIX);
        pairs.add(p);
        got.add(Net.readAll(p.b()));
      }
      int done = 0;
      int at = 0;
      int batches = 0;
      while (done < pairs.size()) {
        while (at < pairs.size()
            && r.prepareSend(ChannelFds.fdOf(pairs.get(at).a()), false, m.address(), 100, FLAGS, at)) {
          at++;
        }
        int n = r.prepared();
        assertTrue(n <= 4);
        assertEquals(n, r.submitAndWait(n));
        for (int i = 0; i < n; i++) {
          assertTrue(r.nextCompletion());
          assertEquals(100, r.result());
        }
        done += n;
        batches++;
      }
      assertEquals(3, batches, "10 sends through a ring of 4: 4 + 4 + 2");
      for (int i = 0; i < pairs.size(); i++) {
        pairs.get(i).a().shutdownOutput();
        assertArrayEquals(data, got.get(i).get(10, TimeUnit.SECONDS));
      }
    } finally {
      for (Pair p : pairs) {
        p.close();
      }
    }
  }

  @Test
  void stressManySocketsRandomRegionsEveryByteArrivesInOrder() throws Exception {
    int sockets = 16;
    int total = 4 << 20;
    byte[] data = Net.random(total, 3);
    List<Pair> pairs = new ArrayList<>();
    try (Arena a = Arena.ofConfined(); IoUring r = IoUring.open(8)) {
      MemorySegment m = bytes(a, data);
      List<Future<byte[]>> got = new ArrayList<>();
      int[] fds = new int[sockets];
      for (int i = 0; i < sockets; i++) {
        Pair p = Net.pair(i % 2 == 0 ? Kind.TCP : Kind.UNIX);
        pairs.add(p);
        got.add(Net.readAll(p.b()));
        fds[i] = ChannelFds.fdOf(p.a());
      }
      long[] sent = new long[sockets];
      SplittableRandom rnd = new SplittableRandom(4);
      long[] addrs = new long[IoUring.MAX_IOV];
      int[] lens = new int[IoUring.MAX_IOV];
      Syscalls sc = new Syscalls();
      while (Arrays.stream(sent).anyMatch(s -> s < total)) {
        int n = 0;
        for (int i = 0; i < sockets; i++) {
          if (sent[i] == total) {
            continue;
          }
          long at = sent[i];
          int regions = 1 + rnd.nextInt(IoUring.MAX_IOV);
          int k = 0;
          for (; k < regions && at < total; k++) {
            int len = (int) Math.min(total - at, 1 + rnd.nextInt(40_000));
            addrs[k] = m.address() + at;
            lens[k] = len;
            at += len;
          }
          boolean ok =
              k == 1
                  ? r.prepareSend(fds[i], false, addrs[0], lens[0], FLAGS, i)
                  : r.prepareSendv(fds[i], false, addrs, lens, k, FLAGS, i);
          if (!ok) {
            break; // ring full: the rest go next round
          }
          n++;
        }
        assertEquals(n, r.submitAndWait(n));
        boolean anySent = false;
        for (int j = 0; j < n; j++) {
          assertTrue(r.nextCompletion());
          int res = r.result();
          int i = (int) r.userData();
          if (res > 0) {
            sent[i] += res;
            anySent = true;
          } else {
            assertEquals(-Syscalls.EAGAIN, res);
          }
        }
        if (!anySent) {
          sc.poll(fds[0], 4, 10); // every socket full: give the readers a moment
        }
      }
      for (int i = 0; i < sockets; i++) {
        pairs.get(i).a().shutdownOutput();
        assertArrayEquals(data, got.get(i).get(30, TimeUnit.SECONDS), "socket " + i);
      }
    } finally {
      for (Pair p : pairs) {
        p.close();
      }
    }
  }
}
