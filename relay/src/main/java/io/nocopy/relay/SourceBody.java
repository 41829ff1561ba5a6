package io.nocopy.relay;

import io.nocopy.buffer.BufReader;
import io.nocopy.buffer.Slice;
import java.io.EOFException;
import java.io.IOException;
import java.net.ProtocolException;

/**
 * A source body: raw until the connection closes (or {@code Content-Length} bytes), or in HTTP/1.1
 * chunked transfer coding. Chunk headers are parsed in userspace; chunk data is handed on as
 * slices of the blocks it was read into, never copied.
 */
final class SourceBody {
  private static final int MAX_CHUNK_LINE = 256;
  private static final int MAX_TRAILER_BYTES = 8192;

  private final BufReader in;
  private final boolean chunked;
  private final int maxSlice;
  private long remaining; // raw: bytes left (Long.MAX_VALUE until EOF); chunked: left in this chunk
  private boolean needCrlf;
  private boolean done;

  SourceBody(BufReader in, boolean chunked, long contentLength, int maxSlice) {
    this.in = in;
    this.chunked = chunked;
    this.maxSlice = maxSlice;
    this.remaining = chunked ? 0 : contentLength < 0 ? Long.MAX_VALUE : contentLength;
  }

  /**
   * The next piece of the stream.
   *
   * @return a slice owned by the caller, or null at the end of the body
   * @throws ProtocolException for a malformed chunk header or chunk terminator
   * @throws EOFException if the connection closed inside a chunk or before the last chunk
   */
  Slice next() throws IOException {
    if (done) {
      return null;
    }
    if (chunked) {
      while (remaining == 0) {
        if (needCrlf) {
          String end = in.readLine(0);
          if (end == null || !end.isEmpty()) {
            throw new ProtocolException("chunk data not followed by CRLF");
          }
          needCrlf = false;
        }
        String line = in.readLine(MAX_CHUNK_LINE);
        if (line == null) {
          throw new EOFException("source closed before the last chunk");
        }
        long size = parseChunkSize(line);
        if (size == 0) {
          int trailerBytes = 0;
          for (String t; (t = in.readLine(MAX_TRAILER_BYTES)) != null && !t.isEmpty(); ) {
            trailerBytes += t.length() + 2;
            if (trailerBytes > MAX_TRAILER_BYTES) {
              throw new ProtocolException("chunked trailer larger than " + MAX_TRAILER_BYTES);
            }
          }
          done = true;
          return null;
        }
        remaining = size;
      }
    } else if (remaining == 0) {
      done = true;
      return null;
    }
    Slice s = in.readSliceUpTo(Math.min(remaining, maxSlice));
    if (s == null) {
      done = true;
      if (chunked) {
        throw new EOFException("source closed inside a chunk (" + remaining + " bytes missing)");
      }
      if (remaining != Long.MAX_VALUE) {
        throw new EOFException("source closed " + remaining + " bytes before its Content-Length");
      }
      return null;
    }
    if (remaining != Long.MAX_VALUE) {
      remaining -= s.length();
    }
    if (chunked && remaining == 0) {
      needCrlf = true;
    }
    return s;
  }

  /** Parses a chunk-size line: hex digits, optionally followed by {@code ;extensions}. */
  static long parseChunkSize(String line) throws ProtocolException {
    int end = line.indexOf(';');
    String hex = (end < 0 ? line : line.substring(0, end)).strip();
    if (hex.isEmpty() || hex.length() > 15) {
      throw new ProtocolException("malformed chunk size '" + shorten(line) + "'");
    }
    long v = 0;
    for (int i = 0; i < hex.length(); i++) {
      int d = Character.digit(hex.charAt(i), 16);
      if (d < 0) {
        throw new ProtocolException("malformed chunk size '" + shorten(line) + "'");
      }
      v = (v << 4) | d;
    }
    return v;
  }

  private static String shorten(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
