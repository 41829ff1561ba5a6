package io.nocopy.drpc;

import java.util.ArrayList;
import java.util.List;

/**
 * A small open-addressing map from non-zero {@code long} keys to values, guarded by its own monitor:
 * stream lookup by id without boxing the id (the reader looks a stream up for every frame).
 * Deletion uses backward-shift so no tombstones accumulate.
 */
final class LongMap<V> {
  private long[] keys = new long[16];
  private Object[] vals = new Object[16];
  private int size;

  private static int mix(long k) {
    long h = k * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32));
  }

  @SuppressWarnings("unchecked")
  synchronized V get(long key) {
    int mask = keys.length - 1;
    for (int i = mix(key) & mask; ; i = (i + 1) & mask) {
      long k = keys[i];
      if (k == key) {
        return (V) vals[i];
      }
      if (k == 0) {
        return null;
      }
    }
  }

  synchronized void put(long key, V value) {
    if (key == 0) {
      throw new IllegalArgumentException("key 0 is reserved");
    }
    if ((size + 1) * 2 > keys.length) {
      grow();
    }
    int mask = keys.length - 1;
    for (int i = mix(key) & mask; ; i = (i + 1) & mask) {
      if (keys[i] == key) {
        vals[i] = value;
        return;
      }
      if (keys[i] == 0) {
        keys[i] = key;
        vals[i] = value;
        size++;
        return;
      }
    }
  }

  /** Removes the key if it maps to {@code value}. */
  synchronized boolean remove(long key, V value) {
    int mask = keys.length - 1;
    int i = mix(key) & mask;
    while (keys[i] != key) {
      if (keys[i] == 0) {
        return false;
      }
      i = (i + 1) & mask;
    }
    if (vals[i] != value) {
      return false;
    }
    // backward-shift deletion
    int gap = i;
    for (int j = (i + 1) & mask; keys[j] != 0; j = (j + 1) & mask) {
      int home = mix(keys[j]) & mask;
      boolean movable = gap <= j ? (home <= gap || home > j) : (home <= gap && home > j);
      if (movable) {
        keys[gap] = keys[j];
        vals[gap] = vals[j];
        gap = j;
      }
    }
    keys[gap] = 0;
    vals[gap] = null;
    size--;
    return true;
  }

  synchronized int size() {
    return size;
  }

  @SuppressWarnings("unchecked")
  synchronized List<V> values() {
    List<V> out = new ArrayList<>(size);
    for (int i = 0; i < keys.length; i++) {
      if (keys[i] != 0) {
        out.add((V) vals[i]);
      }
    }
    return out;
  }

  private void grow() {
    long[] ok = keys;
    Object[] ov = vals;
    keys = new long[ok.length * 2];
    vals = new Object[ok.length * 2];
    size = 0;
    int mask = keys.length - 1;
    for (int n = 0; n < ok.length; n++) {
      if (ok[n] != 0) {
        int i = mix(ok[n]) & mask;
        while (keys[i] != 0) {
          i = (i + 1) & mask;
        }
        keys[i] = ok[n];
        vals[i] = ov[n];
        size++;
      }
    }
  }
}
