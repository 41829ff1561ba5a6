package io.nocopy.relay;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What an Ogg stream's first pages say about it, as Icecast 2.4 shows it on its status page: the
 * {@code subtype} (the codecs of the logical streams that begin the stream, in page order, joined
 * by {@code /}: {@code Vorbis}, {@code Opus}, {@code Theora/Vorbis} ...) and, for Vorbis, the
 * fields Icecast reads from the identification header ({@code audio_bitrate}, {@code
 * audio_channels}, {@code audio_samplerate}, {@code ice-bitrate}). Immutable.
 *
 * <p>The bytes come from {@link CodecProbe}, a sink that reads the first pages of an Ogg mount
 * once and then leaves the fan-out.
 *
 * @param subtype the codecs, or null when unknown (not Ogg, or not seen yet)
 * @param fields further status fields by name, in the order Icecast's page lists them
 */
public record StreamCodecs(String subtype, Map<String, String> fields) {
  /** Nothing known. */
  public static final StreamCodecs NONE = new StreamCodecs(null, Map.of());

  private static final int PAGE_HEADER = 27;
  private static final int BOS = 0x02;

  /**
   * Whether a content type is one whose stream is Ogg (and so has codecs to read).
   *
   * @param contentType the source's content type, parameters allowed; may be null
   * @return true for {@code application/ogg}, {@code audio/ogg}, {@code video/ogg}
   */
  static boolean isOgg(String contentType) {
    if (contentType == null) {
      return false;
    }
    String t = contentType.toLowerCase(Locale.ROOT).split(";")[0].strip();
    return t.equals("application/ogg") || t.equals("audio/ogg") || t.equals("video/ogg");
  }

  /**
   * Reads the beginning-of-stream pages at the start of {@code b}.
   *
   * @param b the stream's first bytes
   * @param len how many of them there are
   * @return what they say, {@link #NONE} if they are not Ogg; null if more bytes are needed (the
   *     last beginning-of-stream page is not complete yet)
   */
  static StreamCodecs parse(byte[] b, int len) {
    StringBuilder subtype = new StringBuilder();
    Map<String, String> fields = new LinkedHashMap<>();
    int p = 0;
    while (true) {
      if (len - p < PAGE_HEADER) {
        return null;
      }
      if (b[p] != 'O' || b[p + 1] != 'g' || b[p + 2] != 'g' || b[p + 3] != 'S') {
        return NONE;
      }
      if ((b[p + 5] & BOS) == 0) {
        break; // the first page that is not a beginning of stream: every codec is known
      }
      int segments = b[p + 26] & 0xff;
      if (len - p < PAGE_HEADER + segments) {
        return null;
      }
      int body = 0;
      for (int i = 0; i < segments; i++) {
        body += b[p + PAGE_HEADER + i] & 0xff;
      }
      int start = p + PAGE_HEADER + segments;
      if (len - start < body) {
        return null;
      }
      String codec = codec(b, start, body, fields);
      if (codec != null) {
        subtype.append(subtype.isEmpty() ? "" : "/").append(codec);
      }
      p = start + body;
    }
    return subtype.isEmpty() ? NONE : new StreamCodecs(subtype.toString(), Map.copyOf(fields));
  }

  /** The codec whose first packet starts at {@code from}; Vorbis adds its fields. */
  private static String codec(byte[] b, int from, int len, Map<String, String> fields) {
    if (startsWith(b, from, len, "\u0001vorbis")) {
      if (len >= 28) {
        long channels = b[from + 11] & 0xff;
        long rate = le32(b, from + 12);
        long nominal = (int) le32(b, from + 20); // signed: -1 or 0 when unset
        fields.put("audio_bitrate", Long.toString(nominal));
        fields.put("audio_channels", Long.toString(channels));
        fields.put("audio_samplerate", Long.toString(rate));
        fields.put("ice-bitrate", Long.toString(nominal / 1000));
      }
      return "Vorbis";
    }
    if (startsWith(b, from, len, "OpusHead")) {
      return "Opus";
    }
    if (startsWith(b, from, len, "\u0080theora")) {
      return "Theora";
    }
    if (startsWith(b, from, len, "Speex   ")) {
      return "Speex";
    }
    if (startsWith(b, from, len, "\u007fFLAC")) {
      return "FLAC";
    }
    return null;
  }

  private static boolean startsWith(byte[] b, int from, int len, String magic) {
    if (len < magic.length()) {
      return false;
    }
    for (int i = 0; i < magic.length(); i++) {
      if ((b[from + i] & 0xff) != magic.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static long le32(byte[] b, int at) {
    return (b[at] & 0xffL) | (b[at + 1] & 0xffL) << 8 | (b[at + 2] & 0xffL) << 16 | (b[at + 3] & 0xffL) << 24;
  }
}
