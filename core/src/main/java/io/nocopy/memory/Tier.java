package io.nocopy.memory;

/**
 * The twelve block sizes of the memory layer: powers of four from 32 B ({@link #PICO}) to
 * 128 MiB ({@link #TITAN}). Every pooled {@link Block} has exactly its tier's size.
 *
 * <p>Tiers are plain values: they own nothing and are safe to share between threads.
 */
public enum Tier {
  /** 32 B: ids, flags, tiny control messages. */
  PICO,
  /** 128 B: small headers and tokens. */
  NANO,
  /** 512 B: protocol frames, DNS packets. */
  MICRO,
  /** 2 KiB: small messages, a typical network read. */
  SMALL,
  /** 8 KiB: TCP segments, page I/O. */
  MEDIUM,
  /** 32 KiB: stream chunks. */
  BIG,
  /** 128 KiB: bulk network transfers. */
  LARGE,
  /** 512 KiB: large responses. */
  GREAT,
  /** 2 MiB: huge-page sized. */
  HUGE,
  /** 8 MiB. */
  VAST,
  /** 32 MiB. */
  GIANT,
  /** 128 MiB: the largest block. */
  TITAN;

  /** The largest block size of any tier: 128 MiB. */
  public static final long MAX_SIZE = 128L << 20;

  private static final Tier[] VALUES = values();

  /**
   * The size of every block of this tier in bytes: {@code 32 << (2 * ordinal())}.
   *
   * @return the block size, 32 B .. 128 MiB
   */
  public long size() {
    return 32L << (2 * ordinal());
  }

  /**
   * The smallest tier whose blocks hold {@code bytes}.
   *
   * @param bytes a size in bytes, 0 .. 128 MiB inclusive
   * @return the smallest tier with {@code size() >= bytes}
   * @throws IllegalArgumentException if {@code bytes} is negative or above 128 MiB
   */
  public static Tier forSize(long bytes) {
    if (bytes < 0 || bytes > MAX_SIZE) {
      throw new IllegalArgumentException(
          "size " + bytes + " is outside 0.." + MAX_SIZE + " (no tier holds it)");
    }
    if (bytes <= 32) {
      return PICO;
    }
    int log2Ceil = 64 - Long.numberOfLeadingZeros(bytes - 1); // 2^log2Ceil >= bytes
    return VALUES[(log2Ceil - 5 + 1) >>> 1];
  }

  /** Formats a byte count the way error messages and stats print it ("2 KiB", "1.5 MiB"). */
  static String format(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return (v == Math.rint(v) ? String.valueOf((long) v) : String.format("%.1f", v)) + " " + units[u];
  }
}
