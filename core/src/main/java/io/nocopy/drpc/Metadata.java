package io.nocopy.drpc;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The body of an InvokeMetadata packet, as drpcmetadata encodes it: the protobuf message {@code
 * Metadata { map<string, string> data = 1; }}, i.e. a repeated field 1 whose entries carry the key
 * as field 1 and the value as field 2, all length-delimited. Unknown fields are skipped, as
 * protobuf requires.
 */
public final class Metadata {
  private Metadata() {}

  /**
   * Encodes a map.
   *
   * @param data keys and values (UTF-8 on the wire)
   * @return the packet body, a new array owned by the caller
   */
  public static byte[] encode(Map<String, String> data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Map.Entry<String, String> e : data.entrySet()) {
      byte[] k = e.getKey().getBytes(StandardCharsets.UTF_8);
      byte[] v = e.getValue().getBytes(StandardCharsets.UTF_8);
      int entryLen = 1 + Varint.size(k.length) + k.length + 1 + Varint.size(v.length) + v.length;
      out.write(0x0A); // field 1, length-delimited
      writeVarint(out, entryLen);
      out.write(0x0A); // key: field 1
      writeVarint(out, k.length);
      out.write(k, 0, k.length);
      out.write(0x12); // value: field 2
      writeVarint(out, v.length);
      out.write(v, 0, v.length);
    }
    return out.toByteArray();
  }

  private static void writeVarint(ByteArrayOutputStream out, long v) {
    byte[] b = new byte[Varint.MAX_BYTES];
    out.write(b, 0, Varint.write(b, 0, v));
  }

  /**
   * Decodes a packet body.
   *
   * @param body the body
   * @return an unmodifiable map (a later duplicate key wins, as in protobuf maps)
   * @throws DrpcProtocolException if the body is not a valid encoding
   */
  public static Map<String, String> decode(byte[] body) throws DrpcProtocolException {
    Map<String, String> out = new LinkedHashMap<>();
    ByteBuffer b = ByteBuffer.wrap(body);
    try {
      while (b.hasRemaining()) {
        long tag = Varint.read(b);
        if (tag == 0x0A) {
          ByteBuffer entry = field(b);
          String key = "";
          String value = "";
          while (entry.hasRemaining()) {
            long t = Varint.read(entry);
            if (t == 0x0A) {
              key = utf8(field(entry));
            } else if (t == 0x12) {
              value = utf8(field(entry));
            } else {
              skip(entry, t);
            }
          }
          out.put(key, value);
        } else {
          skip(b, tag);
        }
      }
    } catch (java.io.EOFException | IllegalArgumentException | CharacterCodingException e) {
      throw new DrpcProtocolException("malformed invoke metadata: " + e.getMessage());
    }
    return Collections.unmodifiableMap(out);
  }

  private static ByteBuffer field(ByteBuffer b) throws java.io.EOFException, DrpcProtocolException {
    long len = Varint.read(b);
    if (len < 0 || len > b.remaining()) {
      throw new java.io.EOFException("field of " + Long.toUnsignedString(len) + " bytes, "
          + b.remaining() + " left");
    }
    ByteBuffer f = b.slice(b.position(), (int) len);
    b.position(b.position() + (int) len);
    return f;
  }

  private static void skip(ByteBuffer b, long tag) throws java.io.EOFException, DrpcProtocolException {
    switch ((int) (tag & 7)) {
      case 0 -> Varint.read(b);
      case 1 -> advance(b, 8);
      case 2 -> field(b);
      case 5 -> advance(b, 4);
      default -> throw new IllegalArgumentException("unsupported wire type in tag " + tag);
    }
  }

  private static void advance(ByteBuffer b, int n) throws java.io.EOFException {
    if (b.remaining() < n) {
      throw new java.io.EOFException("truncated fixed-width field");
    }
    b.position(b.position() + n);
  }

  private static String utf8(ByteBuffer b) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(b)
        .toString();
  }
}
