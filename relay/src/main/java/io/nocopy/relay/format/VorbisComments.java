package io.nocopy.relay.format;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The comments of a Vorbis or Opus stream (the "Vorbis comment" structure both use): a vendor
 * string and {@code KEY=value} pairs, keys compared without case.
 *
 * @param vendor the encoder's vendor string
 * @param values the first value of each key, keys in upper case, in stream order
 */
record VorbisComments(String vendor, Map<String, String> values) {
  private static final int MAX_COMMENTS = 1024;

  /** The value of {@code key} (any case), or null. */
  String get(String key) {
    return values.get(key.toUpperCase(Locale.ROOT));
  }

  /**
   * The title as Icecast 2.4.4 shows it for an Ogg stream: the {@code TITLE} comment alone (the
   * artist is a separate field there), or null without one.
   */
  String displayTitle() {
    return get("TITLE");
  }

  /**
   * The comments of the first Vorbis or Opus logical stream in {@code pages}, a run of complete
   * Ogg pages (a chain's header pages); null if there is none or it is malformed.
   */
  static VorbisComments fromHeaderPages(byte[] pages) {
    int serial = 0;
    int skip = 0; // magic bytes before the comment structure: 7 for Vorbis, 8 for Opus
    int packet = 0; // index of the current packet of the chosen stream
    ByteArrayOutputStream comment = new ByteArrayOutputStream();
    for (int p = 0; p + 27 <= pages.length; ) {
      int segments = pages[p + 26] & 0xFF;
      int bodyAt = p + 27 + segments;
      int pageSerial = OggScanner.le32(pages, p + 14);
      if (skip == 0 && (pages[p + 5] & 0x02) != 0) {
        if (OggScanner.startsWith(pages, bodyAt, pages.length, "\u0001vorbis")) {
          skip = 7;
          serial = pageSerial;
        } else if (OggScanner.startsWith(pages, bodyAt, pages.length, "OpusHead")) {
          skip = 8;
          serial = pageSerial;
        }
      }
      int at = bodyAt;
      for (int s = 0; s < segments; s++) {
        int lace = pages[p + 27 + s] & 0xFF;
        if (skip != 0 && pageSerial == serial) {
          if (packet == 1 && at + lace <= pages.length) {
            comment.write(pages, at, lace);
          }
          if (lace < 255) {
            packet++;
            if (packet == 2) {
              return parse(comment.toByteArray(), skip);
            }
          }
        }
        at += lace;
      }
      p = at;
    }
    return null;
  }

  /** Parses a comment packet whose structure begins {@code skip} bytes in; null if malformed. */
  static VorbisComments parse(byte[] packet, int skip) {
    int p = skip;
    if (p + 4 > packet.length) {
      return null;
    }
    long vendorLength = OggScanner.le32(packet, p) & 0xFFFFFFFFL;
    p += 4;
    if (p + vendorLength + 4 > packet.length) {
      return null;
    }
    String vendor = new String(packet, p, (int) vendorLength, StandardCharsets.UTF_8);
    p += (int) vendorLength;
    long count = OggScanner.le32(packet, p) & 0xFFFFFFFFL;
    p += 4;
    Map<String, String> values = new LinkedHashMap<>();
    for (long i = 0; i < Math.min(count, MAX_COMMENTS); i++) {
      if (p + 4 > packet.length) {
        return null;
      }
      long n = OggScanner.le32(packet, p) & 0xFFFFFFFFL;
      p += 4;
      if (p + n > packet.length) {
        return null;
      }
      String entry = new String(packet, p, (int) n, StandardCharsets.UTF_8);
      p += (int) n;
      int eq = entry.indexOf('=');
      if (eq > 0) {
        values.putIfAbsent(entry.substring(0, eq).toUpperCase(Locale.ROOT), entry.substring(eq + 1));
      }
    }
    return new VorbisComments(vendor, values);
  }
}
