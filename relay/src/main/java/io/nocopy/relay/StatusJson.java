package io.nocopy.relay;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Icecast 2.4's {@code /status-json.xsl} document, so that dashboards written for Icecast read
 * ours: {@code icestats} with the server fields and {@code source} as an object for one mount, a
 * list for several, and absent for none (Icecast's own quirk, kept on purpose).
 */
final class StatusJson {
  static final String SERVER_ID = "nocopy-relay 0.1 (Icecast 2.4.4 compatible)";
  private static final DateTimeFormatter ISO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssZ").withZone(ZoneOffset.UTC);

  private StatusJson() {}

  /**
   * @param host the host name, as Icecast's {@code host} field shows it
   * @param hostPort host and port, for the listen URLs
   */
  static String render(String host, String hostPort, Instant serverStart, List<MountSnapshot> mounts) {
    StringBuilder b = new StringBuilder(256 + 384 * mounts.size());
    b.append("{\"icestats\":{\"admin\":\"root@localhost\",\"host\":");
    str(b, host);
    b.append(",\"location\":\"nocopy\",\"server_id\":");
    str(b, SERVER_ID);
    b.append(",\"server_start_iso8601\":");
    str(b, ISO.format(serverStart));
    if (mounts.size() == 1) {
      b.append(",\"source\":");
      source(b, hostPort, mounts.get(0));
    } else if (mounts.size() > 1) {
      b.append(",\"source\":[");
      for (int i = 0; i < mounts.size(); i++) {
        if (i > 0) {
          b.append(',');
        }
        source(b, hostPort, mounts.get(i));
      }
      b.append(']');
    }
    b.append("}}");
    return b.toString();
  }

  private static void source(StringBuilder b, String host, MountSnapshot m) {
    b.append("{\"genre\":");
    str(b, m.genre() == null ? "various" : m.genre());
    b.append(",\"listener_peak\":").append(m.listenerPeak());
    b.append(",\"listeners\":").append(m.listeners());
    b.append(",\"listenurl\":");
    str(b, "http://" + host + m.mount());
    b.append(",\"server_description\":");
    str(b, m.description() == null ? "Unspecified description" : m.description());
    b.append(",\"server_name\":");
    str(b, m.name() == null ? "Unspecified name" : m.name());
    b.append(",\"server_type\":");
    str(b, m.contentType());
    b.append(",\"stream_start_iso8601\":");
    str(b, ISO.format(m.streamStart()));
    if (m.title() != null) {
      b.append(",\"title\":");
      str(b, m.title());
    }
    b.append(",\"total_bytes_read\":").append(m.bytesIn());
    b.append(",\"total_bytes_sent\":").append(m.bytesOut());
    b.append(",\"nocopy_engine\":");
    str(b, m.engine());
    b.append(",\"dummy\":null}");
  }

  /** Appends a JSON string literal with every control character, quote and backslash escaped. */
  static void str(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
