package io.nocopy.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class IndexQueueTest {
  @Test
  void fifoAndBounds() {
    IndexQueue q = new IndexQueue(5);
    assertEquals(8, q.capacity());
    for (int i = 0; i < 8; i++) {
      assertTrue(q.offer(i));
    }
    assertFalse(q.offer(99), "full");
    assertEquals(8, q.size());
    for (int lap = 0; lap < 3; lap++) {
      for (int i = 0; i < 8; i++) {
        int v = q.poll();
        assertEquals(i, v);
        assertTrue(q.offer(v));
      }
    }
    for (int i = 0; i < 8; i++) {
      assertEquals(i, q.poll());
    }
    assertEquals(IndexQueue.EMPTY, q.poll());
    assertEquals(0, q.size());
  }

  @Test
  void rejectsBadCapacity() {
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new IndexQueue(0));
  }

  /** Tokens circulate between threads through the queue: none lost, none duplicated. */
  @Test
  void tokensCirculateWithoutLossOrDuplication() throws Exception {
    int tokens = 16;
    IndexQueue q = new IndexQueue(tokens);
    for (int i = 0; i < tokens; i++) {
      q.offer(i);
    }
    AtomicIntegerArray held = new AtomicIntegerArray(tokens);
    AtomicLong violations = new AtomicLong();
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      ts.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int r = 0; r < 500_000; r++) {
                      int v = q.poll();
                      if (v == IndexQueue.EMPTY) {
                        continue;
                      }
                      if (held.getAndIncrement(v) != 0) {
                        violations.incrementAndGet();
                      }
                      held.decrementAndGet(v);
                      if (!q.offer(v)) {
                        violations.incrementAndGet();
                      }
                    }
                  }));
    }
    for (Thread t : ts) {
      t.join();
    }
    assertEquals(0, violations.get());
    assertEquals(tokens, q.size());
    boolean[] seen = new boolean[tokens];
    for (int i = 0; i < tokens; i++) {
      int v = q.poll();
      assertFalse(seen[v]);
      seen[v] = true;
    }
  }
}
