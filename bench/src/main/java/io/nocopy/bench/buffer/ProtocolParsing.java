package io.nocopy.bench.buffer;

import io.netty.buffer.CompositeByteBuf;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import org.openjdk.jmh.annotations.Benchmark;

/**
 * GoMem's ProtocolParsing: a 4-byte header whose last byte gives the packet size (256 + b %
 * 768), then the packet, looked at but not processed.
 */
public class ProtocolParsing extends BufferScenario {
  static int size(int headerByte3) {
    return 256 + (headerByte3 & 0xff) % 768;
  }

  @Benchmark
  public int seedBufio(Sources.Bufio s) throws IOException {
    byte[] header = new byte[4];
    s.readFull(header, 4);
    byte[] packet = new byte[size(header[3])];
    s.readFull(packet, packet.length);
    return packet.length;
  }

  @Benchmark
  public int fairBufio(Sources.Bufio s) throws IOException {
    s.readFull(s.reused, 4);
    int n = size(s.reused[3]);
    s.readFull(s.reused, n);
    return n;
  }

  @Benchmark
  public long nocopy(Sources.Nocopy s) throws IOException {
    int n = size((int) s.reader.readBE(4));
    s.reader.readRange(n, s.touching);
    return s.bytes;
  }

  @Benchmark
  public int netty(Sources.Netty s) throws IOException {
    int n = size(s.require(4).readInt());
    CompositeByteBuf c = s.require(n);
    int got = c.readSlice(n).readableBytes();
    c.discardReadComponents();
    return got;
  }

  @Benchmark
  public long okio(Sources.Okio3 s) throws IOException {
    int n = size(s.source.readInt());
    s.consume(n, true);
    return s.bytes;
  }

  @Benchmark
  public int memcpyFloor(Sources.Floor s) {
    int header = s.copy(4);
    return s.copy(size(s.region.get(ValueLayout.JAVA_BYTE, header + 3)));
  }
}
