package io.nocopy.drpc.protobuf;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.nocopy.buffer.Slice;
import io.nocopy.drpc.Encoding;
import io.nocopy.drpc.ReceivedMessage;
import io.nocopy.memory.Allocator;
import io.nocopy.memory.Block;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Protobuf messages of one type on the DRPC transport, without a copy of the bytes on either side.
 *
 * <h2>Receiving</h2>
 *
 * A received message's bytes lie in the pooled blocks the connection read them into, as one or
 * more chunks. {@link #decode(ReceivedMessage)} and {@link #decode(Slice)} parse straight from
 * those chunks: a {@link CodedInputStream} over direct {@link ByteBuffer} views of them (one chunk:
 * the view itself; several: protobuf's decoder over a list of views). No {@code byte[]} copy of
 * the message is made; what is allocated is the decoder, a buffer view per chunk and the decoded
 * message objects (protobuf copies {@code bytes} and {@code string} fields out of the input, so the
 * decoded message never refers to the pooled blocks and stays valid after they are released).
 * Parsing straight from off-heap memory uses protobuf's {@code sun.misc.Unsafe} decoder; on a JVM
 * that denies it protobuf falls back to copying the chunk into an array first (same result).
 *
 * <h2>Sending</h2>
 *
 * {@link #encode(MessageLite, Allocator)} serializes into one pooled block of the size protobuf
 * computes ({@link MessageLite#getSerializedSize()}, memoized by generated messages) through a
 * {@link CodedOutputStream} over that block's memory, and returns it as a {@link Slice}, which the
 * transport then writes by reference: the message is written once, into pooled memory, and goes
 * from there to the socket.
 *
 * <p>A codec is immutable and may be shared by any number of threads and streams.
 *
 * @param <T> the message type
 */
public final class ProtoCodec<T extends MessageLite> implements Encoding<T> {
  private static final byte[] EMPTY = new byte[0];

  private final Parser<T> parser;

  private ProtoCodec(Parser<T> parser) {
    this.parser = Objects.requireNonNull(parser, "parser");
  }

  /**
   * A codec for the messages a parser reads.
   *
   * @param <T> the message type
   * @param parser the generated type's {@code parser()}
   * @return a codec, shareable
   */
  public static <T extends MessageLite> ProtoCodec<T> of(Parser<T> parser) {
    return new ProtoCodec<>(parser);
  }

  /**
   * Parses a message lent to a {@link io.nocopy.drpc.MessageHandler}, from its chunks in place.
   *
   * @param message borrowed: must be inside its handler call; not kept
   * @return the decoded message, which owns its data (valid after the blocks are released)
   * @throws com.google.protobuf.InvalidProtocolBufferException if the bytes are not a valid message
   *     of this type
   */
  @Override
  public T decode(ReceivedMessage message) throws IOException {
    ByteBuffer one = message.buffer(); // one chunk (or none): the stream's reused view
    if (one != null) {
      return parser.parseFrom(one);
    }
    int n = message.chunkCount();
    ByteBuffer[] views = new ByteBuffer[n];
    for (int i = 0; i < n; i++) {
      views[i] = message.chunk(i).asByteBuffer();
    }
    return parse(Arrays.asList(views));
  }

  /**
   * Parses a message held in a slice, from its chunks in place.
   *
   * @param message borrowed: read during the call; the caller still owns and closes it
   * @return the decoded message, which owns its data
   * @throws com.google.protobuf.InvalidProtocolBufferException if the bytes are not a valid message
   *     of this type
   */
  @Override
  public T decode(Slice message) throws IOException {
    if (message.length() == 0) {
      return parser.parseFrom(EMPTY);
    }
    List<ByteBuffer> views = new ArrayList<>(2);
    message.forEachChunk(chunk -> views.add(chunk.asByteBuffer()));
    if (views.size() == 1) {
      return parser.parseFrom(views.getFirst());
    }
    return parse(views);
  }

  private T parse(List<ByteBuffer> views) throws IOException {
    return parser.parseFrom(CodedInputStream.newInstance(views));
  }

  /**
   * Serializes a message into a pooled block.
   *
   * @param value the message
   * @param allocator where the block comes from (a connection's {@link
   *     io.nocopy.drpc.DrpcStream#allocator()} or {@link io.nocopy.drpc.DrpcClient#allocator()})
   * @return a slice over the serialized bytes, owned by the caller, who closes it after sending (an
   *     empty slice for a message of zero bytes)
   * @throws io.nocopy.memory.PoolExhaustedException if the allocator cannot supply the block
   * @throws IOException if serializing fails
   */
  public Slice encode(T value, Allocator allocator) throws IOException {
    int size = value.getSerializedSize();
    if (size == 0) {
      return Slice.empty();
    }
    Block block = allocator.allocate(size);
    try {
      // the block's own cached buffer view (ours alone until the slice is handed over): no view
      // object per message
      ByteBuffer target = block.byteBuffer();
      target.limit(size).position(0);
      CodedOutputStream out = CodedOutputStream.newInstance(target);
      value.writeTo(out);
      out.flush();
      out.checkNoSpaceLeft();
      return Slice.ofBlock(block, 0, size);
    } catch (IOException | RuntimeException e) {
      block.release();
      throw e;
    }
  }

  /**
   * Serializes a message into a new heap buffer: the {@link Encoding} form, for {@link
   * io.nocopy.drpc.DrpcClient#invoke(String, Object, Encoding, Encoding)} and other callers without
   * an allocator. Prefer {@link #encode(MessageLite, Allocator)}, which makes no garbage.
   *
   * @param value the message
   * @return a buffer over a new array holding the message, owned by the caller
   */
  @Override
  public ByteBuffer encode(T value) {
    return ByteBuffer.wrap(value.toByteArray());
  }

  @Override
  public String toString() {
    return "ProtoCodec[" + parser + "]";
  }
}
