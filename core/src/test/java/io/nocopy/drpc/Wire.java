package io.nocopy.drpc;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Builds raw frame bytes for tests, independently of the transport's writer. */
final class Wire {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  Wire frame(int kindCode, boolean done, boolean control, long sid, long mid, byte[] data) {
    ByteBuffer h = ByteBuffer.allocate(FrameHeader.MAX_SIZE);
    FrameHeader.write(h, kindCode, done, control, sid, mid, data.length);
    out.write(h.array(), 0, h.position());
    out.write(data, 0, data.length);
    return this;
  }

  Wire frame(Kind kind, boolean done, long sid, long mid, byte[] data) {
    return frame(kind.code(), done, false, sid, mid, data);
  }

  Wire invoke(long sid, long mid, String rpc) {
    return frame(Kind.INVOKE, true, sid, mid, rpc.getBytes(StandardCharsets.UTF_8));
  }

  Wire raw(byte... bytes) {
    out.write(bytes, 0, bytes.length);
    return this;
  }

  byte[] bytes() {
    return out.toByteArray();
  }
}
