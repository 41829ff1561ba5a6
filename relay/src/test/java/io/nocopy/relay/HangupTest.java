package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HangupTest {
  @Test
  void aRealSighupRunsEveryActionInOrderEvenAfterOneThrows() throws Exception {
    List<String> ran = new CopyOnWriteArrayList<>();
    Runnable first = () -> ran.add("first");
    Runnable failing = () -> {
      ran.add("failing");
      throw new IllegalStateException("expected by the test");
    };
    Runnable last = () -> ran.add("last");
    Hangup.onSignal(first);
    Hangup.onSignal(failing);
    Hangup.onSignal(last);
    try {
      Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid()))
          .inheritIO().start();
      assertEquals(0, kill.waitFor());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (ran.size() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(List.of("first", "failing", "last"), ran);
      Hangup.remove(failing);
      Hangup.raise();
      assertEquals(List.of("first", "failing", "last", "first", "last"), ran);
    } finally {
      Hangup.remove(first);
      Hangup.remove(failing);
      Hangup.remove(last);
    }
  }
}
