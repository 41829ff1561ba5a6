package io.nocopy.example.echo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.drpc.DrpcClient;
import io.nocopy.drpc.DrpcException;
import io.nocopy.drpc.DrpcOptions;
import io.nocopy.drpc.DrpcServer;
import io.nocopy.drpc.DrpcStream;
import io.nocopy.example.echo.EchoOuterClass.EchoMessage;
import io.nocopy.memory.Allocator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The example end to end: the check client against the example server over TCP and a Unix
 * socket, the check catching a wrong server, and malformed protobuf requests answered with an
 * error while the server goes on serving.
 */
class EchoExampleTest {
  @TempDir Path dir;
  private final Allocator alloc = Allocator.builder().maxBytes(128L << 20).build();
  private DrpcServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    alloc.close();
  }

  private SocketAddress serve(EchoDrpc.Server impl, SocketAddress at) throws Exception {
    server = EchoDrpc.register(new DrpcServer(alloc, DrpcOptions.DEFAULTS), impl);
    return server.bind(at);
  }

  private List<String> check(SocketAddress at) throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    try (DrpcClient c = DrpcClient.connect(at, alloc, DrpcOptions.DEFAULTS)) {
      return new EchoCheck(EchoDrpc.client(c), new PrintStream(log, true, StandardCharsets.UTF_8))
          .run();
    }
  }

  @Test
  void everyRpcOverTcp() throws Exception {
    assertEquals(List.of(), check(serve(new EchoService(), new InetSocketAddress("127.0.0.1", 0))));
  }

  @Test
  void everyRpcOverUnixSocket() throws Exception {
    SocketAddress at = UnixDomainSocketAddress.of(dir.resolve("echo.sock"));
    assertEquals(List.of(), check(serve(new EchoService(), at)));
  }

  @Test
  void theCheckCatchesAWrongServer() throws Exception {
    EchoService right = new EchoService();
    EchoDrpc.Server wrong = new EchoDrpc.Server() {
      @Override
      public EchoMessage unary(EchoMessage request) {
        return request.toBuilder().setSeq(request.getSeq() + 1).build(); // wrong
      }

      @Override
      public void serverStream(EchoMessage request,
          io.nocopy.drpc.protobuf.ProtoSender<EchoMessage> responses) throws Exception {
        right.serverStream(request, responses);
      }

      @Override
      public EchoMessage clientStream(io.nocopy.drpc.protobuf.ProtoReceiver<EchoMessage> requests)
          throws Exception {
        return right.clientStream(requests);
      }

      @Override
      public void bidi(io.nocopy.drpc.protobuf.ProtoStream<EchoMessage, EchoMessage> stream)
          throws Exception {
        right.bidi(stream);
      }
    };
    List<String> failures = check(serve(wrong, new InetSocketAddress("127.0.0.1", 0)));
    assertEquals(3, failures.size(), failures.toString()); // the three unary checks
    assertTrue(failures.getFirst().startsWith("unary:"), failures.toString());
  }

  /** Malformed EchoMessage bytes, each a different way protobuf parsing fails. */
  @ParameterizedTest
  @ValueSource(strings = {
    "10",             // seq: a varint cut short
    "0f",             // field 1 with wire type 7 (none)
    "0a0561",         // data: length 5, one byte follows
    "1a030a01ff",     // note.text: not UTF-8 (proto3 strings are checked)
    "10ffffffffffffffffffff01" // an 11-byte varint
  })
  void malformedRequestsGetAnErrorAndTheServerGoesOn(String hex) throws Exception {
    SocketAddress at = serve(new EchoService(), new InetSocketAddress("127.0.0.1", 0));
    byte[] bad = java.util.HexFormat.of().parseHex(hex);
    try (DrpcClient c = DrpcClient.connect(at, alloc, DrpcOptions.DEFAULTS)) {
      assertThrows(DrpcException.class, () -> c.invoke(EchoDrpc.RPC_UNARY, bad));
      for (String rpc : new String[] {EchoDrpc.RPC_BIDI, EchoDrpc.RPC_CLIENT_STREAM,
          EchoDrpc.RPC_SERVER_STREAM}) {
        try (DrpcStream s = c.openStream(rpc)) {
          s.send(bad);
          s.closeSend();
          assertThrows(DrpcException.class, s::receive, rpc);
        }
      }
      assertTrue(c.isOpen());
      // the same connection, and a new one, are still served
      EchoMessage m = EchoCheck.message(10, 1, true);
      assertEquals(m, EchoDrpc.client(c).unary(m));
    }
    assertEquals(List.of(), check(at));
    assertEquals(0, server.protocolErrors()); // a bad message is the rpc's error, not the wire's
  }

  @Test
  void parsesAddresses() {
    assertEquals(new InetSocketAddress("127.0.0.1", 7777), EchoExample.parseAddress("127.0.0.1:7777"));
    assertEquals(new InetSocketAddress("::1", 80), EchoExample.parseAddress("[::1]:80"));
    assertEquals(UnixDomainSocketAddress.of("/tmp/x.sock"), EchoExample.parseAddress("unix:/tmp/x.sock"));
    assertThrows(IllegalArgumentException.class, () -> EchoExample.parseAddress("nohost"));
    assertFalse(EchoExample.parseAddress("localhost:1") instanceof UnixDomainSocketAddress);
  }
}
