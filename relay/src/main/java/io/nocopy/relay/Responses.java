package io.nocopy.relay;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP answers the relay gives, shaped like Icecast 2.4's (byte for byte where clients care),
 * and how they are sent: {@link #send} for an answer the connection goes on after, {@link #refuse}
 * for one that ends it.
 */
final class Responses {
  static final String SERVER = "nocopy-relay/0.1";

  private Responses() {}

  /** Icecast's answer to {@code Expect: 100-continue}. */
  static final byte[] CONTINUE =
      "HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** Icecast's answer to an accepted source. */
  static final byte[] SOURCE_OK = "HTTP/1.0 200 OK\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** The head of a listener's stream response, without ICY metadata. */
  static byte[] listenerOk(MountSnapshot m) {
    return listenerOk(m, 0, null, java.util.Map.of());
  }

  /**
   * The head of a listener's stream response as Icecast 2.4 writes it: its standard headers, the
   * configured {@code http-headers}, the source's stream headers ({@link #streamHeaders}) and
   * {@code icy-metaint} for a listener that gets ICY metadata.
   *
   * @param m the mount
   * @param metaint the ICY metadata interval the listener gets, or 0 for none
   * @param streamName the mount's {@code stream-name}, or null
   * @param headers the server's and the mount's {@code http-headers}, in that order
   */
  static byte[] listenerOk(MountSnapshot m, int metaint, String streamName,
      java.util.Map<String, String> headers) {
    StringBuilder b = new StringBuilder(384);
    b.append("HTTP/1.0 200 OK\r\n")
        .append("Server: ").append(SERVER).append("\r\n")
        .append("Connection: Close\r\n")
        .append("Date: ").append(httpDate()).append("\r\n")
        .append("Content-Type: ").append(clean(m.contentType())).append("\r\n")
        .append("Cache-Control: no-cache, no-store\r\n")
        .append("Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\n")
        .append("Pragma: no-cache\r\n");
    headers.forEach((k, v) -> b.append(k).append(": ").append(clean(v)).append("\r\n"));
    streamHeaders(b, m.info().streamHeaders(), streamName);
    if (metaint > 0) {
      b.append("icy-metaint:").append(metaint).append("\r\n");
    }
    b.append("\r\n");
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The source's {@code ice-*}/{@code icy-*} headers as Icecast 2.4 passes them to listeners, in
   * the order it keeps them (by name): {@code ice-audio-info} with a {@code bitrate=} entry first
   * gives {@code icy-br} (once), then itself as sent; {@code ice-name} becomes {@code icy-name}
   * (the mount's {@code stream-name} in its place when set), {@code ice-public} {@code icy-pub},
   * {@code ice-bitrate} {@code icy-br}, any other {@code ice-X} {@code icy-X}; {@code icy-*}
   * headers pass as they are. Nothing is added that the source did not send (an encoder that
   * sends {@code Icy-MetaData: 1}, as ffmpeg does, makes every listener get {@code
   * icy-metadata:1}, as from Icecast).
   */
  private static void streamHeaders(StringBuilder b, java.util.List<io.nocopy.relay.http.HttpHead.Header> hs,
      String streamName) {
    boolean bitrateGiven = false;
    for (io.nocopy.relay.http.HttpHead.Header h : hs) {
      String n = h.name();
      String v = h.value();
      if (n.equals("ice-audio-info")) {
        int at = bitrateGiven ? -1 : v.indexOf("bitrate=");
        int to = at < 0 ? at : at + "bitrate=".length();
        while (to >= 0 && to < v.length() && Character.isDigit(v.charAt(to)) && to - at < 18) {
          to++;
        }
        if (at >= 0 && to > at + "bitrate=".length()) {
          b.append("icy-br:").append(v, at + "bitrate=".length(), to).append("\r\n");
          bitrateGiven = true;
        }
        b.append("ice-audio-info: ").append(v).append("\r\n");
      } else if (n.equals("ice-name")) {
        b.append("icy-name:").append(streamName != null ? clean(streamName) : v).append("\r\n");
      } else if (n.equals("ice-public")) {
        b.append("icy-pub:").append(v).append("\r\n");
      } else if (n.equals("ice-bitrate")) {
        b.append("icy-br:").append(v).append("\r\n");
      } else {
        b.append("icy").append(n, 3, n.length()).append(':').append(v).append("\r\n");
      }
    }
  }

  /** Icecast's Date format: a two-digit day, unlike the JDK's RFC 1123 formatter. */
  static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.ENGLISH);

  /**
   * An answer with a small body as Icecast 2.4 writes its pages: the status line, {@code Server},
   * {@code Connection: Close}, {@code Date}, {@code Content-Type}, the extra headers, its three
   * no-cache headers, then {@code Content-Length} where Icecast gives one (its XML and JSON pages;
   * its errors and plain-text answers end with the connection instead).
   *
   * @param status the HTTP status
   * @param contentType the body's type
   * @param body the body
   * @param withLength whether to send {@code Content-Length}
   * @param extraHeaders whole header lines without line ends (say {@code WWW-Authenticate})
   * @return the answer's bytes
   */
  static byte[] page(int status, String contentType, String body, boolean withLength, String... extraHeaders) {
    byte[] content = body.getBytes(StandardCharsets.UTF_8);
    StringBuilder b = new StringBuilder(256);
    b.append("HTTP/1.0 ").append(status).append(' ').append(reason(status)).append("\r\n")
        .append("Server: ").append(SERVER).append("\r\n")
        .append("Connection: Close\r\n")
        .append("Date: ").append(httpDate()).append("\r\n")
        .append("Content-Type: ").append(contentType).append("\r\n");
    for (String h : extraHeaders) {
      b.append(h).append("\r\n");
    }
    b.append("Cache-Control: no-cache, no-store\r\n")
        .append("Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\n")
        .append("Pragma: no-cache\r\n");
    if (withLength) {
      b.append("Content-Length: ").append(content.length).append("\r\n");
    }
    byte[] head = b.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    byte[] all = new byte[head.length + content.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(content, 0, all, head.length, content.length);
    return all;
  }

  /** A complete answer with a small body and its {@code Content-Length} ({@link #page}). */
  static byte[] simple(int status, String contentType, String body, String... extraHeaders) {
    return page(status, contentType, body, true, extraHeaders);
  }

  /**
   * {@code answer} with {@code headers} added at the end of its head (before the blank line), as
   * Icecast adds its configured {@code http-headers} to every answer; a header the answer already
   * has (say {@code Access-Control-Allow-Origin} on the status page) is not given twice.
   *
   * @param answer a complete answer: status line, header lines, a blank line, maybe a body
   * @param headers names and values (values already free of line breaks)
   * @return {@code answer} itself when there are no headers, else a new array
   */
  static byte[] withHeaders(byte[] answer, java.util.Map<String, String> headers) {
    if (headers.isEmpty()) {
      return answer;
    }
    int end = -1;
    for (int i = 0; i + 3 < answer.length; i++) {
      if (answer[i] == '\r' && answer[i + 1] == '\n' && answer[i + 2] == '\r' && answer[i + 3] == '\n') {
        end = i + 2;
        break;
      }
    }
    if (end < 0) {
      return answer;
    }
    String head = new String(answer, 0, end, StandardCharsets.ISO_8859_1).toLowerCase(java.util.Locale.ROOT);
    StringBuilder extra = new StringBuilder();
    headers.forEach((k, v) -> {
      if (!head.contains("\r\n" + k.toLowerCase(java.util.Locale.ROOT) + ":")) {
        extra.append(k).append(": ").append(clean(v)).append("\r\n");
      }
    });
    byte[] add = extra.toString().getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[answer.length + add.length];
    System.arraycopy(answer, 0, out, 0, end);
    System.arraycopy(add, 0, out, end, add.length);
    System.arraycopy(answer, end, out, end + add.length, answer.length - end);
    return out;
  }

  /** An error page. */
  static byte[] error(int status, String message) {
    String[] extra =
        status == 401
            ? new String[] {"WWW-Authenticate: Basic realm=\"Icecast2 Server\""}
            : status == 405 ? new String[] {"Allow: GET, PUT, SOURCE"} : new String[0];
    return simple(status, "text/plain; charset=utf-8", message + "\n", extra);
  }

  /**
   * An error as Icecast 2.4 sends it, byte for byte but the {@code Server} and {@code Date} values:
   * plain text without a line end and without {@code Content-Length} (the body ends with the
   * connection), for answers that clients and scripts written for Icecast compare, such as 403
   * {@code too many sources connected}.
   *
   * @param status the HTTP status
   * @param message the body, Icecast's words
   * @return the answer
   */
  static byte[] icecastError(int status, String message) {
    return page(status, "text/plain; charset=utf-8", message, false);
  }

  static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 401 -> "Authentication Required";
      case 403 -> "Forbidden";
      case 404 -> "File Not Found";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 411 -> "Length Required";
      case 431 -> "Request Header Fields Too Large";
      case 500 -> "Internal Server Error";
      case 503 -> "Service Unavailable";
      default -> "Status";
    };
  }

  /** The current time as Icecast writes its {@code Date} header. */
  static String httpDate() {
    return HTTP_DATE.format(ZonedDateTime.now(ZoneOffset.UTC));
  }

  /** Header values from a source go out on listeners' responses: no CR/LF injection. */
  static String clean(String v) {
    StringBuilder b = new StringBuilder(v.length());
    for (int i = 0; i < v.length() && b.length() < SourceInfo.MAX_VALUE; i++) {
      char c = v.charAt(i);
      b.append(c < 0x20 || c == 0x7f ? ' ' : c);
    }
    return b.toString();
  }

  /**
   * Writes all of {@code bytes} to a blocking socket.
   *
   * @param ch the connection
   * @param bytes the answer
   * @throws IOException if the peer went away
   */
  static void send(SocketChannel ch, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /**
   * Answers with an error and ends the connection gracefully: output is shut down first and unread
   * request bytes are drained for a moment (at most 1 MiB, at most a second), so that the kernel
   * does not answer them with a reset that could destroy the response before the client reads it.
   *
   * @param ch the connection; the caller closes it afterwards
   * @param status the HTTP status
   * @param message the error page's text
   * @param timer closes the connection when the drain takes too long
   * @throws IOException if the peer went away before the answer was written
   */
  static void refuse(SocketChannel ch, int status, String message, ScheduledExecutorService timer)
      throws IOException {
    refuse(ch, error(status, message), timer);
  }

  /**
   * Sends {@code answer} and ends the connection gracefully, as {@link #refuse(SocketChannel, int,
   * String, ScheduledExecutorService)} does.
   *
   * @param ch the connection; the caller closes it afterwards
   * @param answer the complete answer
   * @param timer closes the connection when the drain takes too long
   * @throws IOException if the peer went away before the answer was written
   */
  static void refuse(SocketChannel ch, byte[] answer, ScheduledExecutorService timer) throws IOException {
    send(ch, answer);
    ch.shutdownOutput();
    ScheduledFuture<?> cut = timer.schedule(() -> {
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing is best effort
      }
    }, 1, TimeUnit.SECONDS);
    try {
      ByteBuffer sink = ByteBuffer.allocate(4096); // error path only
      long drained = 0;
      while (drained < (1 << 20)) {
        sink.clear();
        int n = ch.read(sink);
        if (n < 0) {
          break;
        }
        drained += n;
      }
    } catch (IOException ignored) {
      // closed by the cut-off, or reset by the peer: either way we are done
    } finally {
      cut.cancel(false);
    }
  }
}
