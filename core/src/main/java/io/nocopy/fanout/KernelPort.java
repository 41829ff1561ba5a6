package io.nocopy.fanout;

import java.nio.ByteBuffer;

/** Work in progress. */
final class KernelPort implements Port {
  @Override public TransportKind kind() { throw new UnsupportedOperationException(); }
  @Override public boolean put(Chunk c, long from, long len) { return false; }
  @Override public boolean putOwned(Chunk c, long from, long len, Sink s) { return false; }
  @Override public boolean putBytes(ByteBuffer b) { return false; }
  @Override public boolean writeDirect(Sink s) { return false; }
  @Override public boolean hasBacklog() { return false; }
  @Override public long backlog() { return 0; }
  @Override public void serve(Sink s) {}
  @Override public void endOfStream() {}
  @Override public void stop() {}
  @Override public void release() {}
}
