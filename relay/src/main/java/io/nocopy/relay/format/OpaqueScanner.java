package io.nocopy.relay.format;

import java.lang.foreign.MemorySegment;

/** A format without structure that matters to a player joining late: any byte is a start. */
final class OpaqueScanner extends FormatScanner {
  @Override
  public String formatName() {
    return "opaque";
  }

  @Override
  long consume(MemorySegment chunk, long off, long len, long at) {
    return len;
  }

  @Override
  Start start(long position) {
    return position <= position() ? Start.at(position) : null;
  }
}
