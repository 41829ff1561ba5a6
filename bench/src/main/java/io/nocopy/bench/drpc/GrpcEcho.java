package io.nocopy.bench.drpc;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC-java peer of the DRPC echo: the same two rpcs on gRPC's Netty transport with a raw
 * byte-array marshaller (no protobuf), direct executors on both sides (the fastest configuration
 * for non-blocking handlers), loopback only.
 */
final class GrpcEcho implements AutoCloseable {
  static final int MAX_MESSAGE = 16 << 20;

  /** Raw bytes in and out: the request array is the message, parsing reads the stream fully. */
  static final MethodDescriptor.Marshaller<byte[]> RAW =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  static final MethodDescriptor<byte[], byte[]> UNARY =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("nocopy.Echo/Unary")
          .setRequestMarshaller(RAW)
          .setResponseMarshaller(RAW)
          .build();

  static final MethodDescriptor<byte[], byte[]> STREAM =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
          .setFullMethodName("nocopy.Echo/Stream")
          .setRequestMarshaller(RAW)
          .setResponseMarshaller(RAW)
          .build();

  private final Server server;
  final ManagedChannel channel;

  GrpcEcho() throws IOException {
    ServerServiceDefinition echo =
        ServerServiceDefinition.builder("nocopy.Echo")
            .addMethod(
                UNARY,
                ServerCalls.asyncUnaryCall(
                    (req, obs) -> {
                      obs.onNext(req);
                      obs.onCompleted();
                    }))
            .addMethod(
                STREAM,
                ServerCalls.asyncBidiStreamingCall(
                    obs ->
                        new StreamObserver<byte[]>() {
                          @Override
                          public void onNext(byte[] m) {
                            obs.onNext(m);
                          }

                          @Override
                          public void onError(Throwable t) {}

                          @Override
                          public void onCompleted() {
                            obs.onCompleted();
                          }
                        }))
            .build();
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .directExecutor()
            .maxInboundMessageSize(MAX_MESSAGE)
            .addService(echo)
            .build()
            .start();
    channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
            .usePlaintext()
            .directExecutor()
            .maxInboundMessageSize(MAX_MESSAGE)
            .build();
  }

  byte[] unary(byte[] req) {
    return ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, req);
  }

  /** A bidirectional stream used as ping-pong: send one message, wait for its echo. */
  final class PingPong implements AutoCloseable {
    private final BlockingQueue<byte[]> responses = new ArrayBlockingQueue<>(16);
    private final StreamObserver<byte[]> requests;

    PingPong() {
      requests =
          ClientCalls.asyncBidiStreamingCall(
              channel.newCall(STREAM, CallOptions.DEFAULT),
              new StreamObserver<byte[]>() {
                @Override
                public void onNext(byte[] m) {
                  responses.add(m);
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
              });
    }

    byte[] call(byte[] req) throws InterruptedException {
      requests.onNext(req);
      return responses.take();
    }

    @Override
    public void close() {
      requests.onCompleted();
    }
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
