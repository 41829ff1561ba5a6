package io.nocopy.loadgen;

import java.util.ArrayList;
import java.util.List;

/** Reads named number and string fields out of the relay's flat JSON documents. Stateless. */
final class Json {
  private Json() {}

  /** The first whole-number field called {@code name}; IOException if it is absent or not a number. */
  static long number(String json, String name) throws java.io.IOException {
    int at = valueAt(json, name, 0);
    if (at < 0) {
      throw new java.io.IOException("no field '" + name + "' in " + json);
    }
    int end = at;
    while (end < json.length() && (json.charAt(end) == '-' || Character.isDigit(json.charAt(end)))) {
      end++;
    }
    try {
      return Long.parseLong(json.substring(at, end));
    } catch (NumberFormatException e) {
      throw new java.io.IOException("field '" + name + "' is not a whole number in " + json);
    }
  }

  /** The first string field called {@code name}; IOException if there is none. */
  static String string(String json, String name) throws java.io.IOException {
    List<String> all = strings(json, name);
    if (all.isEmpty()) {
      throw new java.io.IOException("no string field '" + name + "' in " + json);
    }
    return all.get(0);
  }

  /** Every string field called {@code name}, in order (escapes other than \" and \\ kept as is). */
  static List<String> strings(String json, String name) {
    List<String> out = new ArrayList<>();
    for (int at = valueAt(json, name, 0); at >= 0; at = valueAt(json, name, at)) {
      if (json.charAt(at) != '"') {
        continue;
      }
      StringBuilder b = new StringBuilder();
      int i = at + 1;
      for (; i < json.length() && json.charAt(i) != '"'; i++) {
        char c = json.charAt(i);
        if (c == '\\' && i + 1 < json.length()) {
          c = json.charAt(++i);
        }
        b.append(c);
      }
      out.add(b.toString());
    }
    return out;
  }

  /** Index of the value of the next field {@code name} at or after {@code from}, or -1. */
  private static int valueAt(String json, String name, int from) {
    String key = "\"" + name + "\":";
    int k = json.indexOf(key, from);
    if (k < 0) {
      return -1;
    }
    int v = k + key.length();
    while (v < json.length() && json.charAt(v) == ' ') {
      v++;
    }
    return v < json.length() ? v : -1;
  }
}
