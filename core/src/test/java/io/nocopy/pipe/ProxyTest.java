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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Transfer#proxy}: both directions of a connection on one thread, on the splice path (one
 * epoll loop) and on the fallback (a helper thread per connection), from platform and virtual
 * threads. Pair {@code client}: {@code a} is the client, {@code b} the proxy's accepted side; pair
 * {@code server}: {@code a} is the proxy's upstream side, {@code b} the server.
 */
class ProxyTest extends FdCheckedTest {

  static Stream<Arguments> shapes() {
    return Stream.of(
        Arguments.of(Kind.TCP, Kind.TCP, true),
        Arguments.of(Kind.TCP, Kind.TCP, false),
        Arguments.of(Kind.UNIX, Kind.TCP, true),
        Arguments.of(Kind.TCP, Kind.UNIX, false));
  }

  /** Runs the proxy between {@code client.b} and {@code server.a} on a new thread. */
  private static CompletableFuture<Transfer.Proxied> startProxy(
      Pair client, Pair server, boolean virtual, Thread[] thread) {
    CompletableFuture<Transfer.Proxied> f = new CompletableFuture<>();
    Runnable body =
        () -> {
          try {
            f.complete(Transfer.proxy(client.b(), server.a()));
          } catch (Throwable e) {
            f.completeExceptionally(e);
          }
        };
    thread[0] = virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body);
    return f;
  }

  @ParameterizedTest(name = "{0} client, {1} server, virtual thread: {2}")
  @MethodSource("shapes")
  void echoThroughTheProxyEndsWhenBothSidesClose(Kind c, Kind s, boolean virtual)
      throws Exception {
    byte[] data = Net.random(1_500_000, 11 + c.ordinal());
    try (Pair client = Net.pair(c);
        Pair server = Net.pair(s)) {
      Thread[] th = new Thread[1];
      CompletableFuture<Transfer.Proxied> p = startProxy(client, server, virtual, th);
      Future<Void> e = Net.echo(server.b());
      Future<byte[]> back = Net.readAll(client.a());
      Future<Void> w = Net.writeAll(client.a(), data, 5000, 12);
      w.get(30, TimeUnit.SECONDS);
      assertArrayEquals(data, back.get(30, TimeUnit.SECONDS));
      e.get(30, TimeUnit.SECONDS);
      assertEquals(new Transfer.Proxied(data.length, data.length), p.get(30, TimeUnit.SECONDS));
      th[0].join();
    }
  }

  /**
   * A request, its end (half-close), then a bulk response: the half-close travels through the
   * proxy while the other direction keeps going, and the bulk goes through splice when
   * accelerated.
   */
  @ParameterizedTest(name = "virtual thread: {0}")
  @ValueSource(booleans = {true, false})
  void halfCloseTravelsAndTheResponseStillFlows(boolean virtual) throws Exception {
    byte[] request = Net.random(10_000, 3);
    long response = 24L << 20;
    long spliced = Accel.SPLICED.sum();
    try (Pair client = Net.pair(Kind.TCP);
        Pair server = Net.pair(Kind.TCP)) {
      Thread[] th = new Thread[1];
      CompletableFuture<Transfer.Proxied> p = startProxy(client, server, virtual, th);
      Future<Void> sent = Net.writeAll(client.a(), request, 1000, 4); // then shuts output
      Future<byte[]> got = Net.readAll(server.b()); // ends only if the half-close came through
      sent.get(30, TimeUnit.SECONDS);
      assertArrayEquals(request, got.get(30, TimeUnit.SECONDS));
      Future<String> hash = Net.hashAll(client.a());
      Future<String> out =
          Net.writeGenerated(server.b(), response, 9, () -> Net.shutdownOutput(server.b()));
      assertEquals(out.get(60, TimeUnit.SECONDS), hash.get(60, TimeUnit.SECONDS));
      assertEquals(new Transfer.Proxied(request.length, response), p.get(30, TimeUnit.SECONDS));
      th[0].join();
    }
    long splicedNow = Accel.SPLICED.sum() - spliced;
    if (Net.fallbackRun()) {
      assertEquals(0, splicedNow, "the fallback must not splice");
    } else {
      assertTrue(splicedNow >= response * 3 / 4, "spliced " + splicedNow + " of " + response);
    }
  }

  @ParameterizedTest(name = "virtual thread: {0}")
  @ValueSource(booleans = {true, false})
  void closeFromAnotherThreadIsPrompt(boolean virtual) throws Exception {
    try (Pair client = Net.pair(Kind.TCP);
        Pair server = Net.pair(Kind.TCP)) {
      Thread[] th = new Thread[1];
      CompletableFuture<Transfer.Proxied> p = startProxy(client, server, virtual, th);
      Thread.sleep(300); // both directions idle: the proxy waits
      assertFalse(p.isDone());
      long t0 = System.nanoTime();
      (virtual ? client.b() : server.a()).close();
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> p.get(10, TimeUnit.SECONDS));
      assertInstanceOf(AsynchronousCloseException.class, e.getCause());
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
      th[0].join();
    }
  }

  @ParameterizedTest(name = "virtual thread: {0}")
  @ValueSource(booleans = {false, true})
  void interruptIsPrompt(boolean virtual) throws Exception {
    try (Pair client = Net.pair(Kind.UNIX);
        Pair server = Net.pair(Kind.TCP)) {
      Thread[] th = new Thread[1];
      CompletableFuture<Transfer.Proxied> p = startProxy(client, server, virtual, th);
      Thread.sleep(300);
      assertFalse(p.isDone());
      th[0].interrupt();
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> p.get(10, TimeUnit.SECONDS));
      assertInstanceOf(ClosedByInterruptException.class, e.getCause());
      th[0].join();
    }
  }

  @Test
  void aResetPeerEndsBothDirectionsWithAnIOException() throws Exception {
    try (Pair client = Net.pair(Kind.TCP);
        Pair server = Net.pair(Kind.TCP)) {
      Thread[] th = new Thread[1];
      CompletableFuture<Transfer.Proxied> p = startProxy(client, server, true, th);
      ByteBuffer bb = ByteBuffer.allocateDirect(64 * 1024);
      client.a().write(bb);
      ByteBuffer in = ByteBuffer.allocate(64 * 1024);
      while (in.hasRemaining()) {
        server.b().read(in);
      }
      server.b().setOption(StandardSocketOptions.SO_LINGER, 0);
      server.b().close(); // RST to the proxy's upstream side: its read there fails
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> p.get(30, TimeUnit.SECONDS));
      assertInstanceOf(IOException.class, e.getCause());
      th[0].join();
    }
  }

  @Test
  void theSameSocketTwiceIsRefused() throws Exception {
    try (Pair client = Net.pair(Kind.TCP)) {
      assertThrows(IllegalArgumentException.class, () -> Transfer.proxy(client.b(), client.b()));
    }
  }
}
