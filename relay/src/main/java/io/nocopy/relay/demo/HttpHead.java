package io.nocopy.relay.demo;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/** Reads one HTTP response head from a blocking socket without reading past it. Stateless. */
final class HttpHead {
  /** The longest head accepted. */
  static final int MAX = 8192;

  private HttpHead() {}

  /**
   * Reads up to and including the blank line that ends a response head, one byte at a time so
   * that no body byte is consumed. Honours the socket's {@code SO_TIMEOUT}.
   *
   * @param ch a blocking, connected channel
   * @return the head without its final blank line
   * @throws EOFException if the peer closes first
   * @throws ProtocolException if the head is longer than {@link #MAX}
   */
  static String read(SocketChannel ch) throws IOException {
    InputStream in = ch.socket().getInputStream(); // not closed here: that would close the channel
    byte[] head = new byte[MAX];
    int n = 0;
    while (n < 4 || head[n - 4] != '\r' || head[n - 3] != '\n' || head[n - 2] != '\r' || head[n - 1] != '\n') {
      if (n == MAX) {
        throw new ProtocolException("response head longer than " + MAX + " bytes");
      }
      int b = in.read();
      if (b < 0) {
        throw new EOFException("connection closed after " + n + " bytes of a response head: '"
            + new String(head, 0, n, StandardCharsets.ISO_8859_1).strip() + "'");
      }
      head[n++] = (byte) b;
    }
    return new String(head, 0, n - 4, StandardCharsets.ISO_8859_1);
  }

  /** The first line of a head. */
  static String statusLine(String head) {
    int eol = head.indexOf("\r\n");
    return eol < 0 ? head : head.substring(0, eol);
  }
}
