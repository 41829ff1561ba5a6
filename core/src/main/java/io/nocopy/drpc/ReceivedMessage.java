package io.nocopy.drpc;

import io.nocopy.buffer.ChunkConsumer;
import io.nocopy.buffer.Chunks;
import io.nocopy.buffer.Slice;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A received message lent to a {@link MessageHandler}: the chunks of pooled blocks its bytes were
 * read into, without a {@link Slice} handle, so receiving allocates nothing.
 *
 * <h2>Lifetime</h2>
 *
 * The object and the chunks it shows are valid only during the {@link
 * MessageHandler#onMessage} call it is passed to; the library then releases the blocks, and they
 * may hold another message's bytes right after. Every method throws {@link IllegalStateException}
 * once the call has returned. The object itself is reused for the next message of the same queue
 * (that reuse is what makes the receive allocation-free): do not store it; a reference kept and
 * used during a later call of the same stream would see that later message. Segments from {@link
 * #chunk} and {@link #forEachChunk} are raw views of pooled memory that no check can revoke: do not
 * let them escape the call. To keep a message, take a {@link #retain()} slice (a handle of its own,
 * with its own misuse checks) or copy it.
 *
 * <p>Read-only: the chunks must not be written. Used by the receiving thread only.
 */
public final class ReceivedMessage {
  private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0).asReadOnlyBuffer();

  private final Chunks chunks;
  private boolean valid;
  // buffer(): a read-only view of the last block segment a one-chunk message was in, reused while
  // messages keep arriving in that block (a read block holds many small messages)
  private MemorySegment viewSegment;
  private ByteBuffer view;

  ReceivedMessage(Chunks chunks) {
    this.chunks = chunks;
  }

  void open() {
    valid = true;
  }

  void invalidate() {
    valid = false;
  }

  /** The message's chunks, for sending it on during the handler call. */
  Chunks chunks() {
    check();
    return chunks;
  }

  private void check() {
    if (!valid) {
      throw new IllegalStateException(
          "ReceivedMessage used outside its MessageHandler call (the blocks are released)");
    }
  }

  /**
   * The message's length.
   *
   * @return bytes, 0 or more
   * @throws IllegalStateException outside the handler call
   */
  public long length() {
    check();
    return chunks.length();
  }

  /**
   * The number of chunks (0 for an empty message).
   *
   * @return the count
   * @throws IllegalStateException outside the handler call
   */
  public int chunkCount() {
    check();
    return chunks.count();
  }

  /**
   * One chunk of the message, in order: the block's own segment when the chunk covers its block,
   * otherwise a view of it (which allocates unless the JIT sees it does not escape).
   *
   * @param i 0 .. chunkCount() - 1
   * @return a read-only-by-contract view, valid only during the handler call
   * @throws IndexOutOfBoundsException if {@code i} is out of range
   * @throws IllegalStateException outside the handler call
   */
  public MemorySegment chunk(int i) {
    check();
    return chunks.segment(i);
  }

  /**
   * The message as one read-only buffer, when it lies in one chunk (the common case: a message
   * split across two read blocks has two), without allocating: the buffer is a view of the whole
   * pooled block, reused for every message of this stream that arrives in the same block, with
   * its position and limit set to this message's bytes. For parsers that read a {@link
   * ByteBuffer} (protobuf's {@code CodedInputStream}).
   *
   * <p>Like the chunks, the view is valid only during the handler call and must not escape it;
   * its position and limit are reset by the next call of this method. Bytes outside
   * position..limit belong to other messages: do not read them.
   *
   * @return the view (a direct buffer; empty for an empty message), or null if the message has
   *     more than one chunk
   * @throws IllegalStateException outside the handler call
   */
  public ByteBuffer buffer() {
    check();
    int n = chunks.count();
    if (n != 1) {
      return n == 0 ? EMPTY : null;
    }
    MemorySegment segment = chunks.block(0).segment();
    ByteBuffer b = view;
    if (segment != viewSegment) {
      b = segment.asReadOnly().asByteBuffer();
      view = b;
      viewSegment = segment;
    }
    int offset = chunks.offset(0);
    b.limit(offset + chunks.length(0));
    b.position(offset);
    return b;
  }

  /**
   * Passes the chunks in order (none for an empty message).
   *
   * @param consumer takes each chunk, valid only during the handler call
   * @throws IOException what the consumer throws (the remaining chunks are skipped)
   * @throws IllegalStateException outside the handler call
   */
  public void forEachChunk(ChunkConsumer consumer) throws IOException {
    check();
    chunks.forEach(consumer);
  }

  /**
   * Copies the bytes into a new array (allocates; for small values and tests).
   *
   * @return a new array owned by the caller
   * @throws IllegalStateException outside the handler call, or if the message exceeds an array
   */
  public byte[] toByteArray() {
    check();
    return chunks.toByteArray();
  }

  /**
   * Keeps the message beyond the handler call without copying: a new {@link Slice} holding its own
   * reference to every block. This allocates the handle, which is the caller's object.
   *
   * @return a slice owned by the caller, who closes it
   * @throws IllegalStateException outside the handler call
   */
  public Slice retain() {
    check();
    Chunks refs = new Chunks(Math.max(1, chunks.count()));
    chunks.retainTo(refs);
    return Slice.of(refs, refs.count());
  }

  @Override
  public String toString() {
    return valid ? "ReceivedMessage[" + chunks.length() + " bytes, " + chunks.count() + " chunks]"
        : "ReceivedMessage[released]";
  }
}
