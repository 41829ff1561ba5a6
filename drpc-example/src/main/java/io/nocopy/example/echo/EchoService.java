package io.nocopy.example.echo;

import com.google.protobuf.ByteString;
import io.nocopy.drpc.DrpcException;
import io.nocopy.drpc.protobuf.ProtoReceiver;
import io.nocopy.drpc.protobuf.ProtoSender;
import io.nocopy.drpc.protobuf.ProtoStream;
import io.nocopy.example.echo.EchoOuterClass.EchoMessage;

/**
 * The echo service of {@code echo.proto}, implemented on the generated {@link EchoDrpc.Server}:
 *
 * <ul>
 *   <li>{@code Unary}: the request, unchanged;
 *   <li>{@code ServerStream}: {@code seq} replies, reply {@code i} = {@code {data, seq: i}},
 *       written corked ({@link ProtoSender#write}) and sent together when the handler returns (or
 *       every 64 KiB);
 *   <li>{@code ClientStream}: one reply, the requests' data concatenated, {@code seq} = their count;
 *   <li>{@code Bidi}: each request echoed, in order.
 * </ul>
 *
 * <p>Bounded: a server stream sends at most {@link #MAX_REPLIES} replies and a client stream's
 * concatenation holds at most {@link #MAX_CONCAT} bytes; beyond, the rpc fails with {@link
 * #INVALID_ARGUMENT}. Stateless and thread-safe.
 */
public final class EchoService implements EchoDrpc.Server {
  /** The most replies one ServerStream call sends. */
  public static final long MAX_REPLIES = 1 << 20;

  /** The most bytes one ClientStream call concatenates. */
  public static final int MAX_CONCAT = 16 << 20;

  /** The error code of a request beyond the bounds (gRPC's and drpc-go's InvalidArgument). */
  public static final long INVALID_ARGUMENT = 3;

  @Override
  public EchoMessage unary(EchoMessage request) {
    return request;
  }

  @Override
  public void serverStream(EchoMessage request, ProtoSender<EchoMessage> responses)
      throws Exception {
    if (request.getSeq() < 0 || request.getSeq() > MAX_REPLIES) {
      throw new DrpcException(
          INVALID_ARGUMENT, "seq " + request.getSeq() + " outside 0.." + MAX_REPLIES);
    }
    EchoMessage.Builder reply = EchoMessage.newBuilder().setData(request.getData());
    for (long i = 0; i < request.getSeq(); i++) {
      responses.write(reply.setSeq(i).build()); // corked: the handler's return flushes them
    }
  }

  @Override
  public EchoMessage clientStream(ProtoReceiver<EchoMessage> requests) throws Exception {
    ByteString.Output data = ByteString.newOutput();
    long count = 0;
    for (EchoMessage m; (m = requests.receive()) != null; count++) {
      if (data.size() + (long) m.getData().size() > MAX_CONCAT) {
        throw new DrpcException(INVALID_ARGUMENT, "more than " + MAX_CONCAT + " bytes of data");
      }
      m.getData().writeTo(data);
    }
    return EchoMessage.newBuilder().setData(data.toByteString()).setSeq(count).build();
  }

  @Override
  public void bidi(ProtoStream<EchoMessage, EchoMessage> stream) throws Exception {
    for (EchoMessage m; (m = stream.receive()) != null; ) {
      stream.send(m);
    }
  }
}
