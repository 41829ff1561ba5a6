package io.nocopy.loadgen;

import io.nocopy.relay.Flags;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code ./nocopy demo} runs, parsed from its flags. Immutable.
 *
 * @param mounts synthetic sources, one per mount {@code /mount1 .. /mountN}
 * @param listeners listeners per mount
 * @param bitsPerSecond each source's rate
 * @param seconds the measured steady-state window, after warm-up
 * @param warmupSeconds how long everything runs before measuring starts
 * @param engines the relay engines to run, one after the other, each with a fresh relay process
 * @param icyShare the fraction of each mount's listeners that ask for ICY metadata, 0 to 1
 */
public record DemoConfig(int mounts, int listeners, long bitsPerSecond, int seconds, int warmupSeconds,
    List<String> engines, double icyShare) {

  /** The engines {@code --engines} takes. */
  static final List<String> ENGINES = List.of("splice", "userspace", "userspace-uring", "auto");

  /** The engines of a run without {@code --engines}: both, and io_uring where it works. */
  static List<String> defaultEngines() {
    return io.nocopy.internal.linux.IoUring.available()
        ? List.of("splice", "userspace", "userspace-uring")
        : List.of("splice", "userspace");
  }

  /** Without ICY listeners. */
  public DemoConfig(int mounts, int listeners, long bitsPerSecond, int seconds, int warmupSeconds,
      List<String> engines) {
    this(mounts, listeners, bitsPerSecond, seconds, warmupSeconds, engines, 0);
  }

  /** Validates the settings. */
  public DemoConfig {
    if (mounts < 1 || mounts > 1000) {
      throw new IllegalArgumentException("--mounts must be 1..1000, got " + mounts);
    }
    if (listeners < 1 || listeners > 10_000) {
      throw new IllegalArgumentException("--listeners must be 1..10000, got " + listeners);
    }
    if ((long) mounts * listeners > 20_000) {
      throw new IllegalArgumentException("--mounts x --listeners must be at most 20000, got "
          + (long) mounts * listeners);
    }
    if (bitsPerSecond < 8L * Frames.SIZE || bitsPerSecond > 10_000_000_000L) {
      throw new IllegalArgumentException("--rate must be between 8kbit (one frame a second) and 10gbit, got "
          + bitsPerSecond + " bit/s");
    }
    if (seconds < 1 || seconds > 3600) {
      throw new IllegalArgumentException("--seconds must be 1..3600, got " + seconds);
    }
    if (warmupSeconds < 0 || warmupSeconds > 600) {
      throw new IllegalArgumentException("--warmup must be 0..600, got " + warmupSeconds);
    }
    if (engines.isEmpty()) {
      throw new IllegalArgumentException("--engines needs at least one engine");
    }
    for (String e : engines) {
      if (!ENGINES.contains(e)) {
        throw new IllegalArgumentException(
            "--engines takes splice, userspace, userspace-uring or auto, got '" + e + "'");
      }
    }
    if (!(icyShare >= 0 && icyShare <= 1)) {
      throw new IllegalArgumentException("--icy-share must be between 0 and 1, got " + icyShare);
    }
    engines = List.copyOf(engines);
  }

  /**
   * Whether listener {@code l} (from 0) of a mount asks for ICY metadata: spread evenly, {@code
   * round(listeners * icyShare)} of each mount's.
   *
   * @param l the listener's index on its mount
   * @return true for an ICY listener
   */
  public boolean icy(int l) {
    return Math.round((l + 1) * icyShare) > Math.round(l * icyShare);
  }

  /** The usage text of {@code ./nocopy demo --help}. */
  public static final String HELP =
      """
      usage: ./nocopy demo [options]

      Starts the relay as a separate process on 127.0.0.1, publishes synthetic streams to it and
      listens to every mount from this process, then reports what the relay cost per delivered
      byte, with each engine. Every listener checks every byte it receives.

        --mounts N            sources, one per mount (default 10)
        --listeners N         listeners per mount (default 10)
        --rate RATE           each source's rate: 2mbit, 500k (= kbit), 1g, or bits per second (default 2mbit)
        --seconds N           measured steady-state seconds (default 20)
        --warmup N            seconds before measuring starts (default 5)
        --engines LIST        comma-separated: splice, userspace (io_uring off), userspace-uring
                              (io_uring sends, where io_uring works), auto (the relay's
                              defaults); default splice,userspace and userspace-uring where
                              io_uring works
        --icy-share F         the fraction of each mount's listeners that send Icy-MetaData: 1 as
                              players do (0 to 1, default 0); they take the metadata blocks out
                              and verify the audio between them
        --help                this text

      The exit status is non-zero if any listener's bytes failed to verify or a run failed.
      """;

  /** Thrown for {@code --help}: the caller prints {@link #HELP} and exits 0. */
  public static final class HelpRequested extends Exception {
    private static final long serialVersionUID = 1L;

    HelpRequested() {
      super("help requested", null, false, false);
    }
  }

  /**
   * Parses the flags of {@code ./nocopy demo}.
   *
   * @param args the arguments after {@code demo}
   * @return the settings
   * @throws HelpRequested for {@code --help}
   * @throws IllegalArgumentException naming the flag, for anything malformed
   */
  public static DemoConfig parse(String... args) throws HelpRequested {
    int mounts = 10;
    int listeners = 10;
    long rate = 2_000_000;
    int seconds = 20;
    int warmup = 5;
    List<String> engines = defaultEngines();
    double icyShare = 0;
    List<Flags.Flag> flags = Flags.split(args);
    if (flags == null) {
      throw new HelpRequested();
    }
    for (Flags.Flag f : flags) {
      String flag = f.name();
      switch (flag) {
        case "--mounts" -> mounts = parseInt(flag, f.required());
        case "--listeners" -> listeners = parseInt(flag, f.required());
        case "--rate" -> rate = parseRate(f.required());
        case "--seconds" -> seconds = parseInt(flag, f.required());
        case "--warmup" -> warmup = parseInt(flag, f.required());
        case "--icy-share" -> {
          try {
            icyShare = Double.parseDouble(f.required().strip());
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--icy-share wants a fraction such as 0.25, got '" + f.required() + "'");
          }
        }
        case "--engines" -> {
          List<String> list = new ArrayList<>();
          for (String e : f.required().split(",")) {
            if (!e.isBlank()) {
              list.add(e.strip().toLowerCase(Locale.ROOT));
            }
          }
          engines = list;
        }
        default -> throw f.unknown();
      }
    }
    return new DemoConfig(mounts, listeners, rate, seconds, warmup, engines, icyShare);
  }

  private static int parseInt(String flag, String v) {
    try {
      return Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " wants a whole number, got '" + v + "'");
    }
  }

  /**
   * Parses a rate in bits per second: "2mbit", "2m", "500k", "500kbit", "1.5mbit", "1g",
   * "64000" (decimal multiples: k = 1000).
   *
   * @param v the text
   * @return bits per second
   */
  static long parseRate(String v) {
    String s = v.strip().toLowerCase(Locale.ROOT);
    if (s.endsWith("bit/s")) {
      s = s.substring(0, s.length() - 5);
    } else if (s.endsWith("bps")) {
      s = s.substring(0, s.length() - 3);
    } else if (s.endsWith("bit")) {
      s = s.substring(0, s.length() - 3);
    }
    double mult = 1;
    if (!s.isEmpty()) {
      switch (s.charAt(s.length() - 1)) {
        case 'k' -> mult = 1e3;
        case 'm' -> mult = 1e6;
        case 'g' -> mult = 1e9;
        default -> mult = 1;
      }
      if (mult != 1) {
        s = s.substring(0, s.length() - 1);
      }
    }
    try {
      double n = Double.parseDouble(s.strip());
      if (!(n > 0) || Double.isInfinite(n)) {
        throw new NumberFormatException();
      }
      return Math.round(n * mult);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--rate wants a rate like 2mbit, 500k or 64000, got '" + v + "'");
    }
  }

  /** @return each source's rate in bytes per second */
  public double bytesPerSecond() {
    return bitsPerSecond / 8.0;
  }
}
