package io.nocopy.bench.buffer;

import io.netty.buffer.CompositeByteBuf;
import java.io.IOException;
import org.openjdk.jmh.annotations.Benchmark;

/** GoMem's HighFrequencyReads: 128 B packets, looked at but not processed. */
public class HighFrequencyReads extends BufferScenario {
  static final int PACKET = 128;

  @Benchmark
  public byte[] seedBufio(Sources.Bufio s) throws IOException {
    byte[] buf = new byte[PACKET];
    s.in.read(buf);
    return buf;
  }

  @Benchmark
  public byte[] fairBufio(Sources.Bufio s) throws IOException {
    s.readFull(s.reused, PACKET);
    return s.reused;
  }

  @Benchmark
  public long nocopy(Sources.Nocopy s) throws IOException {
    s.reader.readRange(PACKET, s.touching);
    return s.bytes;
  }

  @Benchmark
  public int netty(Sources.Netty s) throws IOException {
    CompositeByteBuf c = s.require(PACKET);
    int n = c.readSlice(PACKET).readableBytes();
    c.discardReadComponents();
    return n;
  }

  @Benchmark
  public long okio(Sources.Okio3 s) throws IOException {
    s.consume(PACKET, true);
    return s.bytes;
  }

  @Benchmark
  public int memcpyFloor(Sources.Floor s) {
    return s.copy(PACKET);
  }
}
