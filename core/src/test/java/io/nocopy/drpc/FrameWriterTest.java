package io.nocopy.drpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.Chunks;
import io.nocopy.buffer.Slice;
import io.nocopy.memory.Allocator;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Splitting rules and random packet round trips through the writer and the reader. */
class FrameWriterTest {
  private record Frame(int kind, boolean done, boolean control, long sid, long mid, int len) {}

  /** Writes packets with the transport's writer, returns the raw bytes. */
  private static byte[] write(Allocator alloc, int maxFrame, WriterScript script) throws Exception {
    MemoryChannel ch = new MemoryChannel(new byte[0], 1, 1);
    FrameWriter w = new FrameWriter(ch, alloc, maxFrame);
    w.lock();
    try {
      script.run(w);
      w.flush();
      w.release();
    } finally {
      w.unlock();
    }
    return ch.written();
  }

  @FunctionalInterface
  private interface WriterScript {
    void run(FrameWriter w) throws Exception;
  }

  private static List<Frame> frames(Allocator alloc, byte[] wire) throws Exception {
    List<Frame> out = new ArrayList<>();
    try (BufReader in = BufReader.of(new MemoryChannel(wire, 2, 3), alloc)) {
      FrameHeader h = new FrameHeader();
      while (h.readFrom(in)) {
        out.add(new Frame(h.kindCode(), h.done(), h.control(), h.streamId(), h.messageId(), (int) h.length()));
        in.skip(h.length());
      }
    }
    return out;
  }

  @Test
  void splittingRules() throws Exception {
    try (Allocator alloc = Allocator.create()) {
      int max = 100;
      for (int len : new int[] {0, 1, 99, 100, 101, 200, 201, 1000}) {
        ByteBuffer data = ByteBuffer.allocate(len);
        byte[] wire = write(alloc, max, w -> w.packet(5, 7, Kind.MESSAGE, false, Payload.BYTES, data));
        List<Frame> fs = frames(alloc, wire);
        int expectedFrames = len == 0 ? 1 : (len + max - 1) / max;
        assertEquals(expectedFrames, fs.size(), "frames for " + len + " bytes");
        int total = 0;
        for (int i = 0; i < fs.size(); i++) {
          Frame f = fs.get(i);
          assertEquals(i == fs.size() - 1, f.done(), "only the last frame is done");
          assertEquals(5, f.sid());
          assertEquals(7, f.mid(), "all frames of a packet share the message id");
          assertEquals(Kind.MESSAGE.code(), f.kind());
          assertTrue(f.len() <= max);
          if (i < fs.size() - 1) {
            assertEquals(max, f.len(), "frames are filled before the next starts");
          }
          total += f.len();
        }
        assertEquals(len, total);
      }
      assertEquals(0, alloc.inUse());
    }
  }

  @Test
  void controlBitAndSlicePayloadsAreSplitToo() throws Exception {
    try (Allocator alloc = Allocator.create()) {
      byte[] data = new byte[250];
      new Random(1).nextBytes(data);
      byte[] wire;
      try (BufReader src = BufReader.of(new MemoryChannel(data, 1, 64), alloc);
          Slice s = src.readSlice(250)) {
        wire = write(alloc, 100, w -> {
          w.packet(1, 2, Kind.MESSAGE, false, Payload.POOLED, s);
          w.packet(1, 3, Kind.CANCEL, true, Payload.BYTES, Payload.NONE);
        });
      }
      List<Frame> fs = frames(alloc, wire);
      assertEquals(List.of(100, 100, 50, 0), fs.stream().map(Frame::len).toList());
      assertTrue(fs.get(3).control());
      assertFalse(fs.get(0).control());
      assertEquals(0, alloc.inUse());
    }
  }

