package io.nocopy.relay.http;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The one HTTP/1.x head parser, for requests and responses alike: a start line, header fields, a
 * blank line, at most {@link #MAX_BYTES} in all. It also reads Icecast's dialects: {@code ICE/1.0}
 * requests from old source clients and {@code ICY 200 OK} responses from SHOUTcast-style servers.
 *
 * <p>Requests are read strictly (the relay answers what it refuses with the status in {@link
 * Malformed#status()}: 400, or 431 for a head that is too large); responses with the same rules,
 * so a cascaded relay and the load generator see an upstream's head exactly as the relay would
 * see a client's.
 *
 * <p>Lines come from a {@link LineSource}: the relay's pooled {@code BufReader::readLine}, or
 * {@link LineSource#of(InputStream)} where the body must stay unread in the socket. Stateless;
 * the heads it returns are immutable.
 */
public final class HttpHead {
  /** The limit on start line plus header fields, in bytes. */
  public static final int MAX_BYTES = 8192;

  private static final int MAX_FIELDS = 100;

  private HttpHead() {}

  /**
   * One header field.
   *
   * @param name the name as sent
   * @param value the value without surrounding white space
   */
  public record Header(String name, String value) {}

  /** What requests and responses share: header fields, looked up by name. */
  public sealed interface Fields permits Request, Response {
    /**
     * The header fields in the order sent.
     *
     * @return an immutable list
     */
    List<Header> headers();

    /**
     * The value of the first header field with this name (case-insensitive).
     *
     * @param name the field name
     * @return the value, or null if there is no such field
     */
    default String header(String name) {
      for (Header h : headers()) {
        if (h.name().equalsIgnoreCase(name)) {
          return h.value();
        }
      }
      return null;
    }

    /**
     * Whether the body is sent with chunked transfer coding.
     *
     * @return true if {@code Transfer-Encoding} names {@code chunked}
     */
    default boolean chunked() {
      String te = header("Transfer-Encoding");
      return te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
    }
  }

  /**
   * A request head.
   *
   * @param method the method, upper case as sent (GET, PUT, SOURCE, ...)
   * @param target the request target as sent (path and optional query)
   * @param version HTTP/1.0, HTTP/1.1 or ICE/1.0
   * @param headers the header fields in order
   */
  public record Request(String method, String target, String version, List<Header> headers)
      implements Fields {
    /**
     * The path part of the target (before any '?').
     *
     * @return the path as sent, not decoded
     */
    public String path() {
      int q = target.indexOf('?');
      return q < 0 ? target : target.substring(0, q);
    }

    /**
     * The query parameters of the target, percent-decoded as UTF-8 ('+' is a space); the first of
     * repeated names wins; malformed escapes are kept as they are.
     *
     * @return a new mutable map, empty without a query
     */
    public Map<String, String> query() {
      Map<String, String> out = new HashMap<>();
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

    /**
     * The body length a head declares: -1 without {@code Content-Length}. Repeated fields (or a
     * list in one field) must all carry the same value (RFC 9112, section 6.3).
     *
     * @return the length, or -1 without the field
     * @throws IllegalArgumentException for a malformed or conflicting length
     */
    public long contentLength() {
      long length = -1;
      for (Header h : headers) {
        if (!h.name().equalsIgnoreCase("Content-Length")) {
          continue;
        }
        for (String part : h.value().split(",", -1)) {
          String v = part.strip();
          long n = -1;
          if (!v.isEmpty() && v.length() <= 18 && v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            n = Long.parseLong(v);
          }
          if (n < 0) {
            throw new IllegalArgumentException("malformed Content-Length");
          }
          if (length >= 0 && n != length) {
            throw new IllegalArgumentException("conflicting Content-Length values");
          }
          length = n;
        }
      }
      return length;
    }

    private static String decode(String s) {
      try {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return s;
      }
    }
  }

  /**
   * A response head.
   *
   * @param version HTTP/1.0, HTTP/1.1 or ICY
   * @param status the three-digit status code
   * @param reason the reason phrase, possibly empty
   * @param headers the header fields in order
   */
  public record Response(String version, int status, String reason, List<Header> headers)
      implements Fields {
    /**
     * The status line as it was sent (for messages).
     *
     * @return version, status and reason
     */
    public String statusLine() {
      return reason.isEmpty() ? version + " " + status : version + " " + status + " " + reason;
    }
  }

  /** Why a head was refused, with the HTTP status a server answers it with. */
  public static final class Malformed extends ProtocolException {
    private static final long serialVersionUID = 1L;
    private final int status;

    Malformed(int status, String message) {
      super(message);
      this.status = status;
    }

    /**
     * The status to answer: 400 (malformed) or 431 (too large).
     *
     * @return the status code
     */
    public int status() {
      return status;
    }
  }

  /** Where a head's lines come from. */
  @FunctionalInterface
  public interface LineSource {
    /**
     * The next line.
     *
     * @param maxBytes the longest line allowed, without its terminator
     * @return the line without its CRLF or LF, or null at the end of the stream before any byte
     * @throws ProtocolException if the line is longer than {@code maxBytes}
     * @throws EOFException if the stream ends inside a line
     * @throws IOException if reading fails
     */
    String readLine(int maxBytes) throws IOException;

    /**
     * Lines read from a stream one byte at a time, so that nothing after a line's end is consumed:
     * the body stays in the stream (or socket) for whoever reads it next. The stream is not
     * closed. For a short head on a blocking socket, where the body is read by other means.
     *
     * @param in the stream, owned by the caller
     * @return a line source over it
     */
    static LineSource of(InputStream in) {
      return maxBytes -> {
        StringBuilder line = new StringBuilder();
        while (true) {
          int b = in.read();
          if (b < 0) {
            if (line.isEmpty()) {
              return null;
            }
            throw new EOFException("stream ended inside a line: '" + line + "'");
          }
          if (b == '\n') {
            int n = line.length();
            if (n > 0 && line.charAt(n - 1) == '\r') {
              line.setLength(n - 1);
            }
            if (line.length() > maxBytes) {
              throw new ProtocolException("line longer than the limit of " + maxBytes);
            }
            return line.toString();
          }
          if (line.length() > maxBytes) { // room for one more: the CR before the LF
            throw new ProtocolException("line longer than the limit of " + maxBytes);
          }
          line.append((char) (b & 0xff));
        }
      };
    }
  }

  /**
   * Reads a request head.
   *
   * @param in where lines come from
   * @return the head, or null if the stream ended before a request line started
   * @throws Malformed with status 400 (malformed, or request line too long) or 431 (header
   *     fields too large or too many)
   * @throws IOException if reading fails
   */
  public static Request readRequest(LineSource in) throws IOException {
    String line = startLine(in, "request");
    if (line == null) {
      return null;
    }
    String[] parts = line.split(" ", -1);
    if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new Malformed(400, "malformed request line");
    }
    String method = parts[0];
    for (int i = 0; i < method.length(); i++) {
      char c = method.charAt(i);
      if (c < 'A' || c > 'Z') {
        throw new Malformed(400, "malformed method");
      }
    }
    String version = parts[2];
    if (!version.equals("HTTP/1.0") && !version.equals("HTTP/1.1") && !version.equals("ICE/1.0")) {
      throw new Malformed(400, "unsupported protocol version");
    }
    return new Request(method, parts[1], version, fields(in, MAX_BYTES - line.length() - 2, "request"));
  }

  /**
   * Reads a response head.
   *
   * @param in where lines come from
   * @return the head
   * @throws EOFException if the stream ended before a status line started
   * @throws Malformed if the status line or a header field is malformed, or the head too large
   * @throws IOException if reading fails
   */
  public static Response readResponse(LineSource in) throws IOException {
    String line = startLine(in, "response");
    if (line == null) {
      throw new EOFException("connection closed before a response");
    }
    String[] parts = line.split(" ", 3);
    String version = parts[0];
    if (parts.length < 2 || !(version.equals("HTTP/1.0") || version.equals("HTTP/1.1") || version.equals("ICY"))
        || parts[1].length() != 3) {
      throw new Malformed(400, "malformed status line '" + shorten(line) + "'");
    }
    int status = 0;
    for (int i = 0; i < 3; i++) {
      char c = parts[1].charAt(i);
      if (c < '0' || c > '9') {
        throw new Malformed(400, "malformed status line '" + shorten(line) + "'");
      }
      status = status * 10 + (c - '0');
    }
    String reason = parts.length == 3 ? parts[2] : "";
    return new Response(version, status, reason, fields(in, MAX_BYTES - line.length() - 2, "response"));
  }

  private static String startLine(LineSource in, String what) throws IOException {
    try {
      return in.readLine(MAX_BYTES);
    } catch (Malformed e) {
      throw e;
    } catch (ProtocolException e) {
      throw new Malformed(400, what + " line longer than " + MAX_BYTES + " bytes");
    }
  }

  /** Reads header fields up to the blank line, within {@code budget} bytes (terminators included). */
  private static List<Header> fields(LineSource in, int budget, String what) throws IOException {
    String tooLarge = what + " header fields larger than " + MAX_BYTES + " bytes";
    List<Header> headers = new ArrayList<>();
    while (true) {
      if (budget <= 0) {
        throw new Malformed(431, tooLarge);
      }
      String h;
      try {
        h = in.readLine(budget);
      } catch (Malformed e) {
        throw e;
      } catch (ProtocolException e) {
        throw new Malformed(431, tooLarge);
      }
      if (h == null) {
        throw new Malformed(400, "connection closed inside the " + what + " head");
      }
      budget -= h.length() + 2;
      if (h.isEmpty()) {
        return List.copyOf(headers);
      }
      if (headers.size() == MAX_FIELDS) {
        throw new Malformed(431, "more than " + MAX_FIELDS + " header fields");
      }
      int colon = h.indexOf(':');
      if (colon <= 0 || h.charAt(0) == ' ' || h.charAt(0) == '\t' || h.charAt(colon - 1) == ' ') {
        throw new Malformed(400, "malformed header field");
      }
      headers.add(new Header(h.substring(0, colon), h.substring(colon + 1).strip()));
    }
  }

  private static String shorten(String s) {
    return s.length() > 60 ? s.substring(0, 60) + "..." : s;
  }
}
