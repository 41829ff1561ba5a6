package io.nocopy.drpc;

import static io.nocopy.drpc.DrpcTestSupport.ECHO_STREAM;
import static io.nocopy.drpc.DrpcTestSupport.ECHO_UNARY;
import static io.nocopy.drpc.DrpcTestSupport.assertAllReleased;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Reader threads (platform or virtual), unary handlers on the reader thread ({@link
 * DrpcOptions#directUnary()}), corked stream writes ({@link DrpcStream#write(Slice)} and {@link
 * DrpcStream#flush()}), the one-write server-streaming open, the decoding unary invoke and {@link
 * ReceivedMessage#buffer()}, over loopback TCP.
 */
@Timeout(30)
class DrpcDirectAndCorkedTest {
  private static final String WHERE = "/test/Where";
  private static final String BURST = "/test/Burst";

  private Allocator alloc;
  private final List<AutoCloseable> open = new ArrayList<>();
  private final AtomicReference<Thread> handlerThread = new AtomicReference<>();
  private final AtomicInteger serverWrites = new AtomicInteger();

  @BeforeEach
  void setUp() {
    alloc = Allocator.builder().maxBytes(64L << 20).build();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    assertAllReleased(alloc);
    alloc.close();
  }

  /** A server with the echo rpcs and {@link #WHERE}, which answers with its handler's thread. */
  private DrpcServer server(DrpcOptions opts) {
    DrpcServer s = DrpcTestSupport.echo(new DrpcServer(alloc, opts));
    s.register(WHERE, (stream, request) -> {
      request.close();
      handlerThread.set(Thread.currentThread());
      return slice("ok");
    });
    open.add(s);
    return s;
  }

  private DrpcClient connect(DrpcServer s, DrpcOptions opts) throws IOException {
    DrpcClient c = DrpcClient.connect(s.bind(new InetSocketAddress("127.0.0.1", 0)), alloc, opts);
    open.add(c);
    return c;
  }

  private Slice slice(String text) throws IOException {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    var block = alloc.allocate(Math.max(1, b.length));
    block.segment().asByteBuffer().put(b);
    return Slice.ofBlock(block, 0, b.length);
  }

  private Thread callWhere(DrpcOptions serverOpts) throws IOException {
    DrpcClient c = connect(server(serverOpts), DrpcOptions.DEFAULTS);
    try (Slice req = slice("where")) {
      assertEquals("ok", c.invoke(WHERE, req, Encoding.UTF8));
    }
    return handlerThread.get();
  }

  @Test
  void unaryHandlersRunOnTheirOwnVirtualThreadByDefault() throws Exception {
    Thread t = callWhere(DrpcOptions.DEFAULTS);
    assertTrue(t.isVirtual());
    assertEquals("drpc-stream", t.getName());
  }

  @Test
  void directUnaryRunsOnThePlatformReaderByDefault() throws Exception {
    Thread t = callWhere(DrpcOptions.builder().directUnary(true).build());
    assertFalse(t.isVirtual());
    assertTrue(t.isDaemon());
    assertEquals("drpc-reader-server", t.getName());
  }

  @Test
  void directUnaryRunsOnAVirtualReaderOnRequest() throws Exception {
    Thread t = callWhere(DrpcOptions.builder().directUnary(true).virtualReaders(true).build());
    assertTrue(t.isVirtual());
    assertEquals("drpc-reader-server", t.getName());
  }

  @Test
  void directUnaryEchoesErrorsAndServesStreamsAsBefore() throws Exception {
    DrpcOptions direct = DrpcOptions.builder().directUnary(true).build();
    DrpcServer s = server(direct);
    s.register("/test/Fail", (stream, req) -> {
      req.close();
      throw new DrpcException(42, "nope");
    });
    DrpcClient c = connect(s, direct);
    for (int i = 0; i < 50; i++) {
      assertArrayEquals(("m" + i).getBytes(), c.invoke(ECHO_UNARY, ("m" + i).getBytes()));
    }
    DrpcException e =
        assertThrows(DrpcException.class, () -> c.invoke("/test/Fail", new byte[] {1}));
    assertEquals(42, e.code());
    try (DrpcStream st = c.openStream(ECHO_STREAM)) {
      st.send("a".getBytes());
      try (Slice echoed = st.receive()) {
        assertArrayEquals("a".getBytes(), echoed.toByteArray());
      }
      st.closeSend();
      assertNull(st.receive());
    }
  }

  @Test
  void directUnaryWithoutARequestGetsAnError() throws Exception {
    DrpcClient c = connect(server(DrpcOptions.builder().directUnary(true).build()),
        DrpcOptions.DEFAULTS);
    try (DrpcStream st = c.openStream(ECHO_UNARY)) {
      st.closeSend(); // Invoke and CloseSend, no message: the handler runs on the CloseSend
      DrpcException e = assertThrows(DrpcException.class, st::receive);
      assertTrue(e.getMessage().contains("no request message"), e.getMessage());
    }
  }

  /** A server on a channel that counts its write calls, with {@link #BURST} registered. */
  private DrpcClient countingServer(int messages, int size) throws Exception {
    DrpcServer s = new DrpcServer(alloc, DrpcOptions.DEFAULTS);
    s.register(BURST, (StreamHandler) st -> {
      try (Slice req = st.receive()) {
        assertNotNull(req);
      }
      byte[] m = new byte[size];
      for (int i = 0; i < messages; i++) {
        ByteBuffer.wrap(m).putInt(i);
        st.write(ByteBuffer.wrap(m)); // corked: the handler's return flushes them
      }
    });
    open.add(s);
    ServerSocketChannel ssc = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
    open.add(ssc);
    DrpcClient c = DrpcClient.connect(ssc.getLocalAddress(), alloc, DrpcOptions.DEFAULTS);
    open.add(c);
    SocketChannel accepted = ssc.accept();
    accepted.setOption(StandardSocketOptions.TCP_NODELAY, true);
    s.serve(new CountingChannel(accepted, serverWrites));
    return c;
  }

  @Test
  void aCorkedServerStreamOfSmallMessagesIsAFewWrites() throws Exception {
    DrpcClient c = countingServer(100, 32);
    try (Slice req = slice("go");
        DrpcStream st = c.openStream(BURST, req)) {
      for (int i = 0; i < 100; i++) {
        try (Slice m = st.receive()) {
          assertEquals(i, m.toByteArray()[3] & 0xff);
        }
      }
      assertNull(st.receive());
    }
    // 100 messages, then CloseSend; sent one at a time this would be 101 writes
    assertTrue(serverWrites.get() <= 3, serverWrites.get() + " writes");
  }

  @Test
  void corkedWritesGoOutOnceTheLimitIsPending() throws Exception {
    CountDownLatch firstSeen = new CountDownLatch(1);
    AtomicReference<Throwable> waited = new AtomicReference<>();
    DrpcServer s = server(DrpcOptions.DEFAULTS);
    s.register(BURST, (StreamHandler) st -> {
      byte[] m = new byte[1024];
      for (int i = 0; i < 2 * Connection.CORK_LIMIT / m.length; i++) {
        ByteBuffer.wrap(m).putInt(i);
        st.write(ByteBuffer.wrap(m));
      }
      try {
        // nothing flushed explicitly: the client sees messages only because the limit sent them
        if (!firstSeen.await(10, TimeUnit.SECONDS)) {
          waited.set(new AssertionError("the client saw no message"));
        }
      } catch (InterruptedException e) {
        waited.set(e);
      }
    });
    DrpcClient c = connect(s, DrpcOptions.DEFAULTS);
    try (DrpcStream st = c.openStream(BURST)) {
      try (Slice first = st.receive()) {
        assertEquals(1024, first.length());
      }
      firstSeen.countDown();
      int n = 1;
      for (Slice m; (m = st.receive()) != null; n++) {
        m.close();
      }
      assertEquals(2 * Connection.CORK_LIMIT / 1024, n);
    }
    assertNull(waited.get());
  }

  @Test
  void flushSendsWhatWasWritten() throws Exception {
    CountDownLatch seen = new CountDownLatch(1);
    DrpcServer s = server(DrpcOptions.DEFAULTS);
    s.register(BURST, (StreamHandler) st -> {
      try (Slice m = slice("one")) {
        st.write(m);
      }
      st.flush();
      try {
        seen.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    DrpcClient c = connect(s, DrpcOptions.DEFAULTS);
    try (DrpcStream st = c.openStream(BURST)) {
      try (Slice m = st.receive()) {
        assertEquals("one", new String(m.toByteArray(), StandardCharsets.UTF_8));
      }
      seen.countDown();
      assertNull(st.receive());
    }
  }

  @Test
  void openStreamWithARequestSendsItWithCloseSend() throws Exception {
    DrpcClient c = connect(server(DrpcOptions.DEFAULTS), DrpcOptions.DEFAULTS);
    try (Slice req = slice("hello");
        DrpcStream st = c.openStream(ECHO_STREAM, req)) {
      try (Slice m = st.receive()) {
        assertEquals("hello", new String(m.toByteArray(), StandardCharsets.UTF_8));
      }
      assertNull(st.receive()); // the echo ends when it sees the CloseSend
      assertThrows(DrpcException.class, () -> st.send(new byte[1]));
    }
  }

  @Test
  void invokeDecodesTheResponseInPlace() throws Exception {
    DrpcClient c = connect(server(DrpcOptions.DEFAULTS), DrpcOptions.DEFAULTS);
    AtomicInteger inPlace = new AtomicInteger();
    Encoding<String> viaBuffer = new Encoding<>() {
      @Override
      public String decode(Slice message) {
        throw new AssertionError("decode(ReceivedMessage) is used");
      }

      @Override
      public String decode(ReceivedMessage message) {
        inPlace.incrementAndGet();
        return StandardCharsets.UTF_8.decode(message.buffer()).toString();
      }

      @Override
      public ByteBuffer encode(String value) {
        return ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8));
      }
    };
    try (Slice req = slice("héllo")) {
      assertEquals("héllo", c.invoke(ECHO_UNARY, req, viaBuffer));
      assertEquals("héllo", c.invoke(ECHO_UNARY, req, Encoding.UTF8)); // the default: a slice
    }
    assertEquals(1, inPlace.get());
    try (Slice empty = Slice.empty()) {
      assertEquals("", c.invoke(ECHO_UNARY, empty, viaBuffer));
    }
  }

  @Test
  void bufferIsAReadOnlyViewOfAOneChunkMessage() throws Exception {
    // the server splits its echoes into frames of 1 KiB: a 3000-byte message has several chunks
    DrpcClient c = connect(server(DrpcOptions.builder().maxFrameSize(1024).build()),
        DrpcOptions.DEFAULTS);
    byte[] small = "small message".getBytes(StandardCharsets.UTF_8);
    byte[] big = new byte[3000];
    big[2999] = 7;
    List<Object> seen = new ArrayList<>();
    ReceivedMessage[] kept = new ReceivedMessage[1];
    try (DrpcStream st = c.openStream(ECHO_STREAM)) {
      st.send(small);
      st.send(big);
      st.closeSend();
      MessageHandler h = m -> {
        kept[0] = m;
        ByteBuffer b = m.buffer();
        if (b == null) {
          seen.add(m.chunkCount());
          return;
        }
        assertTrue(b.isDirect() && b.isReadOnly());
        byte[] copy = new byte[b.remaining()];
        b.get(copy);
        assertArrayEquals(m.toByteArray(), copy);
        seen.add(new String(copy, StandardCharsets.UTF_8));
      };
      assertTrue(st.receive(h));
      assertTrue(st.receive(h));
      assertFalse(st.receive(h));
    }
    assertEquals("small message", seen.get(0));
    assertTrue((Integer) seen.get(1) > 1, "the big message has several chunks: " + seen);
    assertThrows(IllegalStateException.class, () -> kept[0].buffer());
  }

  /** A socket that counts write calls (each gathering or single write is one system call). */
  private static final class CountingChannel implements ByteChannel, GatheringByteChannel {
    private final SocketChannel ch;
    private final AtomicInteger writes;

    CountingChannel(SocketChannel ch, AtomicInteger writes) {
      this.ch = ch;
      this.writes = writes;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return ch.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      writes.incrementAndGet();
      return ch.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      writes.incrementAndGet();
      return ch.write(srcs, offset, length);
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
      return write(srcs, 0, srcs.length);
    }

    @Override
    public boolean isOpen() {
      return ch.isOpen();
    }

    @Override
    public void close() throws IOException {
      ch.close();
    }
  }
}
