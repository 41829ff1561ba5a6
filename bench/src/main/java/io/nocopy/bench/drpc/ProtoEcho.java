package io.nocopy.bench.drpc;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.nocopy.example.echo.EchoGrpc;
import io.nocopy.example.echo.EchoService;
import io.nocopy.example.echo.EchoOuterClass.EchoMessage;
import io.nocopy.example.echo.EchoOuterClass.Note;

/**
 * The example's echo service ({@link EchoService}, on nocopy's generated server interface) for
 * gRPC-java's generated {@link EchoGrpc.EchoImplBase}, with the same logic for the rpcs measured:
 * Unary returns the request; ServerStream sends {@code seq} replies {@code {data, seq: i}}, built
 * the same way. ClientStream and Bidi are not measured (gRPC's base answers UNIMPLEMENTED).
 */
final class ProtoEcho {
  private ProtoEcho() {}

  /** The request both peers are sent: {@code size} bytes of data, a seq, a short note. */
  static EchoMessage request(int size, long seq) {
    return request(size, seq, true);
  }

  /**
   * A request of {@code size} bytes of data and a seq, with or without the note (a nested message
   * of three strings).
   */
  static EchoMessage request(int size, long seq, boolean note) {
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) i;
    }
    EchoMessage.Builder m = EchoMessage.newBuilder().setData(ByteString.copyFrom(data)).setSeq(seq);
    if (note) {
      m.setNote(Note.newBuilder().setText("bench").addTags("a").addTags("b"));
    }
    return m.build();
  }

  /** gRPC-java's implementation. */
  static final class Grpc extends EchoGrpc.EchoImplBase {
    @Override
    public void unary(EchoMessage request, StreamObserver<EchoMessage> responses) {
      responses.onNext(request);
      responses.onCompleted();
    }

    @Override
    public void serverStream(EchoMessage request, StreamObserver<EchoMessage> responses) {
      EchoMessage.Builder reply = EchoMessage.newBuilder().setData(request.getData());
      for (long i = 0; i < request.getSeq(); i++) {
        responses.onNext(reply.setSeq(i).build());
      }
      responses.onCompleted();
    }
  }
}
