package io.nocopy.relay.format;

import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * Reads a source's bytes once, as they pass on their way to the listeners, and remembers where in
 * the stream a new listener may start so that its player can decode from the first byte: on an
 * Ogg page boundary after the stream's header pages (which the listener gets first), on an MPEG
 * audio or ADTS frame sync, or anywhere for a format it does not know.
 *
 * <p>Positions count the source's bytes from 0 (the first byte ever given to {@link #scan}). A
 * scanner keeps only a bounded window of recent start positions and, for Ogg, the header pages of
 * the last few chained streams, so its memory does not grow with the stream. It never keeps or
 * copies the stream's payload, only the few header bytes it must parse.
 *
 * <p>Thread safety: every method is safe to call from any thread; {@link #scan} is meant to be
 * called by the one thread that reads the source, the queries by whoever adds a listener.
 */
public abstract sealed class FormatScanner permits OggScanner, FrameScanner, OpaqueScanner {
  /** How many recent start positions a scanner remembers (about 4 s of 128 kbit/s MP3 frames at 64 KiB). */
  static final int STARTS_KEPT = 4096;

  /** Where a listener may start: the bytes to give it first, then the stream from {@code position}. */
  public record Start(long position, byte[] prefix) {
    /** A start with nothing replayed before the stream. */
    static Start at(long position) {
      return new Start(position, NO_BYTES);
    }
  }

  /** Called when the stream itself announces a title (Ogg comment headers). */
  @FunctionalInterface
  public interface TitleListener {
    /**
     * @param position the stream position from which the title applies (the start of the
     *     chained stream that carries it)
     * @param title the title as Icecast shows it: the {@code TITLE} comment
     */
    void title(long position, String title);
  }

  static final byte[] NO_BYTES = new byte[0];

  /** A listener that ignores titles. */
  public static final TitleListener NO_TITLES = (position, title) -> {};

  private long position;

  FormatScanner() {}

  /**
   * A scanner for a stream of the given {@code Content-Type}: Ogg for {@code application/ogg},
   * {@code audio/ogg}, {@code audio/opus}, {@code audio/vorbis}, {@code video/ogg}; MPEG audio
   * frames for {@code audio/mpeg} and {@code audio/mp3}; ADTS frames for {@code audio/aac},
   * {@code audio/aacp}, {@code audio/x-aac}; any position for anything else.
   *
   * @param contentType the source's content type (parameters such as {@code ; codecs=} ignored), or null
   * @param titles told of titles found in the stream; {@link #NO_TITLES} to ignore them
   */
  public static FormatScanner forContentType(String contentType, TitleListener titles) {
    String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
    int semi = type.indexOf(';');
    if (semi >= 0) {
      type = type.substring(0, semi);
    }
    return switch (type.strip()) {
      case "application/ogg", "audio/ogg", "audio/opus", "audio/vorbis", "video/ogg", "audio/x-ogg" ->
          new OggScanner(titles);
      case "audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg" -> FrameScanner.mpegAudio();
      case "audio/aac", "audio/aacp", "audio/x-aac", "audio/x-aacp" -> FrameScanner.adts();
      default -> new OpaqueScanner();
    };
  }

  /**
   * Scans the next bytes of the stream. The segment is only read, and only during the call.
   *
   * @param chunk the bytes following those of the previous call
   */
  public final synchronized void scan(MemorySegment chunk) {
    long n = chunk.byteSize();
    for (long off = 0; off < n; ) {
      off += consume(chunk, off, n - off, position + off);
    }
    position += n;
  }

  /** Bytes scanned so far: the stream position of the next byte. */
  public final synchronized long position() {
    return position;
  }

  /**
   * The first place at or after {@code position} where a listener may start, with the bytes it
   * must get first (never modify them), or null if no such place has been seen yet (a listener
   * then waits for the next one). A position older than the scanner remembers gives its oldest.
   *
   * @param position a stream position, typically the oldest byte still held for a burst
   */
  public final synchronized Start startAtOrAfter(long position) {
    return start(position);
  }

  /** The format's name as a status page shows it: {@code ogg}, {@code mpeg}, {@code adts}, {@code opaque}. */
  public abstract String formatName();

  /**
   * Consumes bytes from {@code chunk[off, off + len)}, which lie at stream position {@code at};
   * returns how many it consumed (at least 1).
   */
  abstract long consume(MemorySegment chunk, long off, long len, long at);

  /** {@link #startAtOrAfter} under the lock; {@code position()} bytes have been scanned. */
  abstract Start start(long position);
}
