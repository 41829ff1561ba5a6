package io.nocopy.drpc;

import static io.nocopy.drpc.DrpcTestSupport.ECHO_UNARY;
import static io.nocopy.drpc.DrpcTestSupport.assertAllReleased;
import static io.nocopy.drpc.DrpcTestSupport.echo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A stream's end racing its incoming messages: the server sends messages until sending fails,
 * while the client takes a few and then ends the stream from one or two threads at once (cancel,
 * close, sendError, in any pairing), with the reader waiting for queue room, publishing, or
 * dropping at that moment. Invariant, per stream: every message the server's send returned for
 * reaches the client exactly once, as a message received, a queued message released by the end,
 * or a message dropped for an ended stream ({@link DrpcClient#droppedMessages()}). Afterwards
 * the connection still serves calls and every block is back in the pool.
 */
class DrpcStreamEndStressTest {
  private static final String FLOOD = "/stress.Flood/Until";
  private static final int ROUNDS = 300;

  private enum End {
    CANCEL,
    CLOSE,
    ERROR
  }

  private static void end(DrpcStream s, End how) {
    try {
      switch (how) {
        case CANCEL -> s.cancel();
        case CLOSE -> s.close();
        case ERROR -> s.sendError(9, "enough");
      }
    } catch (IOException e) {
      throw new AssertionError("ending a stream on a live connection failed", e);
    }
  }

  @Test
  void everySentMessageIsReceivedReleasedOrCountedOnce() throws Exception {
    AtomicReference<CompletableFuture<Long>> sent = new AtomicReference<>();
    Random rnd = new Random(11);
    try (Allocator alloc = Allocator.builder().maxBytes(64L << 20).build()) {
      try (DrpcServer server = echo(new DrpcServer(alloc, DrpcOptions.DEFAULTS))) {
        server.register(
            FLOOD,
            (StreamHandler)
                s -> {
                  CompletableFuture<Long> done = sent.get();
                  byte[] msg = new byte[256];
                  long n = 0;
                  try {
                    while (true) {
                      s.send(msg);
                      n++; // the send returned: its bytes are on their way
                    }
                  } finally {
                    done.complete(n);
                  }
                });
        SocketAddress addr = server.bind(new InetSocketAddress("127.0.0.1", 0));
        DrpcOptions small = DrpcOptions.builder().queueCapacity(4).build(); // the reader waits
        try (DrpcClient c = DrpcClient.connect(addr, alloc, small)) {
          for (int round = 0; round < ROUNDS; round++) {
            CompletableFuture<Long> done = new CompletableFuture<>();
            sent.set(done);
            long droppedBefore = c.droppedMessages();
            DrpcStream s = c.openStream(FLOOD);
            long received = 0;
            int take = rnd.nextInt(6);
            for (int i = 0; i < take; i++) {
              if (rnd.nextBoolean()) {
                try (Slice m = s.receive()) {
                  received++;
                }
              } else if (s.receive(m -> {})) {
                received++;
              }
            }
            End first = End.values()[rnd.nextInt(3)];
            End second = rnd.nextBoolean() ? End.values()[rnd.nextInt(3)] : null;
            List<Thread> enders = new ArrayList<>();
            enders.add(Thread.ofVirtual().start(() -> end(s, first)));
            if (second != null) {
              enders.add(Thread.ofVirtual().start(() -> end(s, second)));
            }
            for (Thread t : enders) {
              t.join(10_000);
              assertTrue(!t.isAlive(), "round " + round + ": ending the stream hangs");
            }
            long n = done.get(10, TimeUnit.SECONDS);
            // the server answers this after its last send: the reader has seen every message
            byte[] sync = {(byte) round};
            assertArrayEquals(sync, c.invoke(ECHO_UNARY, sync));
            long released = s.queue().releasedOnAbort();
            long dropped = c.droppedMessages() - droppedBefore;
            assertEquals(
                n,
                received + released + dropped,
                "round " + round + " (" + first + ", " + second + "): sent " + n + ", received "
                    + received + ", released " + released + ", dropped " + dropped);
            s.close();
          }
        }
      }
      assertAllReleased(alloc);
    }
  }
}
