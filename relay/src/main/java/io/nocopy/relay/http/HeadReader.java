package io.nocopy.relay.http;

import java.io.EOFException;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads a request head from a connection that has not authenticated yet, into a small heap buffer
 * that grows only as bytes arrive: 16 bytes while waiting for the first ones, then 512, doubling
 * up to the head cap ({@link HttpHead#MAX_BYTES} plus a line terminator). No pooled memory is
 * touched, so connections that never finish a head cannot take what sources and listeners need;
 * and every buffer is taken from a shared {@link Budget}, so all of them together stay bounded
 * too. Bytes read past the head (the start of a source's body) are kept for {@link #leftover()}.
 *
 * <p>Ownership: one per connection, used by the connection's thread only; {@link #close()} gives
 * the buffer's bytes back to the budget (idempotent).
 */
public final class HeadReader implements HttpHead.LineSource, AutoCloseable {
  /** The buffer a connection waits for its first bytes with: a request line does not fit in it. */
  static final int WAITING = 16;
  /** The buffer once bytes have come: room for a typical head. */
  static final int FIRST = 512;
  private static final int MAX = HttpHead.MAX_BYTES + 2;

  /** The bytes all head buffers together may hold. Thread-safe. */
  public static final class Budget {
    private final long capacity;
    private final AtomicLong free;

    /**
     * A budget of {@code bytes}.
     *
     * @param bytes the most bytes all head buffers together may hold
     */
    public Budget(long bytes) {
      this.capacity = bytes;
      this.free = new AtomicLong(bytes);
    }

    boolean take(int n) {
      long f;
      do {
        f = free.get();
        if (f < n) {
          return false;
        }
      } while (!free.compareAndSet(f, f - n));
      return true;
    }

    void give(int n) {
      free.addAndGet(n);
    }

    /**
     * Bytes held by head buffers now.
     *
     * @return bytes in use
     */
    public long inUse() {
      return capacity - free.get();
    }
  }

  /** Thrown when the budget has no room for a head buffer to grow: the server is flooded. */
  public static final class OverBudget extends IOException {
    private static final long serialVersionUID = 1L;

    OverBudget() {
      super("no room for another request head (head memory budget spent)", null);
    }
  }

  private final ReadableByteChannel ch;
  private final Budget budget;
  private ByteBuffer buf; // [0, position) read; lines consumed up to `start`
  private int start;
  private int scanned; // bytes from start already known to hold no LF
  private boolean eof;

  /**
   * A reader of {@code ch}.
   *
   * @param ch a blocking channel, owned by the caller
   * @param budget where the buffer's bytes are taken from
   */
  public HeadReader(ReadableByteChannel ch, Budget budget) {
    this.ch = ch;
    this.budget = budget;
  }

  @Override
  public String readLine(int maxBytes) throws IOException {
    while (true) {
      int end = buf == null ? 0 : buf.position();
      for (int i = start + scanned; i < end; i++) {
        if (buf.get(i) == '\n') {
          int len = i - start;
          if (len > 0 && buf.get(i - 1) == '\r') {
            len--;
          }
          if (len > maxBytes) {
            throw new ProtocolException("line longer than the limit of " + maxBytes);
          }
          byte[] line = new byte[len];
          buf.get(start, line);
          start = i + 1;
          scanned = 0;
          return new String(line, java.nio.charset.StandardCharsets.ISO_8859_1);
        }
      }
      scanned = end - start;
      if (scanned > maxBytes + 1) { // room for the CR before the LF
        throw new ProtocolException("line longer than the limit of " + maxBytes);
      }
      if (eof) {
        if (scanned == 0) {
          return null;
        }
        throw new EOFException("connection closed inside a line");
      }
      fill();
    }
  }

  /** Reads more bytes, first making room: compacting, else growing within the budget. */
  private void fill() throws IOException {
    if (buf == null) {
      grow(WAITING);
    } else if (!buf.hasRemaining()) {
      if (start > 0 && buf.capacity() > WAITING) {
        buf.flip().position(start);
        buf.compact();
        start = 0;
      } else if (buf.capacity() < MAX) {
        grow(Math.min(MAX, Math.max(FIRST, buf.capacity() * 2)));
      } else {
        throw new ProtocolException("request head line longer than " + HttpHead.MAX_BYTES);
      }
    }
    if (ch.read(buf) < 0) {
      eof = true;
    }
  }

  private void grow(int size) throws IOException {
    int old = buf == null ? 0 : buf.capacity();
    if (!budget.take(size - old)) {
      throw new OverBudget();
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    if (buf != null) {
      b.put(buf.flip());
    }
    buf = b;
  }

  /**
   * The bytes read past the last line returned (for a source, the start of its body).
   *
   * @return a new buffer, empty if there are none
   */
  public ByteBuffer leftover() {
    if (buf == null) {
      return ByteBuffer.allocate(0);
    }
    ByteBuffer out = ByteBuffer.allocate(buf.position() - start);
    out.put(0, buf, start, out.capacity());
    return out;
  }

  /**
   * The bytes this reader's buffer holds now (its capacity).
   *
   * @return bytes
   */
  public int held() {
    return buf == null ? 0 : buf.capacity();
  }

  /** Gives the buffer back to the budget. */
  @Override
  public void close() {
    if (buf != null) {
      budget.give(buf.capacity());
      buf = null;
    }
  }
}
