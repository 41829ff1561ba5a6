package io.nocopy.drpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.nocopy.memory.Allocator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ProtocolException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A seeded random-mutation fuzzer of the frame parser: valid multiplexed conversations are mutated
 * (bit flips, byte changes, insertions, deletions, duplications, truncation) and fed to a server
 * connection in random chunk sizes. The only acceptable outcomes are a clean end or a protocol
 * error; memory stays under the allocator's cap; every block comes back.
 */
class FrameParserFuzzTest {
  private static final int CASES = 400;

  /** A valid conversation: several streams, interleaved frames, random sizes and splits. */
  static byte[] conversation(Random rnd) {
    int streams = 1 + rnd.nextInt(4);
    List<List<byte[]>> frames = new ArrayList<>();
    for (int s = 1; s <= streams; s++) {
      List<byte[]> fs = new ArrayList<>();
      long mid = 1;
      if (rnd.nextInt(4) == 0) {
        fs.add(new Wire().frame(Kind.INVOKE_METADATA, true, s, mid++, new byte[rnd.nextInt(20)]).bytes());
      }
      fs.add(new Wire().invoke(s, mid++, "/fuzz/S" + s).bytes());
      int messages = rnd.nextInt(6);
      for (int m = 0; m < messages; m++) {
        byte[] data = new byte[rnd.nextInt(3000)];
        rnd.nextBytes(data);
        int split = 1 + rnd.nextInt(2000);
        for (int off = 0; ; off += split) {
          int n = Math.min(split, data.length - off);
          boolean done = off + n == data.length;
          byte[] part = java.util.Arrays.copyOfRange(data, off, off + n);
          fs.add(new Wire().frame(Kind.MESSAGE, done, s, mid, part).bytes());
          if (done) {
            break;
          }
        }
        mid++;
      }
      Kind end = switch (rnd.nextInt(4)) {
        case 0 -> Kind.CLOSE;
        case 1 -> Kind.CANCEL;
        case 2 -> Kind.ERROR;
        default -> Kind.CLOSE_SEND;
      };
      byte[] body = end == Kind.ERROR ? DrpcException.encode(7, "e") : new byte[0];
      fs.add(new Wire().frame(end.code(), true, end == Kind.CANCEL, s, mid, body).bytes());
      frames.add(fs);
    }
    // interleave: a stream's frames stay in order and stream n starts after stream n-1
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int[] next = new int[streams];
    int started = 0;
    int remaining = frames.stream().mapToInt(List::size).sum();
    while (remaining > 0) {
      int s = rnd.nextInt(Math.min(streams, started + 1));
      if (next[s] >= frames.get(s).size()) {
        continue;
      }
      if (s == started) {
        started++;
      }
      byte[] f = frames.get(s).get(next[s]++);
      out.write(f, 0, f.length);
      remaining--;
    }
    return out.toByteArray();
  }

  static byte[] mutate(byte[] in, Random rnd) {
    byte[] b = in;
    int mutations = 1 + rnd.nextInt(4);
    for (int i = 0; i < mutations && b.length > 0; i++) {
      int at = rnd.nextInt(b.length);
      switch (rnd.nextInt(6)) {
        case 0 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
        case 1 -> b[at] = (byte) rnd.nextInt(256);
        case 2 -> {
          byte[] ins = new byte[1 + rnd.nextInt(8)];
          rnd.nextBytes(ins);
          b = splice(b, at, 0, ins);
        }
        case 3 -> b = splice(b, at, Math.min(b.length - at, 1 + rnd.nextInt(16)), new byte[0]);
        case 4 -> {
          int n = Math.min(b.length - at, 1 + rnd.nextInt(32));
          b = splice(b, at, 0, java.util.Arrays.copyOfRange(b, at, at + n));
        }
        default -> b = java.util.Arrays.copyOf(b, at);
      }
    }
    return b;
  }

  private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
    byte[] out = new byte[b.length - remove + insert.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
    return out;
  }

  @Test
  void mutatedConversationsOnlyEverFailWithProtocolErrors() throws Exception {
    long cap = 32L << 20;
    DrpcOptions opts = DrpcOptions.builder().maxPacketSize(64 << 10).queueCapacity(8).build();
    int clean = 0;
    int rejected = 0;
    try (Allocator alloc = Allocator.builder().maxBytes(cap).build()) {
      for (int c = 0; c < CASES; c++) {
        long seed = 0xD2C0L * 31 + c;
        Random rnd = new Random(seed);
        byte[] input = c % 10 == 0 ? conversation(rnd) : mutate(conversation(rnd), rnd);
        ServerHarness h = new ServerHarness(input, seed, 1 + rnd.nextInt(4096), alloc, opts);
        IOException failure = h.run();
        if (failure instanceof ProtocolException) {
          rejected++;
        } else if (failure instanceof DrpcException d
            && d.getMessage().equals("connection closed by peer")) {
          clean++;
        } else {
          fail("case " + c + " (seed " + seed + "): unexpected failure " + failure, failure);
        }
        DrpcTestSupport.assertAllReleased(alloc);
        if (alloc.reservedBytes() > cap) {
          fail("case " + c + ": reserved " + alloc.reservedBytes() + " bytes over the cap");
        }
      }
      assertEquals(CASES, clean + rejected);
    }
    // the fuzzer must exercise both outcomes, or it tests nothing
    if (clean < CASES / 20 || rejected < CASES / 4) {
      fail("fuzzer outcomes skewed: clean=" + clean + " rejected=" + rejected);
    }
  }
}
