package io.nocopy.drpc;

import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Runs a server-side connection over a {@link MemoryChannel} fed with crafted bytes; every invoked
 * stream is drained (messages released) and closed by its own virtual thread, like a handler.
 */
final class ServerHarness {
  final MemoryChannel channel;
  final Connection conn;
  final List<Thread> handlers = new CopyOnWriteArrayList<>();
  final List<String> rpcs = new CopyOnWriteArrayList<>();
  final List<String> received = new CopyOnWriteArrayList<>();

  ServerHarness(byte[] input, long seed, int maxChunk, Allocator alloc, DrpcOptions opts)
      throws IOException {
    channel = new MemoryChannel(input, seed, maxChunk);
    conn = new Connection(channel, alloc, opts, Connection.Role.SERVER, this::onInvoke);
  }

  private Runnable onInvoke(DrpcStream s, String rpc) {
    rpcs.add(rpc);
    handlers.add(Thread.ofVirtual().start(() -> {
      try (s) {
        while (true) {
          try (Slice m = s.receive()) {
            if (m == null) {
              break;
            }
            received.add(new String(m.toByteArray(), java.nio.charset.StandardCharsets.ISO_8859_1));
            s.send(m); // echo (the output is collected, never read back)
          }
        }
        s.closeSend();
      } catch (IOException e) {
        // the connection failed: fine for these tests
      }
    }));
    return null;
  }

  /** Runs until the input is consumed or rejected; returns the connection's failure. */
  IOException run() throws InterruptedException {
    conn.start(null);
    conn.readerThread().join();
    for (Thread t : handlers) {
      t.join();
    }
    return conn.failure();
  }
}
