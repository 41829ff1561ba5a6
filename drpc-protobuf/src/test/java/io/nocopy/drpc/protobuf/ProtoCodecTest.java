package io.nocopy.drpc.protobuf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.InvalidProtocolBufferException;
import io.nocopy.buffer.Chunks;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import io.nocopy.memory.Tier;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The codec on a message type of protobuf-java itself (strings, nested and repeated messages):
 * serialization into one pooled block, parsing from slices in any chunking, decoded messages
 * independent of the blocks, malformed input rejected.
 */
class ProtoCodecTest {
  private final Allocator alloc = Allocator.create();
  private final ProtoCodec<FileDescriptorProto> codec = ProtoCodec.of(FileDescriptorProto.parser());

  @AfterEach
  void close() {
    alloc.close();
  }

  private static FileDescriptorProto sample(int messages) {
    FileDescriptorProto.Builder b = FileDescriptorProto.newBuilder().setName("s\u00e9.proto")
        .setPackage("pkg");
    for (int i = 0; i < messages; i++) {
      b.addMessageType(DescriptorProto.newBuilder().setName("M" + i)
          .addNestedType(DescriptorProto.newBuilder().setName("N" + i)));
      b.addDependency("dep" + i);
    }
    return b.build();
  }

  @Test
  void encodesIntoOnePooledBlockThatGoesBackToThePool() throws Exception {
    FileDescriptorProto m = sample(20);
    int before = alloc.pool(Tier.forSize(m.getSerializedSize())).available();
    try (Slice s = codec.encode(m, alloc)) {
      assertEquals(m.getSerializedSize(), s.length());
      assertArrayEquals(m.toByteArray(), s.toByteArray());
      int[] chunks = {0};
      s.forEachChunk(c -> chunks[0]++);
      assertEquals(1, chunks[0]);
    }
    assertEquals(before, alloc.pool(Tier.forSize(m.getSerializedSize())).available());
  }

  @Test
  void anEmptyMessageIsAnEmptySlice() throws Exception {
    try (Slice s = codec.encode(FileDescriptorProto.getDefaultInstance(), alloc)) {
      assertEquals(0, s.length());
      assertEquals(FileDescriptorProto.getDefaultInstance(), codec.decode(s));
    }
  }

  @Test
  void decodesFromEveryChunking() throws Exception {
    FileDescriptorProto m = sample(5);
    byte[] wire = m.toByteArray();
    for (int chunk = 1; chunk <= wire.length; chunk += chunk < 8 ? 1 : 17) {
      try (Slice s = chunked(wire, chunk)) {
        assertEquals(m, codec.decode(s), "chunks of " + chunk);
      }
    }
  }

  @Test
  void decodedMessagesDoNotReferToTheBlocks() throws Exception {
    FileDescriptorProto m = sample(3);
    FileDescriptorProto got;
    Block reused;
    try (Slice s = codec.encode(m, alloc)) {
      got = codec.decode(s);
    }
    // the block went back to the pool: take it again and scribble over it
    reused = alloc.allocate(m.getSerializedSize());
    reused.segment().fill((byte) 0x55);
    reused.release();
    assertEquals(m, got);
    assertEquals("s\u00e9.proto", got.getName());
  }

  @Test
  void malformedBytesAreRejected() throws Exception {
    for (String hex : new String[] {"0a05616263", "0f", "12", "0aff"}) {
      byte[] bad = java.util.HexFormat.of().parseHex(hex);
      try (Slice s = chunked(bad, 1)) {
        assertThrows(InvalidProtocolBufferException.class, () -> codec.decode(s), hex);
      }
    }
  }

  @Test
  void theHeapEncodingMatches() throws Exception {
    FileDescriptorProto m = sample(2);
    ByteBuffer b = codec.encode(m);
    byte[] bytes = new byte[b.remaining()];
    b.get(bytes);
    assertArrayEquals(m.toByteArray(), bytes);
  }

  /** A slice over {@code wire} in chunks of {@code chunk} bytes, each in its own block. */
  private Slice chunked(byte[] wire, int chunk) throws Exception {
    int n = (wire.length + chunk - 1) / chunk;
    Chunks chunks = new Chunks(n);
    for (int i = 0; i < n; i++) {
      int length = Math.min(chunk, wire.length - i * chunk);
      Block block = alloc.allocate(length + 3);
      MemorySegment.copy(wire, i * chunk, block.segment(), ValueLayout.JAVA_BYTE, 3, length);
      chunks.accept(block, 3, length);
    }
    return Slice.of(chunks, n);
  }
}
