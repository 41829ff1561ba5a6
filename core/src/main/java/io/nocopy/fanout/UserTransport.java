package io.nocopy.fanout;

import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.ChunkConsumer;
import io.nocopy.buffer.Slice;
import io.nocopy.internal.linux.Native;
import java.io.IOException;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectableChannel;

/**
 * The userspace transport: the source's bytes are read into pooled blocks by a {@link BufReader}
 * (a chunk is the reader's block references, in one reused {@link UserChunk}) or handed over as
 * slices by a {@link SliceSource}, and every sink's {@link UserPort} takes references to the same
 * blocks. The burst is a {@link BlockBurst}. Reads block the source thread (the source channel
 * must be in blocking mode); {@link Fanout#close()} takes effect when the current read returns.
 */
final class UserTransport implements Transport {
  /** A read that blocked longer than this means nothing was waiting (for the pacer). */
  private static final long WAITED_NANOS = 200_000;

  private final Fanout fanout;
  private final SliceSource slices;
  private final BufReader reader; // channel sources
  private final SourceFd fd; // FIONREAD of the channel behind the slices, when it has one
  private final long chunkMax;
  private final BlockBurst burst;
  private final UserChunk chunk = new UserChunk();
  private Slice leading;
  private boolean waited;

  UserTransport(Fanout f, Source src) {
    this.fanout = f;
    this.chunkMax = Math.max(4096, f.sinkBound / 4);
    this.burst = new BlockBurst(f.burstBytes);
    ReadableByteChannel underlying;
    if (src instanceof Source.OfChannel ch) {
      if (ch.channel() instanceof SelectableChannel sel && !sel.isBlocking()) {
        throw new IllegalBlockingModeException();
      }
      Native.reportOff();
      this.reader = BufReader.of(ch.channel(), f.allocator);
      this.slices = null; // read as block references into the reused chunk
      this.leading = ch.leading();
      underlying = ch.channel();
    } else {
      Source.OfSlices s = (Source.OfSlices) src;
      this.reader = null;
      this.slices = s.supplier();
      underlying = s.underlying();
    }
    this.fd = SourceFd.of(underlying);
  }

  @Override
  public TransportKind kind() {
    return TransportKind.USERSPACE;
  }

  @Override
  public void begin() {}

  @Override
  public Chunk read() throws IOException {
    Slice s;
    if (leading != null) {
      s = leading;
      leading = null;
      waited = false;
    } else if (reader != null) {
      long t0 = System.nanoTime();
      long n = reader.readBlocksUpTo(chunkMax, chunk.blocks); // no object per chunk
      waited = System.nanoTime() - t0 > WAITED_NANOS;
      if (n < 0) {
        return null;
      }
      chunk.position = fanout.counters.bytesIn;
      chunk.length = n;
      return chunk;
    } else {
      long t0 = System.nanoTime();
      s = slices.next();
      waited = System.nanoTime() - t0 > WAITED_NANOS;
    }
    if (s == null) {
      return null;
    }
    if (s.length() == 0) {
      s.close();
      return Chunk.NONE;
    }
    chunk.slice = s;
    chunk.position = fanout.counters.bytesIn;
    chunk.length = s.length();
    return chunk;
  }

  @Override
  public void tap(Chunk c, ChunkConsumer tap) throws IOException {
    UserChunk u = (UserChunk) c; // in pooled memory already
    if (u.slice != null) {
      u.slice.forEachChunk(tap);
    } else {
      u.blocks.forEach(tap);
    }
  }

  @Override
  public void awaitSource() {
    // reads block: an empty slice is simply skipped
  }

  @Override
  public void done(Chunk c) {
    chunk.clear();
  }

  @Override
  public long waiting() {
    if (waited) {
      return 0; // the read blocked: the source was drained
    }
    long inSocket = fd.waiting();
    if (inSocket < 0) {
      return -1;
    }
    return inSocket + (reader != null ? reader.buffered() : slices.buffered());
  }

  @Override
  public void keepBurst(Chunk c) throws IOException {
    burst.keep(c);
  }

  @Override
  public long burstStart() {
    return burst.start(fanout.counters.bytesIn);
  }

  @Override
  public void giveBurst(Sink s, long start) {
    burst.give(s, start);
  }

  @Override
  public Port newPort(SinkBuilder b) {
    return new UserPort(fanout, b.channel, b.bound);
  }

  @Override
  public void close() {
    fanout.delivery.lock();
    try {
      burst.close();
    } finally {
      fanout.delivery.unlock();
    }
  }

  @Override
  public void end() {
    chunk.clear(); // a chunk a failed step left
    if (leading != null) {
      leading.close();
      leading = null;
    }
    if (reader != null) {
      reader.close();
    }
  }
}
