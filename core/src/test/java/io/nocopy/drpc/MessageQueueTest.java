package io.nocopy.drpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The receive queue the transport uses: a bounded FIFO's scenarios (order, waiting, overflow,
 * close and abort) for messages kept as chains of pooled blocks, plus what the chains add: every
 * block reference comes back (checked with {@link Allocator#inUse()} after each test), the lent
 * message is valid only during its handler, and the one-receiver rule.
 */
class MessageQueueTest {
  private Allocator alloc;

  @BeforeEach
  void setUp() {
    alloc = Allocator.builder().maxBytes(64L << 20).build();
  }

  @AfterEach
  void everyBlockCameBack() {
    assertEquals(0, alloc.inUse(), "blocks still in use after the test");
    alloc.close();
  }

  /** Message i: {@code size} bytes, byte k = i * 7 + k. */
  private static byte[] content(int i, int size) {
    byte[] b = new byte[size];
    for (int k = 0; k < size; k++) {
      b[k] = (byte) (i * 7 + k);
    }
    return b;
  }

  /** Stages {@code data} as one frame's chunks of at most {@code chunk} bytes. */
  private void stage(MessageQueue q, byte[] data, int chunk) throws IOException {
    for (int at = 0; at < data.length; at += chunk) {
      int n = Math.min(chunk, data.length - at);
      Block b = alloc.allocate(n + 16);
      MemorySegment.copy(data, at, b.segment(), ValueLayout.JAVA_BYTE, 16, n);
      q.accept(b, 16, n);
    }
  }

  /** Adds {@code data} to the open message as frames of two chunks at most. */
  private void add(MessageQueue q, byte[] data, int chunk) throws IOException {
    for (int at = 0; at < data.length; at += 2 * chunk) {
      stage(q, java.util.Arrays.copyOfRange(data, at, Math.min(data.length, at + 2 * chunk)),
          chunk);
      q.endFrame();
    }
  }

  private MessageQueue.Offer send(MessageQueue q, byte[] data, int chunk) throws Exception {
    add(q, data, chunk);
    return q.publish();
  }

  /** Receives one message through a handler and returns a copy of it (null at the end). */
  private static byte[] take(MessageQueue q) throws Exception {
    AtomicReference<byte[]> out = new AtomicReference<>();
    if (!q.receive(m -> out.set(m.toByteArray()))) {
      return null;
    }
    return out.get();
  }

  private static void awaitParked(Thread t) throws InterruptedException {
    for (int i = 0; i < 10_000 && t.getState() != Thread.State.WAITING
        && t.getState() != Thread.State.TIMED_WAITING; i++) {
      Thread.sleep(1);
    }
    assertTrue(t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING,
        "thread state " + t.getState());
  }

  @Test
  void publishThenReceiveLendsTheChunksAndReleasesThem() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    byte[] data = content(1, 1000);
    assertEquals(MessageQueue.Offer.QUEUED, send(q, data, 300));
    assertEquals(1, q.size());
    assertEquals(4, q.heldChunks());
    List<Long> sizes = new ArrayList<>();
    assertTrue(q.receive(m -> {
      assertEquals(1000, m.length());
      assertEquals(4, m.chunkCount());
      m.forEachChunk(c -> sizes.add(c.byteSize()));
      assertEquals(300, m.chunk(1).byteSize());
      assertThrows(IndexOutOfBoundsException.class, () -> m.chunk(4));
      assertArrayEquals(data, m.toByteArray());
      assertTrue(alloc.inUse() == 4, "blocks held during the call");
    }));
    assertEquals(List.of(300L, 300L, 300L, 100L), sizes);
    assertEquals(0, alloc.inUse(), "released when the handler returned");
    assertEquals(0, q.size());
    assertEquals(0, q.heldChunks());
  }

  @Test
  void fifoAcrossRingGrowthAndWrapAroundWithBothReceives() throws Exception {
    var q = new MessageQueue(8, OverflowPolicy.BLOCK);
    Random r = new Random(3);
    java.util.ArrayDeque<byte[]> sent = new java.util.ArrayDeque<>();
    int next = 0;
    int taken = 0;
    for (int round = 0; round < 40; round++) {
      int burst = 1 + r.nextInt(8);
      for (int k = 0; k < burst && q.size() < 8; k++, next++) {
        byte[] m = content(next, r.nextInt(2000));
        sent.add(m);
        assertEquals(MessageQueue.Offer.QUEUED, send(q, m, 1 + r.nextInt(700)));
      }
      int keep = r.nextInt(3);
      while (q.size() > keep) {
        byte[] want = sent.poll();
        if (taken++ % 2 == 0) {
          assertArrayEquals(want, take(q), "message " + (taken - 1));
        } else {
          try (Slice s = q.receive()) {
            assertArrayEquals(want, s.toByteArray(), "message " + (taken - 1));
          }
        }
      }
    }
    while (!sent.isEmpty()) {
      assertArrayEquals(sent.poll(), take(q));
    }
    assertEquals(0, q.heldChunks());
    assertTrue(next > 100, "enough messages to wrap both rings");
  }

  @Test
  void receiveWaitsForPublish() throws Exception {
    var q = new MessageQueue(2, OverflowPolicy.BLOCK);
    var got = new CompletableFuture<byte[]>();
    Thread t = Thread.ofVirtual().start(() -> {
      try {
        got.complete(take(q));
      } catch (Throwable e) {
        got.completeExceptionally(e);
      }
    });
    awaitParked(t);
    add(q, content(5, 10), 4);
    assertFalse(got.isDone(), "an open (unpublished) message is not delivered");
    q.publish();
    assertArrayEquals(content(5, 10), got.get(10, TimeUnit.SECONDS));
  }

  @Test
  void twoWaitingConsumersBothGetAMessage() throws Exception {
    // the first waiter parks itself, the second waits on the condition: both must wake
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    List<CompletableFuture<byte[]>> got = List.of(new CompletableFuture<>(),
        new CompletableFuture<>());
    List<Thread> waiters = new ArrayList<>();
    for (CompletableFuture<byte[]> f : got) {
      waiters.add(Thread.ofVirtual().start(() -> {
        try (Slice s = q.receive()) {
          f.complete(s.toByteArray());
        } catch (Throwable e) {
          f.completeExceptionally(e);
        }
      }));
    }
    for (Thread t : waiters) {
      awaitParked(t);
    }
    send(q, content(0, 10), 10);
    send(q, content(1, 10), 10);
    List<Integer> firsts = new ArrayList<>();
    for (CompletableFuture<byte[]> f : got) {
      firsts.add((int) f.get(10, TimeUnit.SECONDS)[0]);
    }
    firsts.sort(null);
    assertEquals(List.of(0, 7), firsts);
    for (Thread t : waiters) {
      t.join(); // each closes its slice after completing its future
    }
  }

  @Test
  void fullQueueBlocksThePublisherUnderBlock() throws Exception {
    var q = new MessageQueue(2, OverflowPolicy.BLOCK);
    send(q, content(0, 10), 10);
    send(q, content(1, 10), 10);
    var third = new CompletableFuture<MessageQueue.Offer>();
    Thread t = Thread.ofVirtual().start(() -> {
      try {
        third.complete(send(q, content(2, 10), 3));
      } catch (Throwable e) {
        third.completeExceptionally(e);
      }
    });
    awaitParked(t);
    assertFalse(third.isDone());
    assertArrayEquals(content(0, 10), take(q));
    assertEquals(MessageQueue.Offer.QUEUED, third.get(10, TimeUnit.SECONDS));
    assertArrayEquals(content(1, 10), take(q));
    assertArrayEquals(content(2, 10), take(q));
  }

  @Test
  void closeUnblocksBothSides() throws Exception {
    var q1 = new MessageQueue(1, OverflowPolicy.BLOCK);
    var consumer = new CompletableFuture<byte[]>();
    Thread c = Thread.ofVirtual().start(() -> {
      try {
        consumer.complete(take(q1));
      } catch (Throwable e) {
        consumer.completeExceptionally(e);
      }
    });
    awaitParked(c);
    q1.close(null);
    assertNull(consumer.get(10, TimeUnit.SECONDS), "clean end");

    var q2 = new MessageQueue(1, OverflowPolicy.BLOCK);
    send(q2, content(0, 5), 5);
    var producer = new CompletableFuture<MessageQueue.Offer>();
    Thread p = Thread.ofVirtual().start(() -> {
      try {
        producer.complete(send(q2, content(1, 50), 7));
      } catch (Throwable e) {
        producer.completeExceptionally(e);
      }
    });
    awaitParked(p);
    q2.close(null);
    assertEquals(MessageQueue.Offer.CLOSED, producer.get(10, TimeUnit.SECONDS));
    assertEquals(1, q2.droppedAfterClose());
    assertArrayEquals(content(0, 5), take(q2), "queued messages drain after close");
    assertNull(take(q2));
  }

  @Test
  void closeDrainsThenReportsTheFirstErrorStickily() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    send(q, content(0, 100), 30);
    send(q, content(1, 0), 1); // an empty message
    IOException first = new IOException("first");
    assertTrue(q.close(first));
    assertFalse(q.close(new IOException("second")));
    assertSame(first, q.closeError());
    assertArrayEquals(content(0, 100), take(q));
    try (Slice empty = q.receive()) {
      assertEquals(0, empty.length());
    }
    assertSame(first, assertThrows(IOException.class, () -> take(q)));
    assertSame(first, assertThrows(IOException.class, q::receive), "sticky");
  }

  @Test
  void abortAfterCloseReleasesTheQueuedMessagesAndKeepsTheFirstError() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    send(q, content(0, 100), 30);
    IOException first = new IOException("first");
    q.close(first);
    assertFalse(q.abort(new IOException("second")));
    assertEquals(0, q.size());
    assertEquals(1, q.releasedOnAbort());
    assertSame(first, assertThrows(IOException.class, () -> take(q)));
  }

  @Test
  void closeKeepsQueuedReleasesOpenAndRefusesLateChunks() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    send(q, content(0, 100), 30);
    send(q, new byte[0], 1);
    add(q, content(2, 100), 30);
    assertEquals(8, alloc.inUse());
    q.close(null);
    assertEquals(4, alloc.inUse(), "the open message went back at close");
    add(q, content(3, 100), 30);
    assertEquals(4, alloc.inUse(), "chunks after close are released at once");
    assertEquals(MessageQueue.Offer.CLOSED, q.publish());
    assertEquals(1, q.droppedAfterClose());
    assertArrayEquals(content(0, 100), take(q));
    AtomicReference<Long> emptyLen = new AtomicReference<>();
    assertTrue(q.receive(m -> {
      emptyLen.set(m.length());
      assertEquals(0, m.chunkCount());
      m.forEachChunk(c -> {
        throw new AssertionError("no chunk in an empty message");
      });
    }));
    assertEquals(0L, emptyLen.get());
    assertFalse(q.receive(m -> {
      throw new AssertionError("nothing left");
    }));
    assertNull(q.receive());
  }

  @Test
  void abortReleasesQueuedAndOpenMessagesAtOnce() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    send(q, content(0, 100), 30);
    send(q, content(1, 100), 60);
    add(q, content(2, 100), 30);
    IOException err = new IOException("cancelled");
    assertTrue(q.abort(err));
    assertEquals(0, alloc.inUse());
    assertEquals(2, q.releasedOnAbort());
    assertSame(err, assertThrows(IOException.class, () -> take(q)));
  }

  @Test
  void tooManyHeldChunksAbortTheQueueAndReleaseThem() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    send(q, content(0, 10), 4);
    Block b = alloc.allocate(64);
    int frame = 1 << 16;
    int frames = io.nocopy.buffer.Chunks.DEFAULT_MAX_COUNT / frame; // one chunk too many overall
    for (int f = 0; f < frames; f++) {
      for (int i = 0; i < frame; i++) {
        q.accept(b.retain(), i & 63, 1);
      }
      q.endFrame();
    }
    assertTrue(q.isClosed(), "the frame that did not fit aborted the queue");
    DrpcException e = assertInstanceOf(DrpcException.class, q.closeError());
    assertEquals(DrpcException.RESOURCE_EXHAUSTED, e.code());
    assertTrue(e.getMessage().contains("maximum of " + io.nocopy.buffer.Chunks.DEFAULT_MAX_COUNT),
        e.getMessage());
    assertEquals(0, q.heldChunks());
    assertEquals(1, q.releasedOnAbort());
    assertEquals(1, b.refCount(), "every staged, open and queued chunk was released");
    b.release();
  }

  @Test
  void cancelStreamPolicyAbortsInsteadOfBlocking() throws Exception {
    var q = new MessageQueue(2, OverflowPolicy.CANCEL_STREAM);
    assertEquals(MessageQueue.Offer.QUEUED, send(q, content(0, 10), 4));
    assertEquals(MessageQueue.Offer.QUEUED, send(q, content(1, 10), 4));
    assertEquals(MessageQueue.Offer.OVERFLOW, send(q, content(2, 10), 4));
    assertEquals(0, alloc.inUse(), "the overflowing message and the queued ones are released");
    DrpcException e = assertThrows(DrpcException.class, () -> take(q));
    assertEquals(DrpcException.RESOURCE_EXHAUSTED, e.code());
    assertEquals(MessageQueue.Offer.CLOSED, send(q, content(3, 10), 4));
  }

  @Test
  void interruptedPublisherReleasesItsMessage() throws Exception {
    var q = new MessageQueue(1, OverflowPolicy.BLOCK);
    send(q, content(0, 10), 10);
    var outcome = new CompletableFuture<Throwable>();
    Thread t = Thread.ofVirtual().start(() -> {
      try {
        send(q, content(1, 100), 10);
        outcome.complete(null);
      } catch (Throwable e) {
        outcome.complete(e);
      }
    });
    awaitParked(t);
    t.interrupt();
    assertTrue(outcome.get(10, TimeUnit.SECONDS) instanceof InterruptedException);
    assertEquals(1, alloc.inUse(), "only the queued message is held");
    assertArrayEquals(content(0, 10), take(q));
  }

  @Test
  void discardReleasesTheOpenMessageOnly() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    send(q, content(0, 100), 50);
    add(q, content(1, 100), 10);
    q.discard();
    assertEquals(2, alloc.inUse());
    send(q, content(2, 30), 7);
    assertArrayEquals(content(0, 100), take(q));
    assertArrayEquals(content(2, 30), take(q));
  }

  @Test
  void stagedChunksJoinAtEndFrameAndOnlyTheProducerReleasesThem() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    stage(q, content(0, 100), 30);
    assertEquals(0, q.heldChunks(), "staged, not yet in the queue");
    assertEquals(4, alloc.inUse());
    q.endFrame();
    assertEquals(4, q.heldChunks());
    stage(q, content(1, 60), 30);
    assertEquals(MessageQueue.Offer.QUEUED, q.publish(), "publish moves the last frame's too");
    assertEquals(6, q.heldChunks());
    byte[] both = new byte[160];
    System.arraycopy(content(0, 100), 0, both, 0, 100);
    System.arraycopy(content(1, 60), 0, both, 100, 60);
    assertArrayEquals(both, take(q));

    stage(q, content(2, 100), 30);
    q.discard();
    assertEquals(0, alloc.inUse(), "discard releases staged chunks");

    stage(q, content(3, 100), 30);
    Thread t = Thread.ofVirtual().start(() -> q.close(null));
    t.join();
    assertEquals(4, alloc.inUse(), "close (another thread) leaves the producer's staged chunks");
    q.endFrame();
    assertEquals(0, alloc.inUse(), "the producer's next endFrame releases them");
    stage(q, content(4, 10), 30);
    assertEquals(MessageQueue.Offer.CLOSED, q.publish());
    assertEquals(0, alloc.inUse(), "and so does its next publish");
  }

  @Test
  void theLentMessageIsInvalidAfterItsHandlerAndRetainKeepsTheBytes() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    send(q, content(0, 100), 40);
    send(q, content(1, 100), 40);
    AtomicReference<ReceivedMessage> kept = new AtomicReference<>();
    AtomicReference<Slice> retained = new AtomicReference<>();
    q.receive(m -> {
      kept.set(m);
      retained.set(m.retain());
    });
    ReceivedMessage stale = kept.get();
    assertThrows(IllegalStateException.class, stale::length);
    assertThrows(IllegalStateException.class, stale::chunkCount);
    assertThrows(IllegalStateException.class, () -> stale.chunk(0));
    assertThrows(IllegalStateException.class, stale::toByteArray);
    assertThrows(IllegalStateException.class, stale::retain);
    assertThrows(IllegalStateException.class, () -> stale.forEachChunk(c -> {}));
    assertTrue(stale.toString().contains("released"));
    assertEquals(6, alloc.inUse(), "message 0's 3 blocks (the retained slice) and message 1's");
    try (Slice s = retained.get()) {
      assertArrayEquals(content(0, 100), s.toByteArray());
    }
    assertThrows(IllegalStateException.class, () -> retained.get().close(), "its own checks");
    assertArrayEquals(content(1, 100), take(q));
  }

  @Test
  void nestedHandlerReceiveIsRefusedButSliceReceiveIsAllowed() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    send(q, content(0, 10), 10);
    send(q, content(1, 10), 10);
    send(q, content(2, 10), 10);
    List<byte[]> inner = new ArrayList<>();
    assertTrue(q.receive(m -> {
      assertThrows(IllegalStateException.class, () -> q.receive(x -> {}));
      try (Slice s = q.receive()) {
        inner.add(s.toByteArray());
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      assertArrayEquals(content(0, 10), m.toByteArray(), "still the outer message");
    }));
    assertArrayEquals(content(1, 10), inner.get(0));
    assertArrayEquals(content(2, 10), take(q), "the refused receive took nothing");
  }

  @Test
  void handlerExceptionPropagatesAndTheMessageIsReleased() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    send(q, content(0, 100), 10);
    send(q, content(1, 100), 10);
    IOException boom = new IOException("boom");
    assertSame(boom, assertThrows(IOException.class, () -> q.receive(m -> {
      throw boom;
    })));
    assertEquals(10, alloc.inUse(), "message 0 went back");
    assertArrayEquals(content(1, 100), take(q), "the queue goes on");
  }

  @Test
  void abortWhileAHandlerRunsLeavesItsMessageValid() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    send(q, content(0, 100), 10);
    send(q, content(1, 100), 10);
    assertTrue(q.receive(m -> {
      Thread t = Thread.ofVirtual().start(() -> q.abort(new IOException("gone")));
      try {
        t.join();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      assertEquals(10, alloc.inUse(), "only the lent message is held");
      assertArrayEquals(content(0, 100), m.toByteArray());
    }));
    assertThrows(IOException.class, () -> take(q));
  }

  @Test
  void concurrentProducerConsumerThousandMessagesInOrder() throws Exception {
    var q = new MessageQueue(4, OverflowPolicy.BLOCK);
    int n = 1000;
    var start = new CountDownLatch(1);
    var producer = new CompletableFuture<Void>();
    Thread p = Thread.ofPlatform().start(() -> {
      try {
        start.await();
        Random r = new Random(11);
        for (int i = 0; i < n; i++) {
          assertEquals(MessageQueue.Offer.QUEUED,
              send(q, content(i, r.nextInt(3000)), 1 + r.nextInt(1000)));
        }
        q.close(null);
        producer.complete(null);
      } catch (Throwable e) {
        producer.completeExceptionally(e);
      }
    });
    start.countDown();
    Random sizes = new Random(11);
    int got = 0;
    byte[] m;
    while ((m = take(q)) != null) {
      int size = sizes.nextInt(3000);
      sizes.nextInt(1000);
      assertArrayEquals(content(got, size), m, "message " + got);
      got++;
    }
    producer.get(30, TimeUnit.SECONDS);
    p.join();
    assertEquals(n, got);
  }
}
