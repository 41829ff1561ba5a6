package io.nocopy.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recordings: every source gets a file of its own whatever its name maps to, nothing is
 * overwritten, and a recording on a disk that stalls resumes with the gap logged and counted.
 * Runs on both transports (the build runs it again with the userspace engine).
 */
class RecorderTest {
  @BeforeAll
  static void warmUp() throws Exception {
    Warmup.once();
  }

  private static List<Path> files(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }

  @Test
  void mountsWhoseNamesCollideAndQuickReconnectsEachGetAFileAndNothingIsOverwritten(@TempDir Path dir)
      throws Exception {
    // every name the first three recordings could get in the next minute is taken already
    DateTimeFormatter t = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    Instant now = Instant.now();
    byte[] taken = "taken".getBytes(StandardCharsets.US_ASCII);
    for (int s = -1; s < 60; s++) {
      Files.write(dir.resolve("a_b-" + t.format(now.plusSeconds(s)) + ".mp3"), taken);
    }
    byte[][] data = {RelayEndToEndTest.random(200_000, 51), RelayEndToEndTest.random(300_000, 52),
        RelayEndToEndTest.random(250_000, 53)};
    try (RelayServer server = RelayServer.start(Clients.config("--record-dir", dir.toString()))) {
      // two mounts that map to one file stem, at once
      try (Clients.Source ab = Clients.source(server.address(), "/a/b.mp3", false, false);
          Clients.Source a_b = Clients.source(server.address(), "/a_b.mp3", true, false)) {
        RelayEndToEndTest.sendAll(ab, data[0], 1);
        RelayEndToEndTest.sendAll(a_b, data[1], 2);
        ab.finish();
        a_b.finish();
        RelayEndToEndTest.await(() -> server.mounts().isEmpty(), "both sources ended");
      }
      // the first source again, within the same second as like as not
      try (Clients.Source again = Clients.source(server.address(), "/a/b.mp3", false, true)) {
        RelayEndToEndTest.sendAll(again, data[2], 3);
        again.finish();
      }
      RelayEndToEndTest.assertClean(server);
    }
    List<byte[]> recorded = new ArrayList<>();
    int untouched = 0;
    for (Path f : files(dir)) {
      byte[] b = Files.readAllBytes(f);
      if (Arrays.equals(b, taken)) {
        untouched++;
      } else {
        assertTrue(f.getFileName().toString().matches("a_b-\\d{8}T\\d{6}Z-\\d+\\.mp3"), f.toString());
        recorded.add(b);
      }
    }
    assertEquals(61, untouched, "no file was overwritten");
    assertEquals(3, recorded.size(), "each source has its own recording");
    for (byte[] d : data) {
      assertTrue(recorded.stream().anyMatch(r -> Arrays.equals(r, d)), "a recording holds each stream whole");
    }
  }

  @Test
  void aRecordingThatFallsBehindResumesAndCountsTheGap(@TempDir Path dir) throws Exception {
    int before = 100_000;
    Gate gate = new Gate(before);
    byte[] data = RelayEndToEndTest.random(24 << 20, 54);
    int first = 20 << 20; // more than a recording may fall behind on either transport (16 MiB)
    long missed;
    try (RelayServer server = RelayServer.start(Clients.config("--record-dir", dir.toString()))) {
      server.recorder().opener((file, create) -> new GatedChannel(Recorder.FILES.open(file, create), gate));
      try (Clients.Source src = Clients.source(server.address(), "/slow.mp3", false, false)) {
        src.send(data, 0, first);
        RelayEndToEndTest.await(() -> server.mounts().get(0).bytesIn() == first, "the relay read it all");
        RelayEndToEndTest.await(() -> server.recorder().resumes() >= 1, "the recording dropped and resumed");
        gate.open();
        byte[] rest = Arrays.copyOfRange(data, first, data.length);
        RelayEndToEndTest.sendPaced(src, rest, 55, 4 << 20); // live again: the recording keeps up
        src.finish();
      }
      RelayEndToEndTest.assertClean(server);
      missed = server.recorder().bytesMissed();
    }
    byte[] got = Files.readAllBytes(files(dir).get(0));
    assertTrue(missed > 0 && missed < first - before, "the gap is counted: " + missed);
    assertEquals(data.length - missed, got.length, "the file is the stream without the gap");
    assertArrayEquals(Arrays.copyOf(data, before), Arrays.copyOf(got, before), "what was written before");
    // while the disk stalled, each resume found the recording behind again; after it recovered,
    // the file goes on from the oldest byte the relay held at the last resume, to the end
    assertArrayEquals(Arrays.copyOfRange(data, (int) (before + missed), data.length),
        Arrays.copyOfRange(got, before, got.length), "then the stream from where it resumed");
  }

  /** Lets a number of bytes through, then holds every writer until opened. */
  static final class Gate {
    private long allowance;
    private boolean open;

    Gate(long allowance) {
      this.allowance = allowance;
    }

    synchronized void open() {
      open = true;
      notifyAll();
    }

    /** How many of {@code wanted} bytes may be written now; waits while none may. */
    synchronized int take(int wanted) throws InterruptedException {
      while (!open && allowance == 0) {
        wait();
      }
      if (open) {
        return wanted;
      }
      int n = (int) Math.min(wanted, allowance);
      allowance -= n;
      return n;
    }
  }

  /** A file on a disk that stalls: writes wait at the gate; an interrupt closes it, as FileChannel does. */
  static final class GatedChannel implements WritableByteChannel {
    private final WritableByteChannel file;
    private final Gate gate;

    GatedChannel(WritableByteChannel file, Gate gate) {
      this.file = file;
      this.gate = gate;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      if (!file.isOpen()) {
        throw new ClosedChannelException();
      }
      int n;
      try {
        n = gate.take(src.remaining());
      } catch (InterruptedException e) {
        file.close();
        throw new ClosedByInterruptException();
      }
      ByteBuffer part = src.slice(src.position(), n);
      while (part.hasRemaining()) {
        file.write(part);
      }
      src.position(src.position() + n);
      return n;
    }

    @Override
    public boolean isOpen() {
      return file.isOpen();
    }

    @Override
    public void close() throws IOException {
      file.close();
    }
  }
}
