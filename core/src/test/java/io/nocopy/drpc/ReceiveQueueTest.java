package io.nocopy.drpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** drpc's ring buffer scenarios, plus the ownership rules this queue adds. */
class ReceiveQueueTest {
  /** A message that must be released exactly once. */
  static final class Msg {
    final int n;
    final AtomicInteger releases = new AtomicInteger();

    Msg(int n) {
      this.n = n;
    }

    void release() {
      if (releases.incrementAndGet() != 1) {
        throw new IllegalStateException("double release of " + n);
      }
    }
  }

  private final List<Msg> releasedByQueue = new CopyOnWriteArrayList<>();

  private ReceiveQueue<Msg> queue(int cap, OverflowPolicy p) {
    return new ReceiveQueue<>(
        cap,
        p,
        m -> {
          m.release();
          releasedByQueue.add(m);
        });
  }

  /** Waits (bounded) until a thread is parked: no timing assumptions in assertions. */
  private static void awaitParked(Thread t) throws InterruptedException {
    for (int i = 0; i < 10_000 && t.getState() != Thread.State.WAITING
        && t.getState() != Thread.State.TIMED_WAITING; i++) {
      Thread.sleep(1);
    }
    assertTrue(
        t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING,
        "thread state " + t.getState());
  }

  @Test
  void enqueueDequeue() throws Exception {
    var q = queue(4, OverflowPolicy.BLOCK);
    Msg m = new Msg(1);
    assertEquals(ReceiveQueue.Offer.QUEUED, q.enqueue(m));
    assertEquals(1, q.size());
    assertSame(m, q.dequeue());
    assertEquals(0, q.size());
    assertEquals(0, m.releases.get(), "ownership went to the consumer, queue did not release");
  }

  @Test
  void fifo() throws Exception {
    var q = queue(8, OverflowPolicy.BLOCK);
    for (int i = 0; i < 8; i++) {
      q.enqueue(new Msg(i));
    }
    for (int i = 0; i < 8; i++) {
      assertEquals(i, q.dequeue().n);
    }
  }

  @Test
  void dequeueBlocksUntilEnqueue() throws Exception {
    var q = queue(2, OverflowPolicy.BLOCK);
    var got = new CompletableFuture<Msg>();
    Thread t = Thread.ofVirtual().start(() -> {
      try {
        got.complete(q.dequeue());
      } catch (Throwable e) {
        got.completeExceptionally(e);
      }
    });
    awaitParked(t);
    assertFalse(got.isDone());
    Msg m = new Msg(7);
    q.enqueue(m);
    assertSame(m, got.get(10, TimeUnit.SECONDS));
  }

  @Test
  void fullQueueBlocksProducer() throws Exception {
    var q = queue(2, OverflowPolicy.BLOCK);
    q.enqueue(new Msg(0));
    q.enqueue(new Msg(1));
    var offered = new CompletableFuture<ReceiveQueue.Offer>();
    Thread t = Thread.ofVirtual().start(() -> {
      try {
        offered.complete(q.enqueue(new Msg(2)));
      } catch (Throwable e) {
        offered.completeExceptionally(e);
      }
    });
    awaitParked(t);
    assertFalse(offered.isDone());
    assertEquals(0, q.dequeue().n);
    assertEquals(ReceiveQueue.Offer.QUEUED, offered.get(10, TimeUnit.SECONDS));
    assertEquals(1, q.dequeue().n);
    assertEquals(2, q.dequeue().n);
  }

  @Test
  void closeUnblocksBothSides() throws Exception {
    var q = queue(1, OverflowPolicy.BLOCK);
    var consumer = new CompletableFuture<Msg>();
    Thread c = Thread.ofVirtual().start(() -> {
      try {
        consumer.complete(q.dequeue());
      } catch (Throwable e) {
        consumer.completeExceptionally(e);
      }
    });
    awaitParked(c);
    assertTrue(q.close(null));
    assertNull(consumer.get(10, TimeUnit.SECONDS), "clean end of stream");

    var q2 = queue(1, OverflowPolicy.BLOCK);
    q2.enqueue(new Msg(0));
    Msg blocked = new Msg(1);
    var producer = new CompletableFuture<ReceiveQueue.Offer>();
    Thread p = Thread.ofVirtual().start(() -> {
      try {
        producer.complete(q2.enqueue(blocked));
      } catch (Throwable e) {
        producer.completeExceptionally(e);
      }
    });
    awaitParked(p);
    q2.close(new EOFException("bye"));
    assertEquals(ReceiveQueue.Offer.CLOSED, producer.get(10, TimeUnit.SECONDS));
    assertEquals(1, blocked.releases.get(), "refused message released at once");
    assertEquals(1, q2.droppedAfterClose());
  }

