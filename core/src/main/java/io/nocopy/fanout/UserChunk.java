package io.nocopy.fanout;

import io.nocopy.buffer.Slice;

/** A chunk in pooled memory: one slice handle owned by whoever made the chunk. */
final class UserChunk extends Chunk {
  Slice slice;

  @Override
  Slice slice() {
    return slice;
  }
}
