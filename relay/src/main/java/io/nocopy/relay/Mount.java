package io.nocopy.relay;

import io.nocopy.relay.format.FormatScanner;
import io.nocopy.relay.format.IcyTimeline;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One live stream: its source's metadata, its listener counters, and the fan-out that serves it.
 * The fan-out (and with it the transport) is chosen when the mount is made, before it is visible to
 * listeners, and never changes; the snapshot reports its transport.
 *
 * <p>Counters: the listeners connected now (each counted from {@link #listenerJoined} to {@link
 * #listenerLeft}), the most at once, and the stream bytes sent to listeners, those gone included.
 * They are kept under this object's monitor, so a snapshot never counts a leaving listener twice
 * or not at all; the fan-out's hot path does not touch them.
 */
final class Mount {
  /** Opens a mount's fan-out once the mount exists (the fan-out logs under the mount's name). */
  @FunctionalInterface
  interface FanoutFactory {
    /**
     * @param mount the mount being made (its metadata is set, its fan-out not yet)
     * @return the fan-out that serves it
     * @throws IOException if the fan-out cannot be opened
     */
    MountFanout open(Mount mount) throws IOException;
  }

  final String name;
  final String contentType;
  final SourceInfo info;
  final Instant started = Instant.now();
  final FormatScanner scanner;
  final IcyTimeline icy = new IcyTimeline(StandardCharsets.UTF_8);
  final MountFanout fanout;
  final Moves moves; // listeners leaving for another mount
  volatile String title; // the latest title, may be null
  volatile StreamCodecs codecs = StreamCodecs.NONE; // set once by a CodecProbe for Ogg streams
  private final Set<MountFanout.Attached> listeners = new HashSet<>(); // guarded by this
  private long bytesOutOfGone; // stream bytes sent to listeners that left; guarded by this
  private volatile int listenerCount;
  private int listenerPeak; // guarded by this
  private int admitting; // listeners past the max-listeners check, not yet joined; guarded by this
  private final AtomicLongArray drops =
      new AtomicLongArray(Drop.values().length);
  /** The source's address, as the admin pages show it ({@code source_ip}); null when unknown. */
  volatile String sourceIp;
  /** The source's {@code User-Agent} ({@code user_agent} in the admin stats); null when unknown. */
  volatile String sourceAgent;

  /** Why a listener was disconnected before it left on its own or the stream ended. */
  enum Drop {
    /** It fell more than its queue size behind. */
    TOO_SLOW,
    /** It took no byte for the client timeout while bytes waited. */
    CLIENT_TIMEOUT,
    /** An admin removed it ({@code /admin/killclient}). */
    ADMIN_KILL;

    /** The {@code reason} label of the metrics page. */
    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * @param contentType the source's Content-Type
   * @param info what the source (or the upstream of a cascaded mount) said about its stream
   * @param fanout opens the fan-out that serves the mount
   * @throws IOException if the fan-out cannot be opened
   */
  Mount(String name, String contentType, SourceInfo info, FanoutFactory fanout) throws IOException {
    this.name = name;
    this.contentType = contentType;
    this.info = info;
    this.scanner = FormatScanner.forContentType(contentType,
        (position, t) -> setTitle(position, t, null, StandardCharsets.UTF_8));
    this.moves = new Moves(scanner, !scanner.formatName().equals("opaque"));
    this.fanout = fanout.open(this);
  }

  /**
   * Sets the mount's title from stream position {@code position} on (status page, ICY blocks).
   *
   * @param position the stream position from which listeners' ICY blocks carry it
   * @param t the title
   * @param url the stream URL for ICY blocks, or null
   * @param charset how ICY blocks encode the text
   */
  void setTitle(long position, String t, String url, Charset charset) {
    icy.set(position, t, url, charset);
    title = t;
  }

  /**
   * Admits one more listener under the mount's {@code max-listeners}: counts it as admitted until
   * {@link #admissionEnded()}, so that listeners arriving at once cannot pass the limit together.
   *
   * @param max the most listeners of this mount
   * @return false if the mount is full (nothing was taken)
   */
  synchronized boolean admit(int max) {
    if (listeners.size() + admitting >= max) {
      return false;
    }
    admitting++;
    return true;
  }

  /**
   * Whether {@link #admit} would refuse a listener now ({@code fallback-when-full} asks first).
   *
   * @param max the mount's max-listeners
   * @return true if its listeners and admissions reach {@code max}
   */
  synchronized boolean full(int max) {
    return listeners.size() + admitting >= max;
  }

  /** Ends an admission of {@link #admit}, after the listener joined or failed to. */
  synchronized void admissionEnded() {
    admitting--;
  }

  /** Counts a listener's sink from now until {@link #listenerLeft}. */
  synchronized void listenerJoined(MountFanout.Attached sink) {
    listeners.add(sink);
    listenerCount = listeners.size();
    listenerPeak = Math.max(listenerPeak, listenerCount);
  }

  /** Stops counting a listener; its bytes stay in the total sent. Idempotent. */
  synchronized void listenerLeft(MountFanout.Attached sink) {
    if (listeners.remove(sink)) {
      bytesOutOfGone += sink.bytesWritten();
      listenerCount = listeners.size();
      if (sink.droppedAsSlow()) {
        drops.incrementAndGet(Drop.TOO_SLOW.ordinal());
      }
    }
  }

  /** Counts a listener dropped for {@code why} (too slow is counted when it leaves). */
  void countDrop(Drop why) {
    drops.incrementAndGet(why.ordinal());
  }

  /**
   * Listeners dropped for {@code why} since the mount was made.
   *
   * @param why the reason
   * @return the count
   */
  long drops(Drop why) {
    return drops.get(why.ordinal());
  }

  /** Listeners connected now. */
  int listeners() {
    return listenerCount;
  }

  /** Bytes received from the source. */
  long bytesIn() {
    return fanout.bytesIn();
  }

  synchronized MountSnapshot snapshot() {
    long out = bytesOutOfGone;
    int spliced = 0;
    for (MountFanout.Attached s : listeners) {
      out += s.bytesWritten();
      spliced += s.transport().equals("splice") ? 1 : 0;
    }
    return new MountSnapshot(name, contentType, info, codecs, listenerCount,
        listenerPeak, started, fanout.bytesIn(), out, fanout.name(), fanout.ioUring(), title,
        spliced);
  }

  /**
   * The listeners connected now, for the client timeout's check.
   *
   * @return a copy
   */
  synchronized List<MountFanout.Attached> listenerSinks() {
    return new ArrayList<>(listeners);
  }
}
