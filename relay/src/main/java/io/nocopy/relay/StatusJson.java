package io.nocopy.relay;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Icecast 2.4's {@code /status-json.xsl} document, so that dashboards written for Icecast read
 * ours: the same keys, in the same order, with the same JSON types.
 *
 * <p>Icecast makes the document from its XML statistics with an XSLT that decides each value's
 * type by its text: empty is {@code null}, {@code true}/{@code false} (any case) are booleans, a
 * decimal number without a leading zero is a number, anything else a string. So a stream named
 * {@code 1234} has {@code "server_name":1234}; {@link #value} applies the same rule. The keys of an
 * object come in name order, as Icecast keeps its statistics; the XSLT's {@code "dummy":null} ends
 * every source object, and {@code icestats} when there is no source (the last element it hid).
 *
 * <p>{@code icestats}: {@code admin}, {@code host}, {@code location}, {@code server_id}, {@code
 * server_start} (RFC 1123), {@code server_start_iso8601}, and {@code source}: an object for one
 * mount, a list for several, absent for none. Each source: {@code audio_info} and its {@code ice-*}
 * entries, {@code bitrate}, {@code genre}, {@code listener_peak}, {@code listeners}, {@code
 * listenurl}, {@code server_description}, {@code server_name}, {@code server_type}, {@code
 * server_url}, {@code stream_start} (RFC 1123), {@code stream_start_iso8601}, {@code subtype} and
 * the Vorbis fields for Ogg, {@code title} when there is one; and ours, which Icecast's page hides:
 * {@code total_bytes_read}, {@code total_bytes_sent}, {@code nocopy_engine} ({@code splice} or
 * {@code userspace}), {@code nocopy_io_uring} (whether the userspace engine's sends go through
 * io_uring), {@code nocopy_listeners_by_transport} ({@code splice} and {@code userspace} counts).
 */
final class StatusJson {
  static final String SERVER_ID = "nocopy-relay 0.1 (Icecast 2.4.4 compatible)";
  private static final DateTimeFormatter ISO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssZ").withZone(ZoneOffset.UTC);
  /** Icecast's own RFC 1123 form: a numeric zone ({@code +0000}), not {@code GMT}. */
  private static final DateTimeFormatter RFC_1123 =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ENGLISH).withZone(ZoneOffset.UTC);
  /** Texts Icecast's XSLT writes as JSON numbers (the valid-JSON part of what it accepts). */
  private static final Pattern NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?");
  /** Marks a value already written as JSON (a counter), not text to type. */
  record Raw(String json) {}

  private StatusJson() {}

  /**
   * @param station the server's {@code admin} and {@code location}
   * @param host the host name, as Icecast's {@code host} field shows it
   * @param hostPort host and port, for the listen URLs
   * @param serverStart when the server started
   * @param mounts the mounts to show (live, not hidden), in name order
   * @return the document
   */
  static String render(io.nocopy.relay.config.Station station, String host, String hostPort,
      Instant serverStart, List<MountSnapshot> mounts) {
    StringBuilder b = new StringBuilder(256 + 640 * mounts.size());
    b.append("{\"icestats\":{\"admin\":");
    value(b, station.admin());
    b.append(",\"host\":");
    value(b, host);
    b.append(",\"location\":");
    value(b, station.location());
    b.append(",\"server_id\":");
    value(b, SERVER_ID);
    b.append(",\"server_start\":");
    value(b, RFC_1123.format(serverStart));
    b.append(",\"server_start_iso8601\":");
    value(b, ISO.format(serverStart));
    if (mounts.isEmpty()) {
      b.append(",\"dummy\":null");
    } else if (mounts.size() == 1) {
      b.append(",\"source\":");
      source(b, hostPort, mounts.get(0));
    } else {
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

  private static void source(StringBuilder b, String hostPort, MountSnapshot m) {
    Map<String, Object> f = fields(hostPort, m);
    f.put("nocopy_engine", m.engine());
    f.put("nocopy_io_uring", new Raw(Boolean.toString(m.ioUring())));
    f.put("nocopy_listeners_by_transport", new Raw("{\"splice\":" + m.splicedListeners()
        + ",\"userspace\":" + (m.listeners() - m.splicedListeners()) + "}"));
    b.append('{');
    for (Map.Entry<String, Object> e : f.entrySet()) {
      str(b, e.getKey());
      b.append(':');
      if (e.getValue() instanceof Raw(String json)) {
        b.append(json);
      } else {
        value(b, (String) e.getValue());
      }
      b.append(',');
    }
    b.append("\"dummy\":null}");
  }

  /**
   * The fields Icecast keeps for a source that both its status page and its admin statistics show,
   * by name: texts as {@code String}, counters as {@link Raw}.
   *
   * @param hostPort host and port, for the listen URL
   * @param m the mount
   * @return a sorted, modifiable map
   */
  static TreeMap<String, Object> fields(String hostPort, MountSnapshot m) {
    SourceInfo info = m.info();
    TreeMap<String, Object> f = new TreeMap<>();
    if (info.audioInfo() != null) {
      f.put("audio_info", info.audioInfo());
      f.putAll(info.audioInfoEntries());
    }
    f.putAll(m.codecs().fields());
    put(f, "bitrate", info.bitrate());
    f.put("genre", info.genre() == null ? "various" : info.genre());
    f.put("listener_peak", new Raw(Integer.toString(m.listenerPeak())));
    f.put("listeners", new Raw(Integer.toString(m.listeners())));
    f.put("listenurl", "http://" + hostPort + m.mount());
    f.put("server_description", info.description() == null ? "Unspecified description" : info.description());
    f.put("server_name", info.name() == null ? "Unspecified name" : info.name());
    f.put("server_type", m.contentType());
    put(f, "server_url", info.url());
    f.put("stream_start", RFC_1123.format(m.streamStart()));
    f.put("stream_start_iso8601", ISO.format(m.streamStart()));
    put(f, "subtype", m.codecs().subtype());
    put(f, "title", m.title() == null || m.title().isEmpty() ? null : m.title());
    f.put("total_bytes_read", new Raw(Long.toString(m.bytesIn())));
    f.put("total_bytes_sent", new Raw(Long.toString(m.bytesOut())));
    return f;
  }

  /** Icecast's RFC 1123 form of a time, with a numeric zone. */
  static String rfc1123(Instant t) {
    return RFC_1123.format(t);
  }

  /** Icecast's ISO 8601 form of a time ({@code 2026-12-03T05:41:51+0000}). */
  static String iso8601(Instant t) {
    return ISO.format(t);
  }

  private static void put(Map<String, Object> fields, String key, String value) {
    if (value != null) {
      fields.put(key, value);
    }
  }

  /**
   * Appends a text value typed as Icecast's XSLT types it: empty is {@code null}, {@code true} or
   * {@code false} in any case a boolean, a decimal number without a leading zero ({@code 0} itself
   * is one) a number, anything else a string.
   */
  static void value(StringBuilder b, String text) {
    if (text.isEmpty()) {
      b.append("null");
    } else if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
      b.append(text.toLowerCase(Locale.ROOT));
    } else if (NUMBER.matcher(text).matches() && (text.equals("0") || !text.startsWith("0"))) {
      b.append(text);
    } else {
      str(b, text);
    }
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
