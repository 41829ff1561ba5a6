package io.nocopy.example.echo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.TextFormat;
import io.nocopy.buffer.Slice;
import io.nocopy.drpc.protobuf.ProtoCodec;
import io.nocopy.example.echo.EchoOuterClass.EchoMessage;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What goes on the wire equals what the Go side (protoc-gen-go-drpc + protoc-gen-go) sends for the
 * same .proto: the rpc names by protoc-gen-go-drpc's rule ({@code "/" + service full name + "/" +
 * method name}), and the message bytes as protoc's own encoder writes them (the vectors in {@code
 * golden/}, made by {@code golden/make-vectors.sh}: {@code protoc --encode=nocopy.example.EchoMessage
 * echo.proto < NAME.txtpb > NAME.bin}).
 */
class GoldenVectorsTest {
  private final Allocator alloc = Allocator.create();
  private final ProtoCodec<EchoMessage> codec = ProtoCodec.of(EchoMessage.parser());

  @AfterEach
  void close() {
    alloc.close();
  }

  @Test
  void rpcNames() {
    assertEquals("nocopy.example.Echo", EchoDrpc.SERVICE_NAME);
    assertEquals("/nocopy.example.Echo/Unary", EchoDrpc.RPC_UNARY);
    assertEquals("/nocopy.example.Echo/ServerStream", EchoDrpc.RPC_SERVER_STREAM);
    assertEquals("/nocopy.example.Echo/ClientStream", EchoDrpc.RPC_CLIENT_STREAM);
    assertEquals("/nocopy.example.Echo/Bidi", EchoDrpc.RPC_BIDI);
  }

  @ParameterizedTest
  @ValueSource(strings = {"full", "empty", "negative", "note-only", "long-data"})
  void encodesToProtocBytes(String name) throws Exception {
    EchoMessage m = text(name);
    try (Slice bytes = codec.encode(m, alloc)) {
      assertArrayEquals(resource(name + ".bin"), bytes.toByteArray());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"full", "empty", "negative", "note-only", "long-data"})
  void decodesProtocBytes(String name) throws Exception {
    byte[] wire = resource(name + ".bin");
    Block block = alloc.allocate(wire.length + 1);
    MemorySegment.copy(wire, 0, block.segment(), ValueLayout.JAVA_BYTE, 1, wire.length);
    try (Slice s = wire.length == 0 ? Slice.empty() : Slice.ofBlock(block.retain(), 1, wire.length)) {
      assertEquals(text(name), codec.decode(s));
    } finally {
      block.release();
    }
  }

  private static EchoMessage text(String name) throws IOException {
    EchoMessage.Builder b = EchoMessage.newBuilder();
    TextFormat.merge(new String(resource(name + ".txtpb"), StandardCharsets.UTF_8), b);
    return b.build();
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = GoldenVectorsTest.class.getResourceAsStream("/golden/" + name)) {
      return Objects.requireNonNull(in, name).readAllBytes();
    }
  }
}
