package io.nocopy.drpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/** An echo service and resource checks shared by the transport tests. */
final class DrpcTestSupport {
  private DrpcTestSupport() {}

  /** Unary echo: the response is the request slice itself, sent by reference. */
  static final String ECHO_UNARY = "/nocopy.Echo/Unary";

  /** Streaming echo: each message sent back, in order, until the client closes its side. */
  static final String ECHO_STREAM = "/nocopy.Echo/Stream";

  /** Registers {@link #ECHO_UNARY} and {@link #ECHO_STREAM}. */
  static DrpcServer echo(DrpcServer server) {
    StreamHandler stream =
        s -> {
          Slice m;
          while ((m = s.receive()) != null) {
            try (Slice echoed = m) {
              s.send(echoed);
            }
          }
        };
    return server.register(ECHO_UNARY, (s, request) -> request).register(ECHO_STREAM, stream);
  }

  static int openFds() {
    String[] fds = new File("/proc/self/fd").list();
    return fds == null ? -1 : fds.length;
  }

  /** Waits (bounded: 10 s) for a condition that asynchronous cleanup makes true. */
  static void await(BooleanSupplier cond, String what) throws InterruptedException {
    for (int i = 0; i < 2000 && !cond.getAsBoolean(); i++) {
      Thread.sleep(5);
    }
    if (!cond.getAsBoolean()) {
      throw new AssertionError("timed out waiting for: " + what);
    }
  }

  /**
   * A streaming handler that reads N (as text) and sends N messages of 1 KiB (-1: until sending
   * fails), message i starting with i as a big-endian int; completes {@code outcome} with null
   * after the last send, or with the send's failure. With {@code hold} it then keeps the stream
   * open until the client ends it.
   */
  static StreamHandler flood(CompletableFuture<Throwable> outcome, boolean hold) {
    return s -> {
      int n;
      try (Slice req = s.receive()) {
        n = Integer.parseInt(new String(req.toByteArray(), StandardCharsets.UTF_8));
      }
      try {
        byte[] msg = new byte[1024];
        for (int i = 0; n < 0 || i < n; i++) {
          ByteBuffer.wrap(msg).putInt(i);
          s.send(msg);
        }
        outcome.complete(null);
      } catch (IOException e) {
        outcome.complete(e);
        throw e;
      }
      if (hold) {
        try (Slice end = s.receive()) {
          // null when the client closes its side
        } catch (IOException e) {
          // the client cancelled or closed the stream
        }
      }
    };
  }

  static void assertAllReleased(Allocator alloc) throws InterruptedException {
    await(() -> alloc.inUse() == 0, "every pooled block released (in use: " + alloc.inUse() + ")");
    assertEquals(0, alloc.inUse());
  }

  static void assertFdsBack(int before) throws InterruptedException {
    if (before < 0) {
      return; // no /proc
    }
    await(() -> openFds() <= before, "file descriptors back to " + before + " (now " + openFds() + ")");
  }
}
