package io.nocopy.relay;

import io.nocopy.relay.http.HttpHead;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The access log in Icecast's form (Apache's combined format and the connection's duration in
 * seconds), one line per request when its connection ends:
 *
 * <pre>
 * 127.0.0.1 - - [03/Dec/2026:05:41:57 +0000] "GET /live.mp3 HTTP/1.1" 200 85683 "http://example.org/player" "second-listener/2.0" 3
 * </pre>
 *
 * The time is when the line is written (the end, as Icecast has it), in the machine's time zone;
 * the request shows the path without its query (no credentials from a metadata update leak into the
 * log); the bytes are all the server sent, response head included; a missing referer or user agent
 * is {@code -}. Quotes, backslashes and control characters in the quoted fields are escaped ({@code
 * \"}, {@code \\}, {@code \xNN}), so a client cannot forge a line.
 *
 * <p>Each line is one write to a {@link LogFile}; {@link #reopen} (SIGHUP, after logrotate moved
 * the file) opens the path anew. Thread-safe.
 */
final class AccessLog implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AccessLog.class.getName());
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH);

  /**
   * What the server answered on one connection: the status (the last final one: a {@code 100
   * Continue} before it is not it) and the bytes sent. Written by the connection's thread only.
   */
  static final class Exchange {
    private final long startNanos = System.nanoTime();
    private int status;
    private long bytes;

    /**
     * Counts an answer written to the client; its status line, if it has one, sets the status.
     *
     * @param answer the bytes sent
     */
    void sent(byte[] answer) {
      bytes += answer.length;
      if (answer.length >= 12 && answer[0] == 'H' && answer[1] == 'T' && answer[2] == 'T' && answer[3] == 'P') {
        int s = (answer[9] - '0') * 100 + (answer[10] - '0') * 10 + (answer[11] - '0');
        if (s >= 200 && s <= 999) {
          status = s;
        }
      }
    }

    /**
     * Counts an answer that has no HTTP status line (SHOUTcast's {@code OK2}) as {@code status}.
     *
     * @param status the status the log gives it
     * @param answer the bytes sent
     */
    void sent(int status, byte[] answer) {
      this.status = status;
      bytes += answer.length;
    }

    /**
     * Counts bytes the fan-out sent as the stream, after an answer with {@code status} (a
     * listener's head is in {@code bytes}).
     */
    void streamed(int status, long bytes) {
      this.status = status;
      this.bytes += bytes;
    }

    int status() {
      return status;
    }

    long bytes() {
      return bytes;
    }

    long seconds() {
      return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos);
    }
  }

  private final LogFile file;

  private AccessLog(Path path) throws IOException {
    this.file = new LogFile("access log", path);
  }

  /**
   * Opens (creates, appends to) the access log.
   *
   * @param path the file
   * @return the log; the caller closes it
   * @throws IOException naming the file, if it cannot be opened for appending
   */
  static AccessLog open(Path path) throws IOException {
    return new AccessLog(path);
  }

  /**
   * Writes the line of one request.
   *
   * @param ip the client's address
   * @param head the request
   * @param ex what was answered
   */
  void log(String ip, HttpHead.Request head, Exchange ex) {
    try {
      file.write(line(ip, ZonedDateTime.now(), head, ex.status(), ex.bytes(), ex.seconds())
          .getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, e.getMessage());
    }
  }

  /**
   * One line, with its line feed.
   *
   * @param ip the client's address
   * @param when when the line is written
   * @param head the request
   * @param status the answer's status
   * @param bytes the bytes sent
   * @param seconds how long the connection lasted
   * @return the line
   */
  static String line(String ip, ZonedDateTime when, HttpHead.Request head, int status, long bytes, long seconds) {
    StringBuilder b = new StringBuilder(160).append(ip).append(" - - [").append(TIME.format(when)).append("] \"");
    quoted(b, head.method() + " " + head.path() + " " + head.version());
    b.append("\" ").append(status).append(' ').append(bytes).append(" \"");
    quoted(b, orDash(head.header("Referer")));
    b.append("\" \"");
    quoted(b, orDash(head.header("User-Agent")));
    return b.append("\" ").append(seconds).append('\n').toString();
  }

  private static String orDash(String v) {
    return v == null || v.isEmpty() ? "-" : v;
  }

  private static void quoted(StringBuilder b, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20 || c == 0x7f) {
        b.append(String.format("\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
  }

  /** Opens the path anew (logrotate moved the file away); on failure the old file stays in use. */
  void reopen() {
    try {
      file.reopen();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, e.getMessage() + " (still writing to the old file)");
    }
  }

  /** Closes the file; later lines are dropped. Idempotent. */
  @Override
  public void close() {
    file.close();
  }
}
