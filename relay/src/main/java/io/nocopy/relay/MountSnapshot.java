package io.nocopy.relay;

import java.time.Instant;

/**
 * A point-in-time view of one mount, for the status page, the listeners' response heads and the
 * status line. Immutable.
 *
 * @param mount the mount name, e.g. {@code /live.mp3}
 * @param contentType the source's Content-Type
 * @param info what the source said about its stream (name, genre, bitrate ...)
 * @param codecs what the stream's own headers say (Ogg codecs), {@link StreamCodecs#NONE} until
 *     known or for other formats
 * @param listeners listeners connected now
 * @param listenerPeak the most listeners connected at once
 * @param streamStart when the source connected
 * @param bytesIn bytes received from the source
 * @param bytesOut bytes sent to all listeners together
 * @param engine the fan-out engine serving this mount: {@code splice} or {@code userspace}
 * @param ioUring whether its sends to idle listeners are batched through io_uring (userspace)
 * @param title the current title from a metadata update, or null
 * @param splicedListeners how many of the listeners the kernel transport serves (the rest are in
 *     userspace: on a userspace mount, or beyond the user's pipe page budget)
 */
public record MountSnapshot(
    String mount,
    String contentType,
    SourceInfo info,
    StreamCodecs codecs,
    int listeners,
    int listenerPeak,
    Instant streamStart,
    long bytesIn,
    long bytesOut,
    String engine,
    boolean ioUring,
    String title,
    int splicedListeners) {

  /**
   * This view as the mount's settings present it on the status and admin pages: the configured
   * {@code stream-*}, {@code genre}, {@code bitrate}, {@code type} and {@code subtype} over what
   * the source said (see {@link SourceInfo#over}).
   *
   * @param s the mount's settings
   * @return the view shown
   */
  public MountSnapshot shownAs(io.nocopy.relay.config.MountSettings s) {
    StreamCodecs c = s.subtype() == null ? codecs : new StreamCodecs(s.subtype(), codecs.fields());
    return new MountSnapshot(mount, s.type() != null ? s.type() : contentType, info.over(s), c,
        listeners, listenerPeak, streamStart, bytesIn, bytesOut, engine, ioUring, title,
        splicedListeners);
  }

  /**
   * The source's {@code ice-name}.
   *
   * @return the name, or null
   */
  public String name() {
    return info.name();
  }

  /**
   * The source's {@code ice-description}.
   *
   * @return the description, or null
   */
  public String description() {
    return info.description();
  }

  /**
   * The source's {@code ice-genre}.
   *
   * @return the genre, or null
   */
  public String genre() {
    return info.genre();
  }
}