  @Test
  void closeDrainsQueuedMessagesBeforeEof() throws Exception {
    var q = queue(4, OverflowPolicy.BLOCK);
    q.enqueue(new Msg(0));
    q.enqueue(new Msg(1));
    IOException err = new IOException("remote error");
    q.close(err);
    assertFalse(q.isDrained());
    assertEquals(0, q.dequeue().n);
    assertEquals(1, q.dequeue().n);
    assertTrue(q.isDrained());
    assertSame(err, assertThrows(IOException.class, q::dequeue));
    assertSame(err, assertThrows(IOException.class, q::dequeue), "error is sticky");
    assertTrue(releasedByQueue.isEmpty());
  }

  @Test
  void closeIsIdempotentFirstErrorWins() throws Exception {
    var q = queue(2, OverflowPolicy.BLOCK);
    IOException first = new IOException("first");
    assertTrue(q.close(first));
    assertFalse(q.close(new IOException("second")));
    assertFalse(q.close(null));
    assertFalse(q.abort(new IOException("third")));
    assertSame(first, q.closeError());
    assertSame(first, assertThrows(IOException.class, q::dequeue));
  }

  @Test
  void enqueueAfterCloseReleasesAndCounts() throws Exception {
    var q = queue(2, OverflowPolicy.BLOCK);
    q.close(null);
    Msg late = new Msg(9);
    assertEquals(ReceiveQueue.Offer.CLOSED, q.enqueue(late));
    assertEquals(1, late.releases.get());
    assertEquals(List.of(late), releasedByQueue);
    assertEquals(1, q.droppedAfterClose());
    assertNull(q.dequeue());
  }

  @Test
  void consumerReleasesAfterClose() throws Exception {
    var q = queue(2, OverflowPolicy.BLOCK);
    Msg m = new Msg(1);
    q.enqueue(m);
    Msg held = q.dequeue();
    q.abort(new IOException("cancelled"));
    assertEquals(0, held.releases.get(), "the consumer's message is not the queue's to release");
    held.release();
    assertEquals(1, m.releases.get());
  }

  @Test
  void abortReleasesQueued() throws Exception {
    var q = queue(4, OverflowPolicy.BLOCK);
    Msg a = new Msg(0);
    Msg b = new Msg(1);
    q.enqueue(a);
    q.enqueue(b);
    q.abort(new IOException("cancelled"));
    assertEquals(1, a.releases.get());
    assertEquals(1, b.releases.get());
    assertEquals(2, q.releasedOnAbort());
    assertThrows(IOException.class, q::dequeue);
  }

  @Test
  void slotReuse() throws Exception {
    var q = queue(3, OverflowPolicy.BLOCK);
    for (int i = 0; i < 100; i++) {
      q.enqueue(new Msg(2 * i));
      q.enqueue(new Msg(2 * i + 1));
      assertEquals(2 * i, q.dequeue().n);
      assertEquals(2 * i + 1, q.dequeue().n);
    }
    assertEquals(0, q.size());
  }

  @Test
  void ringGrowsToCapacityKeepingOrderAcrossWrapAround() throws Exception {
    var q = queue(16, OverflowPolicy.CANCEL_STREAM);
    int next = 0;
    int expect = 0;
    for (int i = 0; i < 3; i++) {
      q.enqueue(new Msg(next++));
    }
    for (int i = 0; i < 2; i++) {
      assertEquals(expect++, q.dequeue().n);
    }
    while (q.size() < 16) { // grows 4 -> 8 -> 16 with the head in the middle of the ring
      assertEquals(ReceiveQueue.Offer.QUEUED, q.enqueue(new Msg(next++)));
    }
    assertEquals(16, q.capacity());
    assertEquals(ReceiveQueue.Offer.OVERFLOW, q.enqueue(new Msg(next)), "full at capacity");
    var e = assertThrows(DrpcException.class, q::dequeue);
    assertTrue(e.getMessage().contains("capacity 16"));
    assertEquals(16, releasedByQueue.size() - 1, "16 queued plus the refused one released");
  }

