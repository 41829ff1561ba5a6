package io.nocopy.bench.drpc;

import io.nocopy.bench.memory.BenchFlags;

import io.nocopy.buffer.Slice;
import io.nocopy.drpc.DrpcClient;
import io.nocopy.drpc.DrpcOptions;
import io.nocopy.drpc.DrpcServer;
import io.nocopy.drpc.DrpcStream;
import io.nocopy.drpc.MessageHandler;
import io.nocopy.drpc.ReceivedMessage;
import io.nocopy.drpc.StreamHandler;
import io.nocopy.memory.Allocator;
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
 * Echo over loopback TCP, one caller, server and client in the same JVM: nocopy's DRPC transport
 * against gRPC-java (Netty transport, raw-bytes marshaller) in the same run. {@code unary} is one
 * call per operation; {@code stream} is one message sent and its echo received on a long-lived
 * bidirectional stream. {@code nocopyStreamZeroAlloc} is {@code stream} with the zero-allocation
 * receive on both ends: the server's handler echoes each message from inside {@link
 * DrpcStream#receive(io.nocopy.drpc.MessageHandler)} ({@link DrpcStream#send(ReceivedMessage)},
 * which copies it into the write blocks) and the client takes the echo the same way.
 *
 * <p>Run: {@code ./nocopy bench 'drpc.EchoBenchmark' -f 1 -wi 3 -w 1s -i 5 -r 1s}
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
      // gRPC's shaded Netty at its best: Unsafe allowed, leak detection off (both spellings of the
      // property: plain and as relocated by grpc-netty-shaded)
      BenchFlags.UNSAFE,
      BenchFlags.NETTY_NO_LEAK_DETECTION,
      BenchFlags.GRPC_NETTY_NO_LEAK_DETECTION
    })
public class EchoBenchmark {
  @Param({"64", "1024", "65536", "1048576"})
  public int size;

  private Allocator alloc;
  private DrpcServer server;
  private DrpcClient client;
  private DrpcStream stream;
  private ByteBuffer request;
  private GrpcEcho grpc;
  private GrpcEcho.PingPong grpcStream;
  private byte[] requestBytes;
  private DrpcStream zeroStream;
  private long echoed;
  private final MessageHandler onEcho = m -> echoed = m.length();

  /** The zero-allocation echo rpc, registered on the benchmark's server. */
  static final String ZERO_ALLOC_STREAM = "/bench.Echo/StreamZeroAlloc";

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    alloc = Allocator.builder().maxBytes(512L << 20).build();
    server = EchoService.register(new DrpcServer(alloc, DrpcOptions.DEFAULTS));
    server.register(ZERO_ALLOC_STREAM, (StreamHandler) s -> {
      MessageHandler echo = s::send;
      while (s.receive(echo)) {
        // each message was echoed from inside the handler
      }
    });
    SocketAddress addr = server.bind(new InetSocketAddress("127.0.0.1", 0));
    client = DrpcClient.connect(addr, alloc, DrpcOptions.DEFAULTS);
    stream = client.openStream(EchoService.STREAM);
    zeroStream = client.openStream(ZERO_ALLOC_STREAM);
    requestBytes = new byte[size];
    for (int i = 0; i < size; i++) {
      requestBytes[i] = (byte) i;
    }
    request = ByteBuffer.allocateDirect(size).put(requestBytes).flip();
    grpc = new GrpcEcho();
    grpcStream = grpc.new PingPong();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    grpcStream.close();
    grpc.close();
    stream.close();
    zeroStream.close();
    client.close();
    server.close();
    alloc.close();
  }

  @Benchmark
  public long nocopyUnary() throws Exception {
    try (Slice resp = client.invoke(EchoService.UNARY, request)) {
      return check(resp.length());
    }
  }

  @Benchmark
  public long nocopyStream() throws Exception {
    stream.send(request);
    try (Slice resp = stream.receive()) {
      return check(resp.length());
    }
  }

  @Benchmark
  public long nocopyStreamZeroAlloc() throws Exception {
    zeroStream.send(request);
    if (!zeroStream.receive(onEcho)) {
      throw new IllegalStateException("echo stream ended");
    }
    return check(echoed);
  }

  @Benchmark
  public long grpcUnary() {
    return check(grpc.unary(requestBytes).length);
  }

  @Benchmark
  public long grpcStream() throws Exception {
    return check(grpcStream.call(requestBytes).length);
  }

  private long check(long n) {
    if (n != size) {
      throw new IllegalStateException("echo of " + size + " bytes returned " + n);
    }
    return n;
  }
}
