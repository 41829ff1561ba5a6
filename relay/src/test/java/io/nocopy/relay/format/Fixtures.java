package io.nocopy.relay.format;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** The encoded fixtures under src/test/resources/formats, and ways to feed them to a scanner. */
final class Fixtures {
  private Fixtures() {}

  static byte[] load(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/formats/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource /formats/" + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** Feeds {@code bytes} in chunks of random sizes between 1 and {@code maxChunk}. */
  static void feed(FormatScanner scanner, byte[] bytes, long seed, int maxChunk) {
    Random random = new Random(seed);
    for (int off = 0; off < bytes.length; ) {
      int n = Math.min(bytes.length - off, 1 + random.nextInt(maxChunk));
      // a native copy, as the relay's pooled blocks are
      MemorySegment chunk = java.lang.foreign.Arena.ofAuto().allocate(n);
      MemorySegment.copy(MemorySegment.ofArray(bytes), off, chunk, 0, n);
      scanner.scan(chunk);
      off += n;
    }
  }

  /** Every start the scanner knows, in order (walking {@code startAtOrAfter}). */
  static long[] starts(FormatScanner scanner) {
    java.util.List<Long> all = new java.util.ArrayList<>();
    for (FormatScanner.Start s = scanner.startAtOrAfter(0); s != null;
        s = scanner.startAtOrAfter(s.position() + 1)) {
      all.add(s.position());
    }
    return all.stream().mapToLong(Long::longValue).toArray();
  }
}
