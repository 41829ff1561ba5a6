package io.nocopy.bench.drpc;

import io.nocopy.bench.memory.BenchFlags;

import io.nocopy.drpc.DrpcClient;
import io.nocopy.drpc.DrpcOptions;
import io.nocopy.drpc.DrpcServer;
import io.nocopy.drpc.DrpcStream;
import io.nocopy.drpc.MessageHandler;
import io.nocopy.drpc.StreamHandler;
import io.nocopy.drpc.protobuf.ProtoCodec;
import io.nocopy.drpc.protobuf.ProtoRpc;
import io.nocopy.drpc.protobuf.ProtoStream;
import io.nocopy.example.echo.EchoOuterClass.EchoMessage;
import io.nocopy.memory.Allocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What receiving a protobuf message costs, per message, on a stream the server floods with the
 * same pre-serialized EchoMessage (sent from one direct buffer, which the transport sends without
 * allocating): the B/op of {@code -prof gc} is the receive path's allocation, client and server.
 *
 * <ul>
 *   <li>{@code transport}: the message taken with {@link DrpcStream#receive(MessageHandler)}
 *       and not decoded: what the transport itself allocates per message (expected: 0);
 *   <li>{@code generated}: the generated client's path, {@link ProtoStream#receive()}: parsed
 *       in place from the pooled blocks by {@link ProtoCodec#decode(io.nocopy.drpc.ReceivedMessage)};
 *   <li>{@code heapArrayBaseline}: no transport: protobuf parsing the same bytes from a {@code
 *       byte[]}: the decoded message objects plus protobuf's array decoder, the floor any Java
 *       protobuf receive path pays.
 * </ul>
 *
 * <p>Run: {@code ./nocopy bench 'drpc.ProtoReceiveBenchmark' -f 1 -wi 3 -w 1s -i 5 -r 1s}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {
      BenchFlags.NATIVE_ACCESS,
      BenchFlags.HEAP,
      BenchFlags.HEAP_MAX,
      BenchFlags.UNSAFE
    })
public class ProtoReceiveBenchmark {
  static final String FLOOD = "/bench.Proto/Flood";
  private static final ProtoCodec<EchoMessage> CODEC = ProtoCodec.of(EchoMessage.parser());

  /** Bytes of data in the message. */
  @Param({"64", "1024"})
  public int size;

  /**
   * Whether the message carries its note (three string fields): protobuf-java decodes a string
   * from a direct buffer through a temporary char array, from a {@code byte[]} without one.
   */
  @Param({"true", "false"})
  public boolean note;

  private Allocator alloc;
  private DrpcServer server;
  // one connection per stream: with OverflowPolicy.BLOCK a flooded stream nobody reads would
  // stop its connection's reader, and so the other stream
  private DrpcClient generatedConnection;
  private DrpcClient rawConnection;
  private ProtoStream<EchoMessage, EchoMessage> generated;
  private DrpcStream raw;
  private byte[] wire;
  private long seen;
  private final MessageHandler count = m -> seen += m.length();

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    alloc = Allocator.builder().maxBytes(256L << 20).build();
    EchoMessage m = ProtoEcho.request(size, 7, note);
    wire = m.toByteArray();
    ByteBuffer message = ByteBuffer.allocateDirect(wire.length).put(wire).flip();
    server = new DrpcServer(alloc, DrpcOptions.DEFAULTS);
    server.register(FLOOD, (StreamHandler) s -> {
      try {
        while (true) {
          s.send(message);
        }
      } catch (IOException closed) {
        // the client closed the stream: done
      }
    });
    SocketAddress addr = server.bind(new InetSocketAddress("127.0.0.1", 0));
    generatedConnection = DrpcClient.connect(addr, alloc, DrpcOptions.DEFAULTS);
    rawConnection = DrpcClient.connect(addr, alloc, DrpcOptions.DEFAULTS);
    generated = ProtoRpc.open(generatedConnection, FLOOD, CODEC, CODEC);
    raw = rawConnection.openStream(FLOOD);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    generated.close();
    raw.close();
    generatedConnection.close();
    rawConnection.close();
    server.close();
    alloc.close();
  }

  @Benchmark
  public long transport() throws Exception {
    if (!raw.receive(count)) {
      throw new IllegalStateException("flood ended");
    }
    return seen;
  }

  @Benchmark
  public long generated() throws Exception {
    EchoMessage m = generated.receive();
    if (m.getData().size() != size) {
      throw new IllegalStateException("wrong message");
    }
    return m.getSeq();
  }

  @Benchmark
  public long heapArrayBaseline() throws Exception {
    EchoMessage m = EchoMessage.parseFrom(wire);
    if (m.getData().size() != size) {
      throw new IllegalStateException("wrong message");
    }
    return m.getSeq();
  }
}