  /** The data bytes of every frame on the wire, concatenated. */
  private static byte[] payloads(Allocator alloc, byte[] wire) throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (BufReader in = BufReader.of(new MemoryChannel(wire, 2, 3), alloc)) {
      FrameHeader h = new FrameHeader();
      while (h.readFrom(in)) {
        try (Slice d = in.readSlice(h.length())) {
          out.write(d.toByteArray());
        }
      }
    }
    return out.toByteArray();
  }

  @Test
  void aDirectBufferSentAgainIsReadAgainWithItsNewPositionAndBytes() throws Exception {
    try (Allocator alloc = Allocator.create()) {
      ByteBuffer buf = ByteBuffer.allocateDirect(300);
      for (int i = 0; i < 300; i++) {
        buf.put(i, (byte) i);
      }
      byte[] wire = write(alloc, 100, w -> {
        w.packet(1, 1, Kind.MESSAGE, false, Payload.BYTES, buf.clear().limit(250)); // 3 frames
        buf.put(0, (byte) 99); // same buffer, same position and limit, new content
        w.packet(1, 2, Kind.MESSAGE, false, Payload.BYTES, buf);
        w.packet(1, 3, Kind.MESSAGE, false, Payload.BYTES, buf.position(10).limit(20)); // a new view
        ByteBuffer other = ByteBuffer.allocateDirect(5);
        w.packet(1, 4, Kind.MESSAGE, false, Payload.BYTES, other); // another buffer
      });
      byte[] got = payloads(alloc, wire);
      java.io.ByteArrayOutputStream want = new java.io.ByteArrayOutputStream();
      for (int i = 0; i < 250; i++) {
        want.write(i);
      }
      want.write(99);
      for (int i = 1; i < 250; i++) {
        want.write(i);
      }
      for (int i = 10; i < 20; i++) {
        want.write(i);
      }
      want.write(new byte[5]);
      assertArrayEquals(want.toByteArray(), got);
      assertEquals(0, alloc.inUse());
    }
  }

  @Test
  void receivedMessageChunksAreSplitAcrossFrames() throws Exception {
    try (Allocator alloc = Allocator.create()) {
      byte[] data = new byte[1000];
      new Random(2).nextBytes(data);
      Chunks chunks = new Chunks();
      try (BufReader src = BufReader.of(new MemoryChannel(data, 1, 70), alloc,
          io.nocopy.memory.Tier.NANO)) {
        src.readBlocks(1000, chunks); // 128-byte blocks: chunks never align with frames
      }
      assertTrue(chunks.count() >= 8);
      byte[] wire =
          write(alloc, 300, w -> w.packet(1, 1, Kind.MESSAGE, false, Payload.RECEIVED, chunks));
      assertEquals(List.of(300, 300, 300, 100),
          frames(alloc, wire).stream().map(Frame::len).toList());
      assertArrayEquals(data, payloads(alloc, wire));
      chunks.release();
      assertEquals(0, alloc.inUse());
    }
  }

  @Test
  void randomPacketsRoundTrip() throws Exception {
    Random rnd = new Random(77);
    try (Allocator alloc = Allocator.create()) {
      for (int round = 0; round < 20; round++) {
        int max = 1 + rnd.nextInt(5000);
        List<byte[]> packets = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          byte[] p = new byte[rnd.nextInt(20_000)];
          rnd.nextBytes(p);
          packets.add(p);
        }
        byte[] wire = write(alloc, max, w -> {
          for (int i = 0; i < packets.size(); i++) {
            ByteBuffer p = ByteBuffer.wrap(packets.get(i));
            w.packet(1, i + 1, Kind.MESSAGE, false, Payload.BYTES, p);
          }
        });
        // reassemble under the transport's packet rules, each packet's chunks in a Chunks list
        PacketRules rules = new PacketRules(1, 1 << 20);
        Chunks packet = new Chunks();
        int got = 0;
        try (BufReader in = BufReader.of(new MemoryChannel(wire, round, 1 + rnd.nextInt(9000)), alloc)) {
          FrameHeader h = new FrameHeader();
          while (h.readFrom(in)) {
            assertFalse(rules.frame(h), "no packet is abandoned");
            if (h.length() > 0) {
              in.readBlocks(h.length(), packet);
            }
            if (h.done()) {
              rules.complete();
              assertArrayEquals(packets.get(got), packet.toByteArray(), "packet " + got + " max " + max);
              packet.release();
              got++;
            }
          }
        }
        assertEquals(packets.size(), got);
        assertEquals(0, alloc.inUse());
      }
    }
  }
}
