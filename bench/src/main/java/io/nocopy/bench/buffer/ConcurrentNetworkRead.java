package io.nocopy.bench.buffer;

import io.netty.buffer.CompositeByteBuf;
import java.io.IOException;
import org.openjdk.jmh.annotations.Benchmark;

/** GoMem's ConcurrentNetworkRead: read a 1 KiB packet, checksum its bytes. */
public class ConcurrentNetworkRead extends BufferScenario {
  static final int PACKET = 1024;

  @Benchmark
  public long seedBufio(Sources.Bufio s) throws IOException {
    byte[] buf = new byte[PACKET];
    int n = s.in.read(buf);
    return Sources.Bufio.sum(buf, n);
  }

  @Benchmark
  public long fairBufio(Sources.Bufio s) throws IOException {
    s.readFull(s.reused, PACKET);
    return Sources.Bufio.sum(s.reused, PACKET);
  }

  @Benchmark
  public long nocopy(Sources.Nocopy s) throws IOException {
    s.reader.readRange(PACKET, s.summing);
    return s.sum;
  }

  @Benchmark
  public long netty(Sources.Netty s) throws IOException {
    CompositeByteBuf c = s.require(PACKET);
    c.forEachByte(c.readerIndex(), PACKET, s.summing);
    c.skipBytes(PACKET);
    c.discardReadComponents();
    return s.sum;
  }

  @Benchmark
  public long okio(Sources.Okio3 s) throws IOException {
    s.consume(PACKET, false);
    return s.sum;
  }

  @Benchmark
  public long memcpyFloor(Sources.Floor s) {
    return s.sum(s.copy(PACKET), PACKET);
  }
}
