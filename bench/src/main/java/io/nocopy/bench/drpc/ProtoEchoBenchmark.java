package io.nocopy.bench.drpc;

import io.nocopy.bench.memory.BenchFlags;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.nocopy.drpc.DrpcClient;
import io.nocopy.drpc.DrpcOptions;
import io.nocopy.drpc.DrpcServer;
import io.nocopy.drpc.protobuf.ProtoStream;
import io.nocopy.example.echo.EchoDrpc;
import io.nocopy.example.echo.EchoGrpc;
import io.nocopy.example.echo.EchoOuterClass.EchoMessage;
import io.nocopy.example.echo.EchoService;
import io.nocopy.memory.Allocator;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Iterator;
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
 * Generated stubs against generated stubs, same .proto (the example's echo.proto), same messages,
 * same run, loopback TCP, one caller, servers and clients in this JVM: nocopy (protoc-gen-nocopy-drpc
 * and the pooled protobuf codec, unary handlers on the reader thread: {@link
 * DrpcOptions#directUnary()}) against gRPC-java (protoc-gen-grpc-java, Netty transport, direct
 * executors on both sides); both in their fastest configuration for handlers that do not block.
 *
 * <ul>
 *   <li>{@code *Unary}: one call per operation, the request echoed;
 *   <li>{@code *ServerStream}: one call per operation that receives {@code replies} small messages
 *       ({@code size} bytes of data each) and the end of the stream.
 * </ul>
 *
 * <p>Both sides decode every message (the results are checked). {@code -prof gc}'s B/op covers
 * the whole JVM: client, server and their transports.
 *
 * <p>Run: {@code ./nocopy bench 'drpc.ProtoEchoBenchmark' -f 1 -wi 3 -w 1s -i 5 -r 1s}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {
      BenchFlags.NATIVE_ACCESS,
      BenchFlags.HEAP,
      BenchFlags.HEAP_MAX,
      // both at their best: Unsafe allowed (protobuf's direct-memory decoder, gRPC's shaded
      // Netty), Netty's leak detection off (both spellings of the property)
      BenchFlags.UNSAFE,
      BenchFlags.NETTY_NO_LEAK_DETECTION,
      BenchFlags.GRPC_NETTY_NO_LEAK_DETECTION
    })
public class ProtoEchoBenchmark {
  /** Bytes of data in each message. */
  @Param({"64"})
  public int size;

  /** Messages per server stream. */
  @Param({"100"})
  public int replies;

  private Allocator alloc;
  private DrpcServer server;
  private DrpcClient connection;
  private EchoDrpc.Client nocopy;
  private Server grpcServer;
  private ManagedChannel channel;
  private EchoGrpc.EchoBlockingStub grpc;
  private EchoMessage request;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    alloc = Allocator.builder().maxBytes(256L << 20).build();
    // unary handlers on the connection's reader thread, as gRPC's direct executor runs them on
    // its event loop: both configured for handlers that do not block
    DrpcOptions serverOptions = DrpcOptions.builder().directUnary(true).build();
    server = EchoDrpc.register(new DrpcServer(alloc, serverOptions), new EchoService());
    SocketAddress addr = server.bind(new InetSocketAddress("127.0.0.1", 0));
    connection = DrpcClient.connect(addr, alloc, DrpcOptions.DEFAULTS);
    nocopy = EchoDrpc.client(connection);
    grpcServer =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .directExecutor()
            .addService(new ProtoEcho.Grpc())
            .build()
            .start();
    channel =
        NettyChannelBuilder.forAddress("127.0.0.1", grpcServer.getPort())
            .usePlaintext()
            .directExecutor()
            .build();
    grpc = EchoGrpc.newBlockingStub(channel);
    request = ProtoEcho.request(size, replies);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    grpcServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    connection.close();
    server.close();
    alloc.close();
  }

  @Benchmark
  public long nocopyUnary() throws Exception {
    return checkEcho(nocopy.unary(request));
  }

  @Benchmark
  public long grpcUnary() {
    return checkEcho(grpc.unary(request));
  }

  @Benchmark
  public long nocopyServerStream() throws Exception {
    long n = 0;
    try (ProtoStream<EchoMessage, EchoMessage> s = nocopy.serverStream(request)) {
      for (EchoMessage m; (m = s.receive()) != null; ) {
        n = checkReply(m, n);
      }
    }
    return checkCount(n);
  }

  @Benchmark
  public long grpcServerStream() {
    long n = 0;
    for (Iterator<EchoMessage> it = grpc.serverStream(request); it.hasNext(); ) {
      n = checkReply(it.next(), n);
    }
    return checkCount(n);
  }

  private long checkEcho(EchoMessage m) {
    if (m.getData().size() != size || m.getSeq() != replies) {
      throw new IllegalStateException("wrong echo");
    }
    return m.getSeq();
  }

  private long checkReply(EchoMessage m, long i) {
    if (m.getSeq() != i || m.getData().size() != size) {
      throw new IllegalStateException("reply " + i + " has seq " + m.getSeq());
    }
    return i + 1;
  }

  private long checkCount(long n) {
    if (n != replies) {
      throw new IllegalStateException(n + " replies, expected " + replies);
    }
    return n;
  }
}
