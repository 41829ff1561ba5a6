package io.nocopy.buffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nocopy.memory.Allocator;
import io.nocopy.memory.Tier;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The buffer layer on real JDK channels: reads from a loopback socket and a file, gathering writes
 * (writev) of slices and writers to a socket and a file, with non-blocking partial writes. Counts
 * file descriptors and pooled blocks before and after.
 */
class RealChannelTest {
  Allocator alloc;
  int fdsBefore;

  static int openFds() {
    String[] fds = new File("/proc/self/fd").list();
    return fds == null ? -1 : fds.length;
  }

  /**
   * The JDK opens a few descriptors once and keeps them: NIO's pre-close socket on first socket
   * use, /dev/random and /dev/urandom on first temporary-file name. Trigger both before counting,
   * so only this test's own descriptors are compared.
   */
  @BeforeAll
  static void warmUpJdk() throws IOException {
    Files.delete(Files.createTempDirectory("nocopy-warm-up"));
    try (ServerSocketChannel server = ServerSocketChannel.open()) {
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      try (SocketChannel c = SocketChannel.open(server.getLocalAddress());
          SocketChannel a = server.accept()) {
        a.configureBlocking(false);
        c.shutdownOutput();
      }
    }
  }

  static String fdTargets() {
    StringBuilder sb = new StringBuilder();
    File[] fds = new File("/proc/self/fd").listFiles();
    for (File f : fds == null ? new File[0] : fds) {
      try {
        sb.append(f.getName()).append("->").append(Files.readSymbolicLink(f.toPath())).append(' ');
      } catch (IOException e) {
        sb.append(f.getName()).append("->? ");
      }
    }
    return sb.toString();
  }

  @BeforeEach
  void setUp() {
    alloc = Allocator.builder().maxBytes(32L << 20).build();
    fdsBefore = openFds();
  }

  @AfterEach
  void tearDown() {
    assertEquals(0, alloc.inUse(), "blocks still in use");
    alloc.close();
    assertEquals(fdsBefore, openFds(), () -> "file descriptors leaked: " + fdTargets());
  }

  @Test
  void sliceFromASocketGoesBackOutThroughWritev() throws Exception {
    byte[] data = BufReaderContract.randomBytes(300_000, 21);
    try (ServerSocketChannel server = ServerSocketChannel.open()) {
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      try (SocketChannel out = SocketChannel.open(server.getLocalAddress());
          SocketChannel in = server.accept()) {
        Thread writer =
            Thread.ofPlatform().start(() -> {
              try {
                ByteBuffer b = ByteBuffer.wrap(data);
                while (b.hasRemaining()) {
                  out.write(b);
                }
                out.shutdownOutput();
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
        List<Slice> frames = new ArrayList<>();
        try (BufReader r = BufReader.of(in, alloc, Tier.MEDIUM)) {
          for (int at = 0; at < data.length; ) {
            int n = Math.min(40_000, data.length - at);
            frames.add(r.readSlice(n));
            at += n;
          }
        }
        writer.join();
        // send every frame back over the same connection (the other direction), non-blocking,
        // resuming partial writes by position, while a reader thread drains it
        byte[] echoed = new byte[data.length];
        Thread drain =
            Thread.ofPlatform().start(() -> {
              try {
                ByteBuffer b = ByteBuffer.wrap(echoed);
                while (b.hasRemaining() && out.read(b) >= 0) {}
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
        in.configureBlocking(false);
        for (Slice f : frames) {
          long position = 0;
          while (position < f.length()) {
            long n = f.writeTo(in, position);
            position += n;
            if (n == 0) {
              Thread.onSpinWait();
            }
          }
          f.close();
        }
        drain.join();
        assertArrayEquals(data, echoed);
      }
    }
  }

  @Test
  void writerAndSlicesToAFileAndBack(@TempDir Path dir) throws IOException {
    byte[] payload = BufReaderContract.randomBytes(50_000, 22);
    Path file = dir.resolve("out.bin");
    byte[] expected;
    try (FileChannel ch =
            FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        BufReader r = BufReader.of(ChunkedChannel.fixed(payload, 3000), alloc, Tier.SMALL);
        Slice body = r.readSlice(payload.length);
        BufWriter w = BufWriter.of(alloc, Tier.SMALL)) {
      try (Slice part = body.slice(7, 1000)) {
        w.writeVarint(payload.length).write(body).writeBE(0xCAFEBABEL, 4).write(part);
      }
      try (Slice all = w.toSlice()) {
        expected = all.toByteArray();
        w.write(all);
      }
      assertEquals(expected.length, w.writeTo(ch));
    }
    assertArrayEquals(expected, Files.readAllBytes(file));
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        BufReader r = BufReader.of(ch, alloc)) {
      assertEquals(payload.length, r.readVarint());
      try (Slice back = r.readSlice(payload.length)) {
        assertArrayEquals(payload, back.toByteArray());
      }
      assertEquals(0xCAFEBABEL, r.readBE(4));
      r.skip(1000);
      assertEquals(0, r.buffered());
      Objects.requireNonNull(r.asInputStream());
      assertEquals(-1, r.asInputStream().read());
    }
  }
}
