package io.nocopy.relay;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON reader for the status tests (RFC 8259): objects keep their key order
 * ({@link LinkedHashMap}), numbers are {@link BigDecimal}, {@code null} is a {@link #NULL} marker
 * so that a present null and an absent key differ. Anything malformed throws.
 */
final class Json {
  /** A JSON {@code null} (a map cannot tell a null value from a missing key otherwise). */
  static final Object NULL = new Object() {
    @Override
    public String toString() {
      return "null";
    }
  };

  private final String s;
  private int p;

  private Json(String s) {
    this.s = s;
  }

  /** Parses one JSON document; trailing bytes other than white space are an error. */
  static Object parse(String text) {
    Json j = new Json(text);
    Object v = j.value();
    j.ws();
    if (j.p != text.length()) {
      throw j.error("trailing characters");
    }
    return v;
  }

  /** The JSON type of a parsed value: object, array, string, number, boolean or null. */
  static String type(Object v) {
    return v instanceof Map ? "object" : v instanceof List ? "array" : v instanceof String ? "string"
        : v instanceof BigDecimal ? "number" : v instanceof Boolean ? "boolean" : "null";
  }

  private Object value() {
    ws();
    if (p >= s.length()) {
      throw error("unexpected end");
    }
    char c = s.charAt(p);
    switch (c) {
      case '{' -> {
        p++;
        Map<String, Object> m = new LinkedHashMap<>();
        ws();
        if (peek('}')) {
          return m;
        }
        do {
          ws();
          String k = string();
          ws();
          expect(':');
          if (m.put(k, value()) != null) {
            throw error("duplicate key " + k);
          }
          ws();
        } while (peek(','));
        expect('}');
        return m;
      }
      case '[' -> {
        p++;
        List<Object> l = new ArrayList<>();
        ws();
        if (peek(']')) {
          return l;
        }
        do {
          l.add(value());
          ws();
        } while (peek(','));
        expect(']');
        return l;
      }
      case '"' -> {
        return string();
      }
      default -> {
        if (s.startsWith("true", p)) {
          p += 4;
          return Boolean.TRUE;
        }
        if (s.startsWith("false", p)) {
          p += 5;
          return Boolean.FALSE;
        }
        if (s.startsWith("null", p)) {
          p += 4;
          return NULL;
        }
        var m = java.util.regex.Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")
            .matcher(s).region(p, s.length());
        if (!m.lookingAt()) {
          throw error("unexpected '" + c + "'");
        }
        p = m.end();
        return new BigDecimal(m.group());
      }
    }
  }

  private String string() {
    expect('"');
    StringBuilder b = new StringBuilder();
    while (true) {
      if (p >= s.length()) {
        throw error("unterminated string");
      }
      char c = s.charAt(p++);
      if (c == '"') {
        return b.toString();
      }
      if (c < 0x20) {
        throw error("raw control character in a string");
      }
      if (c != '\\') {
        b.append(c);
        continue;
      }
      char e = s.charAt(p++);
      switch (e) {
        case '"', '\\', '/' -> b.append(e);
        case 'b' -> b.append('\b');
        case 'f' -> b.append('\f');
        case 'n' -> b.append('\n');
        case 'r' -> b.append('\r');
        case 't' -> b.append('\t');
        case 'u' -> {
          b.append((char) Integer.parseInt(s.substring(p, p + 4), 16));
          p += 4;
        }
        default -> throw error("bad escape \\" + e);
      }
    }
  }

  private void ws() {
    while (p < s.length() && " \t\r\n".indexOf(s.charAt(p)) >= 0) {
      p++;
    }
  }

  private boolean peek(char c) {
    if (p < s.length() && s.charAt(p) == c) {
      p++;
      return true;
    }
    return false;
  }

  private void expect(char c) {
    if (!peek(c)) {
      throw error("expected '" + c + "'");
    }
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException(what + " at " + p + " in: " + s);
  }
}
