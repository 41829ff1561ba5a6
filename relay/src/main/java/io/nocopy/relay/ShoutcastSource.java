package io.nocopy.relay;

import io.nocopy.relay.http.HttpHead;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The SHOUTcast v1 source handshake, on the socket a {@code <shoutcast-mount>} opens (the listen
 * socket's port + 1), as Icecast 2.4 speaks it: the encoder sends its password alone on the first
 * line; a right one is answered {@code OK2\r\nicy-caps:11\r\n\r\n}, then the encoder sends its
 * {@code icy-*} header lines, a blank line and the stream. A wrong password gets no answer: the
 * connection is closed. What follows the handshake is served as a {@code SOURCE} request for the
 * socket's mount, so the mount's checks and settings apply as to any source; it gets no other
 * answer when it is taken. The access log counts {@code OK2} as Icecast 2.4 does: status 200, its
 * 20 bytes sent.
 */
final class ShoutcastSource {
  /** Icecast's answer to the right password. */
  static final byte[] OK2 = "OK2\r\nicy-caps:11\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  /** The longest password line read. */
  private static final int MAX_PASSWORD = 256;

  private ShoutcastSource() {}

  /**
   * Reads the handshake.
   *
   * @param in the connection's head reader
   * @param ch the connection, for the answer
   * @param mount the mount the socket's sources publish to
   * @param credentials the mount's source credentials
   * @param user the mount's source user, with which the password is checked
   * @param exchange the connection's access-log record, which counts the answer
   * @return the source's head as a {@code SOURCE} request for {@code mount} carrying the given
   *     password, or null when the password is wrong or the encoder left (the caller closes)
   * @throws IOException if reading fails or the head is malformed
   */
  static HttpHead.Request readHead(HttpHead.LineSource in, SocketChannel ch, String mount,
      BasicAuth credentials, String user, AccessLog.Exchange exchange) throws IOException {
    String password = in.readLine(MAX_PASSWORD);
    if (password == null) {
      return null;
    }
    String authorization = "Basic " + Base64.getEncoder().encodeToString(
        (user + ":" + password).getBytes(StandardCharsets.ISO_8859_1));
    if (!credentials.accepts(authorization)) {
      return null;
    }
    exchange.sent(200, OK2);
    Responses.send(ch, OK2);
    String[] synthetic = {"SOURCE " + mount + " HTTP/1.0", "Authorization: " + authorization};
    int[] next = {0};
    return HttpHead.readRequest(max -> next[0] < synthetic.length ? synthetic[next[0]++] : in.readLine(max));
  }
}
