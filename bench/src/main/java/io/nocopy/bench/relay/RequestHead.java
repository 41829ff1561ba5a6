package io.nocopy.bench.relay;

import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP/1.x request head as the Netty baseline relay needs it: method, path, version and the
 * headers (names lower-cased, last one wins). Immutable.
 *
 * @param method e.g. {@code GET}, {@code PUT}, {@code SOURCE}
 * @param path the request target, e.g. {@code /bench.mp3}
 * @param version e.g. {@code HTTP/1.1}
 * @param headers lower-cased names to values
 */
record RequestHead(String method, String path, String version, Map<String, String> headers) {
  /** The longest head accepted, in bytes. */
  static final int MAX = 8192;

  RequestHead {
    headers = Map.copyOf(headers);
  }

  /**
   * Parses a head without its final blank line.
   *
   * @param head the ISO-8859-1 text up to (not including) the {@code \r\n\r\n}
   * @return the head
   * @throws ProtocolException if the request line or a header line is malformed
   */
  static RequestHead parse(String head) throws ProtocolException {
    String[] lines = head.split("\r\n", -1);
    String[] first = lines[0].split(" ", -1);
    if (first.length != 3 || first[0].isEmpty() || !first[1].startsWith("/") || !first[2].startsWith("HTTP/1.")) {
      throw new ProtocolException("bad request line '" + lines[0] + "'");
    }
    Map<String, String> headers = new HashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon <= 0) {
        throw new ProtocolException("bad header line '" + lines[i] + "'");
      }
      headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
    }
    return new RequestHead(first[0], first[1], first[2], headers);
  }

  /**
   * Whether the head carries {@code Authorization: Basic} for user {@code source} and this password.
   *
   * @param password the source password
   * @return true if it does
   */
  boolean sourceAuthorized(String password) {
    String auth = headers.get("authorization");
    if (auth == null || !auth.regionMatches(true, 0, "Basic ", 0, 6)) {
      return false;
    }
    try {
      String decoded = new String(Base64.getDecoder().decode(auth.substring(6).strip()), StandardCharsets.UTF_8);
      return decoded.equals("source:" + password);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** @return whether the client sent {@code Expect: 100-continue} */
  boolean expectsContinue() {
    return "100-continue".equalsIgnoreCase(headers.get("expect"));
  }
}
