package io.nocopy.bench.buffer;

import io.netty.buffer.CompositeByteBuf;
import java.io.IOException;
import org.openjdk.jmh.annotations.Benchmark;

/**
 * GoMem's GCPressure: read a 512 B packet and checksum it; GoMem's bufio side also copies it
 * into a second new array before summing.
 */
public class GCPressure extends BufferScenario {
  static final int PACKET = 512;

  @Benchmark
  public long seedBufio(Sources.Bufio s) throws IOException {
    byte[] buf = new byte[PACKET];
    int n = s.in.read(buf);
    byte[] processed = new byte[n];
    System.arraycopy(buf, 0, processed, 0, n);
    return Sources.Bufio.sum(processed, n);
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
