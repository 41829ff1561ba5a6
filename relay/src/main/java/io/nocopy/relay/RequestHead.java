package io.nocopy.relay;

import java.io.IOException;
import java.net.ProtocolException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A parsed HTTP/1.x (or ICE/1.0) request line and header fields.
 *
 * @param method the method, upper case as sent (GET, PUT, SOURCE, ...)
 * @param target the request target as sent (path and optional query)
 * @param version the protocol token (HTTP/1.0, HTTP/1.1, ICE/1.0)
 * @param headers the header fields in order, names as sent
 */
record RequestHead(String method, String target, String version, List<Header> headers) {
  /** The limit on request line plus headers, in bytes. */
  static final int MAX_HEAD_BYTES = 8192;

  private static final int MAX_HEADERS = 100;

  /** One header field. */
  record Header(String name, String value) {}

  /** Reads one line of at most {@code maxBytes} bytes (without its CRLF or LF). */
  @FunctionalInterface
  interface LineSource {
    /**
     * The next line.
     *
     * @param maxBytes the longest line allowed, terminator included
     * @return the line without terminator, or null at end of stream before any byte
     * @throws ProtocolException if the line is longer than {@code maxBytes}
     */
    String readLine(int maxBytes) throws IOException;
  }

  /** Why a request head was refused, with the HTTP status to answer. */
  static final class BadRequest extends ProtocolException {
    private static final long serialVersionUID = 1L;
    final int status;

    BadRequest(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  /**
   * Reads a request head: request line, header fields, blank line; at most {@link
   * #MAX_HEAD_BYTES} in all.
   *
   * @param in where lines come from
   * @return the head, or null if the stream ended before a request line started
   * @throws BadRequest with status 400 (malformed, or request line too long) or 431 (header
   *     fields too large)
   */
  static RequestHead read(LineSource in) throws IOException {
    int budget = MAX_HEAD_BYTES;
    String line;
    try {
      line = in.readLine(budget);
    } catch (ProtocolException e) {
      throw new BadRequest(400, "request line longer than " + MAX_HEAD_BYTES + " bytes");
    }
    if (line == null) {
      return null;
    }
    budget -= line.length() + 2;
    String[] parts = line.split(" ", -1);
    if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new BadRequest(400, "malformed request line");
    }
    String method = parts[0];
    for (int i = 0; i < method.length(); i++) {
      char c = method.charAt(i);
      if (c < 'A' || c > 'Z') {
        throw new BadRequest(400, "malformed method");
      }
    }
    String version = parts[2];
    if (!version.equals("HTTP/1.0") && !version.equals("HTTP/1.1") && !version.equals("ICE/1.0")) {
      throw new BadRequest(400, "unsupported protocol version");
    }
    List<Header> headers = new ArrayList<>();
    while (true) {
      if (budget <= 0) {
        throw new BadRequest(431, "request header fields larger than " + MAX_HEAD_BYTES + " bytes");
      }
      String h;
      try {
        h = in.readLine(budget);
      } catch (ProtocolException e) {
        throw new BadRequest(431, "request header fields larger than " + MAX_HEAD_BYTES + " bytes");
      }
      if (h == null) {
        throw new BadRequest(400, "connection closed inside the request head");
      }
      budget -= h.length() + 2;
      if (h.isEmpty()) {
        break;
      }
      if (headers.size() == MAX_HEADERS) {
        throw new BadRequest(431, "more than " + MAX_HEADERS + " header fields");
      }
      int colon = h.indexOf(':');
      if (colon <= 0 || h.charAt(0) == ' ' || h.charAt(0) == '\t' || h.charAt(colon - 1) == ' ') {
        throw new BadRequest(400, "malformed header field");
      }
      headers.add(new Header(h.substring(0, colon), h.substring(colon + 1).strip()));
    }
    return new RequestHead(method, parts[1], version, List.copyOf(headers));
  }

  /**
   * The value of the first header with this name (case-insensitive).
   *
   * @param name the header name
   * @return the value, or null
   */
  String header(String name) {
    for (Header h : headers) {
      if (h.name().equalsIgnoreCase(name)) {
        return h.value();
      }
    }
    return null;
  }

  /** The path part of the target (before any '?'). */
  String path() {
    int q = target.indexOf('?');
    return q < 0 ? target : target.substring(0, q);
  }

  /**
   * The query parameters of a request target, percent-decoded as UTF-8 ('+' is a space); the
   * first of repeated names wins. Malformed escapes are kept as they are.
   */
  static java.util.Map<String, String> query(String target) {
    java.util.Map<String, String> out = new java.util.HashMap<>();
    int q = target.indexOf('?');
    if (q < 0) {
      return out;
    }
    for (String pair : target.substring(q + 1).split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = decode(eq < 0 ? pair : pair.substring(0, eq));
      String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
      out.putIfAbsent(k, v);
    }
    return out;
  }

  private static String decode(String s) {
    try {
      return java.net.URLDecoder.decode(s, java.nio.charset.StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  /** Whether the body is sent with chunked transfer coding. */
  boolean chunked() {
    String te = header("Transfer-Encoding");
    return te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
  }
}
