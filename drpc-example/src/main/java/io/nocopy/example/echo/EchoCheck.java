package io.nocopy.example.echo;

import com.google.protobuf.ByteString;
import io.nocopy.drpc.DrpcException;
import io.nocopy.drpc.protobuf.ProtoStream;
import io.nocopy.example.echo.EchoOuterClass.EchoMessage;
import io.nocopy.example.echo.EchoOuterClass.Note;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Calls every rpc of an echo server (any drpc implementation of {@code echo.proto}) and checks
 * each answer against what the service promises ({@link EchoService}): messages with and without
 * a note, empty, and larger than a frame; zero and several stream replies; an out-of-range
 * request failing with {@link EchoService#INVALID_ARGUMENT}.
 */
public final class EchoCheck {
  private final EchoDrpc.Client client;
  private final PrintStream log;
  private final List<String> failures = new ArrayList<>();

  /**
   * A check on a client.
   *
   * @param client the client; not owned
   * @param log where each check's outcome is printed
   */
  public EchoCheck(EchoDrpc.Client client, PrintStream log) {
    this.client = Objects.requireNonNull(client, "client");
    this.log = Objects.requireNonNull(log, "log");
  }

  /**
   * Runs every check; a check that throws counts as failed and the others still run.
   *
   * @return the failures, one line each; empty if every answer was right
   */
  public List<String> run() {
    EchoMessage small = message(16, 7, true);
    check("unary", () -> expect(small, client.unary(small)));
    check("unary empty", () -> expect(EchoMessage.getDefaultInstance(),
        client.unary(EchoMessage.getDefaultInstance())));
    EchoMessage big = message(200_000, 1, false); // several frames
    check("unary 200 KB", () -> expect(big, client.unary(big)));
    check("server stream", () -> serverStream(message(5, 5, true)));
    check("server stream, no replies", () -> serverStream(message(3, 0, false)));
    check("client stream", this::clientStream);
    check("bidi", this::bidi);
    check("error code", this::errorCode);
    return failures;
  }

  private void serverStream(EchoMessage request) throws Exception {
    try (ProtoStream<EchoMessage, EchoMessage> s = client.serverStream(request)) {
      long i = 0;
      for (EchoMessage m; (m = s.receive()) != null; i++) {
        expect(EchoMessage.newBuilder().setData(request.getData()).setSeq(i).build(), m);
      }
      if (i != request.getSeq()) {
        throw new AssertionError(i + " replies, expected " + request.getSeq());
      }
    }
  }

  private void clientStream() throws Exception {
    try (ProtoStream<EchoMessage, EchoMessage> s = client.clientStream()) {
      ByteString all = ByteString.EMPTY;
      for (int i = 0; i < 3; i++) {
        EchoMessage m = message(10 + i, i, i == 1);
        all = all.concat(m.getData());
        s.send(m);
      }
      expect(EchoMessage.newBuilder().setData(all).setSeq(3).build(), s.closeAndReceive());
    }
  }

  private void bidi() throws Exception {
    try (ProtoStream<EchoMessage, EchoMessage> s = client.bidi()) {
      for (int i = 0; i < 10; i++) {
        EchoMessage m = message(i * 100, i, i % 2 == 0);
        s.send(m);
        expect(m, s.receive());
      }
      s.closeSend();
      EchoMessage extra = s.receive();
      if (extra != null) {
        throw new AssertionError("a reply after the last request: " + extra);
      }
    }
  }

  private void errorCode() throws Exception {
    try (ProtoStream<EchoMessage, EchoMessage> s =
        client.serverStream(EchoMessage.newBuilder().setSeq(-1).build())) {
      EchoMessage m = s.receive();
      throw new AssertionError("seq -1 answered " + m + " instead of an error");
    } catch (DrpcException e) {
      if (e.code() != EchoService.INVALID_ARGUMENT) {
        throw new AssertionError("error code " + e.code() + ", expected "
            + EchoService.INVALID_ARGUMENT + " (" + e.getMessage() + ")");
      }
    }
  }

  /** A message with {@code size} bytes of data (a pattern), a seq, and optionally a note. */
  static EchoMessage message(int size, long seq, boolean note) {
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) (i * 31 + seq);
    }
    EchoMessage.Builder b = EchoMessage.newBuilder().setData(ByteString.copyFrom(data)).setSeq(seq);
    if (note) {
      b.setNote(Note.newBuilder().setText("note " + seq + " \u00e9\u6f22").addTags("a").addTags(""));
    }
    return b.build();
  }

  private static void expect(EchoMessage want, EchoMessage got) {
    if (!want.equals(got)) {
      throw new AssertionError("got " + describe(got) + ", expected " + describe(want));
    }
  }

  private static String describe(EchoMessage m) {
    return m == null ? "nothing"
        : "{data: " + m.getData().size() + " bytes, seq: " + m.getSeq()
            + (m.hasNote() ? ", note: " + m.getNote().getText() + " " + m.getNote().getTagsList()
                : "") + "}";
  }

  private void check(String name, Check c) {
    try {
      c.run();
      log.println("ok    " + name);
    } catch (Exception | AssertionError e) {
      failures.add(name + ": " + e);
      log.println("FAIL  " + name + ": " + e);
    }
  }

  @FunctionalInterface
  private interface Check {
    void run() throws Exception;
  }
}
