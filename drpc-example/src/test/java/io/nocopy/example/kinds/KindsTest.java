package io.nocopy.example.kinds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.drpc.DrpcClient;
import io.nocopy.drpc.DrpcException;
import io.nocopy.drpc.DrpcOptions;
import io.nocopy.drpc.DrpcServer;
import io.nocopy.drpc.protobuf.ProtoStream;
import io.nocopy.example.kinds.KindsOuterClass.Outer;
import io.nocopy.example.kinds.KindsOuterClass.Outer.Inner;
import io.nocopy.example.kinds.KindsOuterClass.Outer.Inner.Deep;
import io.nocopy.example.multi.MultiDrpc;
import io.nocopy.example.multi.Reply;
import io.nocopy.memory.Allocator;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every rpc kind between a generated client and a generated server, over TCP and Unix sockets:
 * results, errors with their codes, cancellation from the client while the server sends or
 * waits, and the connection still serving after each.
 */
class KindsTest {
  enum Transport { TCP, UNIX }

  @TempDir Path dir;
  private Allocator alloc;
  private DrpcServer server;
  private DrpcClient connection;
  private final KindsService service = new KindsService();
  private KindsDrpc.Client client;

  private void start(Transport t) throws Exception {
    alloc = Allocator.builder().maxBytes(64L << 20).build();
    server = KindsDrpc.register(new DrpcServer(alloc, DrpcOptions.DEFAULTS), service);
    MultiDrpc.register(server, req -> Reply.newBuilder().setText("inner " + req.getId()).build());
    SocketAddress at = t == Transport.TCP
        ? new InetSocketAddress("127.0.0.1", 0)
        : UnixDomainSocketAddress.of(Files.createDirectories(dir).resolve("kinds.sock"));
    SocketAddress bound = server.bind(at);
    connection = DrpcClient.connect(bound, alloc, DrpcOptions.DEFAULTS);
    client = KindsDrpc.client(connection);
  }

  @AfterEach
  void stop() {
    if (connection != null) {
      connection.close();
    }
    if (server != null) {
      server.close();
    }
    if (alloc != null) {
      alloc.close();
    }
  }

  private static Inner inner(long id, String text) {
    return Inner.newBuilder().setId(id).setDeep(Deep.newBuilder().setText(text).setCode(7)).build();
  }

  @Test
  void rpcNamesFollowProtocGenGoDrpc() {
    assertEquals("test.kinds.Kinds", KindsDrpc.SERVICE_NAME);
    assertEquals("/test.kinds.Kinds/Get", KindsDrpc.RPC_GET);
    assertEquals("/test.kinds.Kinds/List_items", KindsDrpc.RPC_LIST_ITEMS);
    assertEquals("/test.kinds.Kinds/Collect", KindsDrpc.RPC_COLLECT);
    assertEquals("/test.kinds.Kinds/chat", KindsDrpc.RPC_CHAT);
    assertEquals("/test.multi.Multi/Call", MultiDrpc.RPC_CALL);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void unary(Transport t) throws Exception {
    start(t);
    Deep d = client.get(inner(42, "hello"));
    assertEquals("id 42: hello", d.getText());
    assertEquals(8, d.getCode());
    // another file's service, java_multiple_files, a message type from kinds.proto
    assertEquals("inner 5", MultiDrpc.client(connection).call(inner(5, "")).getText());
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void unaryError(Transport t) throws Exception {
    start(t);
    DrpcException e = assertThrows(DrpcException.class, () -> client.get(inner(-13, "x")));
    assertEquals(13, e.code());
    assertTrue(e.getMessage().contains("negative id -13"), e.getMessage());
    assertEquals(1, client.get(inner(1, "after")).getCode() - 7);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void serverStream(Transport t) throws Exception {
    start(t);
    Outer req = Outer.newBuilder().addItems(inner(1, "a")).addItems(inner(2, "b"))
        .addItems(inner(3, "")).build();
    try (ProtoStream<Outer, Inner> s = client.listItems(req)) {
      assertEquals(req.getItemsList(), drain(s));
    }
    assertEquals("ok", service.ended.poll(5, TimeUnit.SECONDS));
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void serverStreamErrorAfterItems(Transport t) throws Exception {
    start(t);
    Outer req = Outer.newBuilder().addItems(inner(1, "a")).setFailWith(9).build();
    try (ProtoStream<Outer, Inner> s = client.listItems(req)) {
      assertEquals(inner(1, "a"), s.receive());
      DrpcException e = assertThrows(DrpcException.class, s::receive);
      assertEquals(9, e.code());
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void clientStream(Transport t) throws Exception {
    start(t);
    try (ProtoStream<Inner, Outer> s = client.collect()) {
      List<Inner> sent = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        Inner m = inner(i, "item " + i);
        sent.add(m);
        s.send(m);
      }
      assertEquals(sent, s.closeAndReceive().getItemsList());
    }
    try (ProtoStream<Inner, Outer> s = client.collect()) {
      assertEquals(0, s.closeAndReceive().getItemsCount()); // no requests at all
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void bidi(Transport t) throws Exception {
    start(t);
    try (ProtoStream<Deep, Deep> s = client.chat()) {
      for (int i = 0; i < 20; i++) {
        s.send(Deep.newBuilder().setText("m" + i).setCode(i).build());
        Deep r = s.receive();
        assertNotNull(r);
        assertEquals("m" + i, r.getText());
        assertEquals(i + 1, r.getCode());
      }
      s.closeSend();
      assertNull(s.receive());
    }
    assertEquals("ok", service.ended.poll(5, TimeUnit.SECONDS));
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void cancelWhileServerSends(Transport t) throws Exception {
    start(t);
    Outer endless = Outer.newBuilder().addItems(inner(1, "x".repeat(1000))).setFailWith(-1).build();
    try (ProtoStream<Outer, Inner> s = client.listItems(endless)) {
      for (int i = 0; i < 10; i++) {
        assertEquals(1, s.receive().getId());
      }
      s.cancel();
      DrpcException e = assertThrows(DrpcException.class, s::receive);
      assertEquals(DrpcException.CANCELED, e.code());
    }
    String how = service.ended.poll(10, TimeUnit.SECONDS);
    assertNotNull(how, "the server's handler did not end after the cancel");
    assertTrue(how.contains("Exception"), how); // its send failed
    assertEquals(2, client.get(inner(2, "")).getCode() - 6); // the connection still serves
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void cancelWhileServerReceives(Transport t) throws Exception {
    start(t);
    try (ProtoStream<Deep, Deep> s = client.chat()) {
      s.send(Deep.newBuilder().setText("one").build());
      assertEquals("one", s.receive().getText());
      s.cancel();
    }
    String how = service.ended.poll(10, TimeUnit.SECONDS);
    assertNotNull(how, "the server's handler did not end after the cancel");
    assertEquals(3, client.get(inner(3, "")).getCode() - 5);
  }

  private static <T extends com.google.protobuf.MessageLite> List<T> drain(
      ProtoStream<?, T> s) throws Exception {
    List<T> all = new ArrayList<>();
    for (T m; (m = s.receive()) != null; ) {
      all.add(m);
    }
    return all;
  }
}