  @Test
  void ringGrowthKeepsFifo() throws Exception {
    // at most 181 messages are ever queued here; a full queue would fail (CANCEL_STREAM), not block
    var q = queue(256, OverflowPolicy.CANCEL_STREAM);
    int next = 0;
    int expect = 0;
    for (int round = 0; round < 10; round++) {
      for (int i = 0; i < 7 * round % 50 + 1; i++) {
        assertEquals(ReceiveQueue.Offer.QUEUED, q.enqueue(new Msg(next++)));
      }
      for (int i = 0; i < 3 * round % 20 + 1 && q.size() > 0; i++) {
        assertEquals(expect++, q.dequeue().n);
      }
    }
    while (q.size() > 0) {
      assertEquals(expect++, q.dequeue().n);
    }
    assertEquals(next, expect);
  }

  @Test
  void cancelStreamPolicyAbortsInsteadOfBlocking() throws Exception {
    var q = queue(2, OverflowPolicy.CANCEL_STREAM);
    Msg a = new Msg(0);
    Msg b = new Msg(1);
    Msg c = new Msg(2);
    assertEquals(ReceiveQueue.Offer.QUEUED, q.enqueue(a));
    assertEquals(ReceiveQueue.Offer.QUEUED, q.enqueue(b));
    assertEquals(ReceiveQueue.Offer.OVERFLOW, q.enqueue(c));
    assertEquals(1, a.releases.get());
    assertEquals(1, b.releases.get());
    assertEquals(1, c.releases.get());
    DrpcException e = assertThrows(DrpcException.class, q::dequeue);
    assertEquals(DrpcException.RESOURCE_EXHAUSTED, e.code());
    assertTrue(e.getMessage().contains("capacity 2"), e.getMessage());
    assertEquals(ReceiveQueue.Offer.CLOSED, q.enqueue(new Msg(3)));
  }

  @Test
  void interruptedProducerReleasesItsMessage() throws Exception {
    var q = queue(1, OverflowPolicy.BLOCK);
    q.enqueue(new Msg(0));
    Msg m = new Msg(1);
    var done = new CompletableFuture<Throwable>();
    Thread t = Thread.ofVirtual().start(() -> {
      try {
        q.enqueue(m);
        done.complete(null);
      } catch (Throwable e) {
        done.complete(e);
      }
    });
    awaitParked(t);
    t.interrupt();
    assertTrue(done.get(10, TimeUnit.SECONDS) instanceof InterruptedException);
    assertEquals(1, m.releases.get());
  }

  @Test
  void timedDequeue() throws Exception {
    var q = queue(1, OverflowPolicy.BLOCK);
    assertThrows(
        java.util.concurrent.TimeoutException.class, () -> q.dequeue(1, TimeUnit.MILLISECONDS));
    q.enqueue(new Msg(5));
    assertEquals(5, q.dequeue(1, TimeUnit.SECONDS).n);
    assertNull(q.poll());
  }

  @Test
  void concurrentProducerConsumerInOrder() throws Exception {
    var q = queue(8, OverflowPolicy.BLOCK);
    int n = 1000;
    var start = new CountDownLatch(1);
    var producer = new CompletableFuture<Void>();
    Thread p = new Thread(() -> {
      try {
        start.await();
        for (int i = 0; i < n; i++) {
          assertEquals(ReceiveQueue.Offer.QUEUED, q.enqueue(new Msg(i)));
        }
        q.close(null);
        producer.complete(null);
      } catch (Throwable e) {
        producer.completeExceptionally(e);
      }
    });
    p.start();
    start.countDown();
    List<Integer> got = new ArrayList<>();
    for (Msg m; (m = q.dequeue()) != null; ) {
      got.add(m.n);
      m.release();
    }
    producer.get(30, TimeUnit.SECONDS);
    assertEquals(n, got.size());
    for (int i = 0; i < n; i++) {
      assertEquals(i, got.get(i));
    }
    assertTrue(releasedByQueue.isEmpty());
  }
}
