package io.nocopy.relay;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
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
    return listenerOk(m, false, 0);
  }

  /**
   * The head of a listener's stream response.
   *
   * @param m the mount
   * @param icyAsked whether the listener asked for ICY metadata ({@code icy-metadata:1} then, as
   *     Icecast answers, also for an Ogg stream that gets no blocks)
   * @param metaint the ICY metadata interval the listener gets, or 0 for none
   */
  static byte[] listenerOk(MountSnapshot m, boolean icyAsked, int metaint) {
    StringBuilder b = new StringBuilder(384);
    b.append("HTTP/1.0 200 OK\r\n")
        .append("Server: ").append(SERVER).append("\r\n")
        .append("Connection: Close\r\n")
        .append("Date: ").append(httpDate()).append("\r\n")
        .append("Content-Type: ").append(clean(m.contentType())).append("\r\n")
        .append("Cache-Control: no-cache, no-store\r\n")
        .append("Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\n")
        .append("Pragma: no-cache\r\n");
    sourceHeaders(b, m.info());
    if (icyAsked) {
      b.append("icy-metadata:1\r\n");
    }
    if (metaint > 0) {
      b.append("icy-metaint:").append(metaint).append("\r\n");
    }
    b.append("\r\n");
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The source's stream headers as Icecast gives them to listeners, in its order: {@code icy-br}
   * (the source's bitrate, or the {@code bitrate=} of its audio info), {@code ice-audio-info} as
   * sent, then {@code icy-description}, {@code icy-genre}, {@code icy-name}, {@code icy-pub}
   * ({@code 0} when the source did not say) and {@code icy-url}.
   */
  private static void sourceHeaders(StringBuilder b, SourceInfo info) {
    header(b, "icy-br:", info.listenerBitrate());
    header(b, "ice-audio-info: ", info.audioInfo());
    header(b, "icy-description:", info.description());
    header(b, "icy-genre:", info.genre());
    header(b, "icy-name:", info.name());
    header(b, "icy-pub:", info.isPublic() == null ? "0" : info.isPublic());
    header(b, "icy-url:", info.url());
  }

  private static void header(StringBuilder b, String nameAndColon, String value) {
    if (value != null) {
      b.append(nameAndColon).append(clean(value)).append("\r\n");
    }
  }

  /** A complete response with a small body and {@code Connection: close}. */
  static byte[] simple(int status, String contentType, String body, String... extraHeaders) {
    byte[] content = body.getBytes(StandardCharsets.UTF_8);
    StringBuilder b = new StringBuilder(256);
    b.append("HTTP/1.0 ").append(status).append(' ').append(reason(status)).append("\r\n")
        .append("Server: ").append(SERVER).append("\r\n")
        .append("Connection: Close\r\n")
        .append("Date: ").append(httpDate()).append("\r\n");
    for (String h : extraHeaders) {
      b.append(h).append("\r\n");
    }
    b.append("Content-Type: ").append(contentType).append("\r\n")
        .append("Content-Length: ").append(content.length).append("\r\n")
        .append("Cache-Control: no-cache\r\n\r\n");
    byte[] head = b.toString().getBytes(StandardCharsets.US_ASCII);
    byte[] all = new byte[head.length + content.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(content, 0, all, head.length, content.length);
    return all;
  }

  /** An error page. */
  static byte[] error(int status, String message) {
    String[] extra =
        status == 401
            ? new String[] {"WWW-Authenticate: Basic realm=\"Icecast2 Server\""}
            : status == 405 ? new String[] {"Allow: GET, PUT, SOURCE"} : new String[0];
    return simple(status, "text/plain; charset=utf-8", message + "\n", extra);
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

  /**
   * Icecast's {@code Date} form ({@code strftime "%a, %d %b %Y %H:%M:%S GMT"}): a two-digit day,
   * unlike the JDK's RFC 1123 formatter ({@code Wed, 2 Dec}).
   */
  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ENGLISH);

  /** Now, in Icecast's {@code Date} form. */
  static String httpDate() {
    return httpDate(ZonedDateTime.now(ZoneOffset.UTC));
  }

  /** {@code t} (in UTC) in Icecast's {@code Date} form. */
  static String httpDate(ZonedDateTime t) {
    return HTTP_DATE.format(t.withZoneSameInstant(ZoneOffset.UTC));
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
    send(ch, error(status, message));
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
