package io.nocopy.pipe;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/** Test helpers: connected socket pairs, descriptor counts, writers and hashing readers. */
public final class Net {
  private Net() {}

  public enum Kind {
    TCP,
    UNIX
  }

  /** Two connected stream sockets; {@code a} and {@code b} are the two ends. */
  public record Pair(SocketChannel a, SocketChannel b) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      a.close();
      b.close();
    }
  }

  public static Pair pair(Kind kind) throws IOException {
    if (kind == Kind.TCP) {
      try (ServerSocketChannel ss = ServerSocketChannel.open()) {
        ss.bind(new InetSocketAddress("127.0.0.1", 0));
        SocketChannel a = SocketChannel.open(ss.getLocalAddress());
        SocketChannel b = ss.accept();
        return new Pair(a, b);
      }
    }
    Path dir = Files.createTempDirectory("nocopy-pipe");
    Path sock = dir.resolve("s");
    try (ServerSocketChannel ss = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      ss.bind(UnixDomainSocketAddress.of(sock));
      SocketChannel a = SocketChannel.open(UnixDomainSocketAddress.of(sock));
      SocketChannel b = ss.accept();
      return new Pair(a, b);
    } finally {
      Files.deleteIfExists(sock);
      Files.deleteIfExists(dir);
    }
  }

  public static long openFds() {
    return fdTargets().size();
  }

  /** What each open descriptor refers to ("socket:[123]", "pipe:[4]", a path), sorted. */
  public static java.util.List<String> fdTargets() {
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      return s.map(
              p -> {
                try {
                  return Files.readSymbolicLink(p).toString();
                } catch (IOException e) {
                  return "gone"; // the descriptor of the listing itself
                }
              })
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  /** Writes {@code data} in chunks of 1..maxChunk bytes, then shuts the output down. */
  public static Future<Void> writeAll(SocketChannel ch, byte[] data, int maxChunk, long seed) {
    return CompletableFuture.runAsync(
        () -> {
          try {
            SplittableRandom r = new SplittableRandom(seed);
            int off = 0;
            while (off < data.length) {
              int n = Math.min(data.length - off, 1 + r.nextInt(maxChunk));
              ByteBuffer bb = ByteBuffer.wrap(data, off, n);
              while (bb.hasRemaining()) {
                ch.write(bb);
              }
              off += n;
            }
            ch.shutdownOutput();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        Thread::startVirtualThread);
  }

  /** Echoes everything {@code ch} reads back into it until its end, then shuts its output. */
  public static Future<Void> echo(SocketChannel ch) {
    return CompletableFuture.runAsync(
        () -> {
          try {
            ByteBuffer bb = ByteBuffer.allocate(8192);
            while (ch.read(bb.clear()) >= 0) {
              bb.flip();
              while (bb.hasRemaining()) {
                ch.write(bb);
              }
            }
            ch.shutdownOutput();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        Thread::startVirtualThread);
  }

  /** Reads {@code ch} to its end, returning every byte (on a platform thread, as {@link #hashAll}). */
  public static Future<byte[]> readAll(ReadableByteChannel ch) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            ByteBuffer bb = ByteBuffer.allocate(64 * 1024);
            while (ch.read(bb.clear()) >= 0) {
              out.write(bb.array(), 0, bb.position());
            }
            return out.toByteArray();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        r -> Thread.ofPlatform().daemon().start(r));
  }

  /**
   * Reads {@code ch} to its end, returning the SHA-256 and the count as "hex/count". On a platform
   * thread: a reader that always finds bytes waiting never parks, and hashing readers on virtual
   * threads would then hold the carriers (there is no preemption) away from the virtual threads of
   * the code under test.
   */
  public static Future<String> hashAll(ReadableByteChannel ch) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            MessageDigest md = sha256();
            ByteBuffer bb = ByteBuffer.allocateDirect(256 * 1024);
            long n = 0;
            int r;
            while ((r = ch.read(bb.clear())) >= 0) {
              bb.flip();
              md.update(bb);
              n += r;
            }
            return HexFormat.of().formatHex(md.digest()) + "/" + n;
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        r -> Thread.ofPlatform().daemon().start(r));
  }

  /** Writes {@code total} pseudo-random bytes (seeded) and returns their "hex/count". */
  public static Future<String> writeGenerated(WritableByteChannel ch, long total, long seed, Runnable done) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            MessageDigest md = sha256();
            SplittableRandom r = new SplittableRandom(seed);
            byte[] chunk = new byte[256 * 1024];
            ByteBuffer bb = ByteBuffer.allocateDirect(chunk.length);
            long left = total;
            while (left > 0) {
              int n = (int) Math.min(chunk.length, left);
              r.nextBytes(chunk);
              md.update(chunk, 0, n);
              bb.clear();
              bb.put(chunk, 0, n).flip();
              while (bb.hasRemaining()) {
                ch.write(bb);
              }
              left -= n;
            }
            done.run();
            return HexFormat.of().formatHex(md.digest()) + "/" + total;
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        Thread::startVirtualThread);
  }

  /**
   * Writes {@code total} pseudo-random bytes (seeded) at most {@code perMilli} bytes per
   * millisecond, shuts the output down, and returns their "hex/count".
   */
  public static Future<String> writePaced(SocketChannel ch, long total, long seed, int perMilli) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            MessageDigest md = sha256();
            SplittableRandom r = new SplittableRandom(seed);
            byte[] chunk = new byte[perMilli];
            ByteBuffer bb = ByteBuffer.allocateDirect(perMilli);
            long left = total;
            long next = System.nanoTime();
            while (left > 0) {
              int n = (int) Math.min(chunk.length, left);
              r.nextBytes(chunk);
              md.update(chunk, 0, n);
              bb.clear();
              bb.put(chunk, 0, n).flip();
              while (bb.hasRemaining()) {
                ch.write(bb);
              }
              left -= n;
              next += 1_000_000;
              long wait = next - System.nanoTime();
              if (wait > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
              }
            }
            ch.shutdownOutput();
            return HexFormat.of().formatHex(md.digest()) + "/" + total;
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        Thread::startVirtualThread);
  }

  /** Writes {@code data} at most {@code perMilli} bytes per millisecond, then shuts output. */
  public static Future<byte[]> writePaced(SocketChannel ch, byte[] data, int perMilli) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            long next = System.nanoTime();
            for (int off = 0; off < data.length; off += perMilli) {
              ByteBuffer bb = ByteBuffer.wrap(data, off, Math.min(perMilli, data.length - off));
              while (bb.hasRemaining()) {
                ch.write(bb);
              }
              next += 1_000_000;
              long wait = next - System.nanoTime();
              if (wait > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
              }
            }
            ch.shutdownOutput();
            return data;
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        Thread::startVirtualThread);
  }

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  public static void shutdownOutput(SocketChannel ch) {
    try {
      ch.shutdownOutput();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether this run is the fallback run (no --add-opens, or acceleration forced off). */
  public static boolean fallbackRun() {
    return Boolean.getBoolean("nocopy.test.fallback");
  }
}
