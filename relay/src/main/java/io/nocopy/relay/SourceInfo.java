package io.nocopy.relay;

import io.nocopy.relay.http.HttpHead;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What a source says about its stream in its request head, kept as Icecast 2.4 keeps it: the
 * {@code ice-*} headers (Icecast's own), or the {@code icy-*} ones (SHOUTcast's) when the
 * {@code ice-*} one is missing. Listeners get them back as {@code icy-*} headers ({@link
 * Responses#listenerOk}) and the status page shows them ({@link StatusJson}). Immutable; values are
 * stripped and capped at {@value #MAX_VALUE} characters, control characters replaced.
 *
 * @param name {@code ice-name} / {@code icy-name}, or null
 * @param description {@code ice-description} / {@code icy-description}, or null
 * @param genre {@code ice-genre} / {@code icy-genre}, or null
 * @param url {@code ice-url} / {@code icy-url}, or null
 * @param bitrate {@code ice-bitrate} / {@code icy-br} as sent (kbit/s), or null
 * @param audioInfo {@code ice-audio-info} as sent (e.g. {@code ice-samplerate=44100;ice-bitrate=128}),
 *     or null
 * @param isPublic {@code ice-public} / {@code icy-pub} / {@code x-audiocast-public} as sent, or null
 * @param streamHeaders every {@code ice-*} and {@code icy-*} header of the source as Icecast keeps
 *     them for its listeners: names in lower case, ordered by name, the last of a repeated name,
 *     without {@code ice-password} and {@code icy-metaint}, values cleaned; at most {@value
 *     #MAX_STREAM_HEADERS}
 */
public record SourceInfo(String name, String description, String genre, String url, String bitrate,
    String audioInfo, String isPublic, List<HttpHead.Header> streamHeaders) {
  /** The longest value kept, in characters. */
  static final int MAX_VALUE = 512;
  /** The most {@code ice-audio-info} entries kept. */
  private static final int MAX_AUDIO_INFO = 16;
  /** The most {@code ice-*}/{@code icy-*} headers kept for listeners. */
  static final int MAX_STREAM_HEADERS = 32;
  /** A source that said nothing. */
  static final SourceInfo NONE = new SourceInfo(null, null, null, null, null, null, null, List.of());

  /** Copies the header list. */
  public SourceInfo {
    streamHeaders = List.copyOf(streamHeaders);
  }

  /**
   * Reads a source's request head, or an upstream server's listener response (a cascaded mount:
   * Icecast sends the values as {@code icy-*} headers and {@code ice-audio-info} as is).
   *
   * @param headers the head's header fields, in the order sent
   * @return what the source said
   */
  static SourceInfo fromSource(List<HttpHead.Header> headers) {
    TreeMap<String, String> byName = new TreeMap<>(); // as Icecast keeps a head: a repeated name's last value
    for (HttpHead.Header h : headers) {
      byName.put(h.name().toLowerCase(Locale.ROOT), h.value());
    }
    Function<String, String> header = byName::get;
    List<HttpHead.Header> kept = new ArrayList<>();
    byName.forEach((n, v) -> {
      if ((n.startsWith("ice-") || n.startsWith("icy-")) && !n.equals("ice-password")
          && !n.equals("icy-metaint") && kept.size() < MAX_STREAM_HEADERS) {
        kept.add(new HttpHead.Header(n, clean(v)));
      }
    });
    return new SourceInfo(
        first(header, "ice-name", "icy-name"),
        first(header, "ice-description", "icy-description"),
        first(header, "ice-genre", "icy-genre"),
        first(header, "ice-url", "icy-url"),
        first(header, "ice-bitrate", "icy-br"),
        first(header, "ice-audio-info", null),
        first(header, "ice-public", header.apply("icy-pub") != null ? "icy-pub" : "x-audiocast-public"),
        kept);
  }

  /**
   * This information as a mount's settings present it on the status pages: its {@code
   * stream-name}, {@code stream-description}, {@code stream-url}, {@code genre} and {@code bitrate}
   * where set, over what the source said.
   *
   * @param s the mount's settings
   * @return the information shown
   */
  SourceInfo over(io.nocopy.relay.config.MountSettings s) {
    return new SourceInfo(or(s.streamName(), name), or(s.streamDescription(), description),
        or(s.genre(), genre), or(s.streamUrl(), url),
        s.bitrate() != null ? s.bitrate().toString() : bitrate, audioInfo, isPublic, streamHeaders);
  }

  private static String or(String setting, String fromSource) {
    return setting != null ? clean(setting) : fromSource;
  }

  /**
   * The bitrate listeners are told ({@code icy-br}): the source's bitrate header, else the
   * {@code bitrate=} entry of its audio info (as Icecast reads it: the first {@code bitrate=}
   * anywhere in the text, so {@code ice-bitrate=128} counts).
   *
   * @return digits, or null when the source gave none
   */
  String listenerBitrate() {
    if (bitrate != null) {
      return bitrate;
    }
    if (audioInfo == null) {
      return null;
    }
    int at = audioInfo.indexOf("bitrate=");
    if (at < 0) {
      return null;
    }
    int from = at + "bitrate=".length();
    int to = from;
    while (to < audioInfo.length() && Character.isDigit(audioInfo.charAt(to)) && to - from < 9) {
      to++;
    }
    return to > from ? audioInfo.substring(from, to) : null;
  }

  /**
   * The entries of {@code ice-audio-info} that Icecast shows as fields of their own on its status
   * page: {@code key=value} pairs separated by {@code ;}, values percent-decoded. Only keys that
   * start with {@code ice-} and consist of {@code [a-z0-9_-]} are kept (libshout sends
   * {@code ice-samplerate}, {@code ice-bitrate}, {@code ice-channels}, {@code ice-quality}), so a
   * source cannot overwrite the server's own fields; at most {@value #MAX_AUDIO_INFO}.
   *
   * @return the entries in key order; empty when there is no audio info
   */
  Map<String, String> audioInfoEntries() {
    if (audioInfo == null) {
      return Map.of();
    }
    TreeMap<String, String> out = new TreeMap<>();
    for (String part : audioInfo.split(";")) {
      int eq = part.indexOf('=');
      if (eq <= 0 || out.size() >= MAX_AUDIO_INFO) {
        continue;
      }
      String key = part.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      if (key.startsWith("ice-") && key.length() > 4 && key.chars().allMatch(
          c -> (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
        out.put(key, percentDecode(part.substring(eq + 1).strip()));
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /** The first present header of {@code a} and {@code b} (b may be null), cleaned. */
  private static String first(Function<String, String> header, String a, String b) {
    String v = header.apply(a);
    if (v == null && b != null) {
      v = header.apply(b);
    }
    return v == null ? null : clean(v);
  }

  /** Stripped, capped at {@value #MAX_VALUE}, control characters replaced (values go out in headers). */
  static String clean(String v) {
    return Responses.clean(v.strip());
  }

  /** {@code %XX} escapes decoded as UTF-8 bytes; a malformed escape is kept as it is. */
  static String percentDecode(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); ) {
      int hi = s.charAt(i) == '%' && i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
      int lo = hi >= 0 ? Character.digit(s.charAt(i + 2), 16) : -1;
      if (lo >= 0) {
        out.write(hi << 4 | lo);
        i += 3;
      } else {
        int cp = s.codePointAt(i);
        byte[] enc = new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.write(enc, 0, enc.length);
        i += Character.charCount(cp);
      }
    }
    return clean(out.toString(java.nio.charset.StandardCharsets.UTF_8));
  }
}
