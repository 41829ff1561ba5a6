package io.nocopy.relay.format;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ICY (SHOUTcast/Icecast) in-stream metadata. A listener that asks with {@code Icy-MetaData: 1}
 * is told {@code icy-metaint: N} and gets, after every N bytes of audio, one metadata block: a
 * length byte L, then L x 16 bytes of text {@code StreamTitle='...';StreamUrl='...';} padded with
 * NULs. A block of just the byte 0 means "unchanged since the last block".
 */
public final class IcyMetadata {
  /** Icecast's default audio bytes between two blocks. */
  public static final int DEFAULT_INTERVAL = 16000;
  /** The longest text a block can carry: 255 x 16 bytes. */
  public static final int MAX_TEXT = 255 * 16;
  /** The block that says "unchanged": a single zero byte. Never modify it. */
  public static final byte[] UNCHANGED = {0};

  private IcyMetadata() {}

  /**
   * One whole metadata block (length byte, text, NUL padding) for a title and an optional URL, the
   * text encoded as {@code charset}, cut at {@link #MAX_TEXT} bytes. A title of {@code ""} gives
   * {@code StreamTitle='';}, what Icecast sends before any title is known.
   *
   * @param title the title (not null)
   * @param url the stream URL, or null for none
   * @param charset how the text is encoded (Icecast: UTF-8 unless the mount says otherwise)
   */
  public static byte[] block(String title, String url, Charset charset) {
    StringBuilder text = new StringBuilder(title.length() + 32);
    text.append("StreamTitle='").append(title).append("';");
    if (url != null) {
      text.append("StreamUrl='").append(url).append("';");
    }
    byte[] bytes = text.toString().getBytes(charset);
    int length = Math.min(bytes.length, MAX_TEXT);
    int units = (length + 15) / 16;
    byte[] block = new byte[1 + units * 16];
    block[0] = (byte) units;
    System.arraycopy(bytes, 0, block, 1, length);
    return block;
  }

  /**
   * The fields of a block's text ({@code StreamTitle}, {@code StreamUrl}, ...), in order; the text
   * may be NUL-padded. A value runs from {@code ='} to the next {@code ';}; malformed tails are
   * ignored.
   *
   * @param text the block without its length byte
   * @param charset how the text is encoded
   */
  public static Map<String, String> parse(byte[] text, Charset charset) {
    int end = text.length;
    while (end > 0 && text[end - 1] == 0) {
      end--;
    }
    String s = new String(text, 0, end, charset);
    Map<String, String> fields = new LinkedHashMap<>();
    int p = 0;
    while (p < s.length()) {
      int eq = s.indexOf("='", p);
      if (eq < 0) {
        break;
      }
      int close = s.indexOf("';", eq + 2);
      if (close < 0) {
        break;
      }
      fields.put(s.substring(p, eq).strip(), s.substring(eq + 2, close));
      p = close + 2;
    }
    return fields;
  }

  /** {@link #parse(byte[], Charset)} in UTF-8, falling back to ISO-8859-1 for invalid UTF-8. */
  public static Map<String, String> parse(byte[] text) {
    Charset cs = validUtf8(text) ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1;
    return parse(text, cs);
  }

  private static boolean validUtf8(byte[] b) {
    try {
      StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b));
      return true;
    } catch (java.nio.charset.CharacterCodingException e) {
      return false;
    }
  }
}
