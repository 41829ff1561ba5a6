package io.nocopy.example.kinds;

import io.nocopy.drpc.DrpcException;
import io.nocopy.drpc.protobuf.ProtoReceiver;
import io.nocopy.drpc.protobuf.ProtoSender;
import io.nocopy.drpc.protobuf.ProtoStream;
import io.nocopy.example.kinds.KindsOuterClass.Outer;
import io.nocopy.example.kinds.KindsOuterClass.Outer.Inner;
import io.nocopy.example.kinds.KindsOuterClass.Outer.Inner.Deep;
import java.util.concurrent.LinkedBlockingQueue;

/** The test implementation of kinds.proto; records how each streaming handler ended. */
final class KindsService implements KindsDrpc.Server {
  /** One entry per finished server-stream or chat call: "ok" or the exception it ended with. */
  final LinkedBlockingQueue<String> ended = new LinkedBlockingQueue<>();

  @Override
  public Deep get(Inner request) throws Exception {
    if (request.getId() < 0) {
      throw new DrpcException(-request.getId(), "negative id " + request.getId());
    }
    return Deep.newBuilder()
        .setText("id " + request.getId() + ": " + request.getDeep().getText())
        .setCode(request.getDeep().getCode() + 1)
        .build();
  }

  @Override
  public void listItems(Outer request, ProtoSender<Inner> responses) throws Exception {
    try {
      do {
        for (Inner i : request.getItemsList()) {
          responses.send(i);
        }
      } while (request.getFailWith() == -1);
      if (request.getFailWith() > 0) {
        throw new DrpcException(request.getFailWith(), "failed as asked");
      }
      ended.add("ok");
    } catch (Exception e) {
      ended.add(e.toString());
      throw e;
    }
  }

  @Override
  public Outer collect(ProtoReceiver<Inner> requests) throws Exception {
    Outer.Builder all = Outer.newBuilder();
    for (Inner i; (i = requests.receive()) != null; ) {
      all.addItems(i);
    }
    return all.build();
  }

  @Override
  public void chat(ProtoStream<Deep, Deep> stream) throws Exception {
    try {
      for (Deep d; (d = stream.receive()) != null; ) {
        stream.send(d.toBuilder().setCode(d.getCode() + 1).build());
      }
      ended.add("ok");
    } catch (Exception e) {
      ended.add(e.toString());
      throw e;
    }
  }
}
