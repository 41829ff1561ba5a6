package io.nocopy.fanout;

import io.nocopy.buffer.Slice;
import java.io.IOException;

/** Work in progress. */
final class KernelTransport implements Transport {
  KernelTransport(Fanout f, Source src) throws IOException {
    throw new UnsupportedOperationException("not implemented yet");
  }

  Slice copyOf(KernelChunk c) throws IOException {
    throw new UnsupportedOperationException();
  }

  @Override public TransportKind kind() { throw new UnsupportedOperationException(); }
  @Override public void begin() {}
  @Override public Chunk read() { return null; }
  @Override public void awaitSource() {}
  @Override public void done(Chunk c) {}
  @Override public long waiting() { return -1; }
  @Override public void keepBurst(Chunk c) {}
  @Override public long burstStart() { return 0; }
  @Override public void giveBurst(Sink s, long start) {}
  @Override public Port newPort(SinkBuilder b) { throw new UnsupportedOperationException(); }
  @Override public void close() {}
}
