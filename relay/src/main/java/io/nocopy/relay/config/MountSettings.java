package io.nocopy.relay.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The settings of one {@code <mount>} of an icecast.xml; every field is null where the file does
 * not set it (then the {@code <mount type="default">} value applies, then the global one).
 *
 * @param name {@code mount-name} ({@code null} for the defaults)
 * @param username the source user for this mount (default {@code source})
 * @param password the source password for this mount
 * @param maxListeners the most listeners of this mount
 * @param maxListenerDuration how long a listener may stay
 * @param fallbackMount where listeners go when the source leaves (or when full)
 * @param fallbackOverride whether they come back when the source returns
 * @param fallbackWhenFull whether listeners beyond {@code maxListeners} go to the fallback
 * @param hidden whether the mount is left out of status pages
 * @param isPublic {@code public}: whether the mount may be listed in directories
 * @param dumpFile where to record the stream
 * @param burstSize this mount's burst in bytes
 * @param queueSize this mount's listener queue limit in bytes
 * @param streamName {@code stream-name}, over what the source says
 * @param streamDescription {@code stream-description}
 * @param streamUrl {@code stream-url}
 * @param genre {@code genre}
 * @param bitrate {@code bitrate} in kbit/s
 * @param type {@code type}: the content type, over what the source says
 * @param subtype {@code subtype}
 * @param charset {@code charset}: how metadata updates are encoded
 * @param httpHeaders extra headers for this mount's listeners
 */
public record MountSettings(
    String name,
    String username,
    String password,
    Integer maxListeners,
    Duration maxListenerDuration,
    String fallbackMount,
    Boolean fallbackOverride,
    Boolean fallbackWhenFull,
    Boolean hidden,
    Boolean isPublic,
    Path dumpFile,
    Integer burstSize,
    Integer queueSize,
    String streamName,
    String streamDescription,
    String streamUrl,
    String genre,
    Integer bitrate,
    String type,
    String subtype,
    String charset,
    Map<String, String> httpHeaders) {

  /** Settings with nothing set. */
  public static MountSettings none() {
    return new MountSettings(null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null, null, null, null, Map.of());
  }

  /** These settings where set, {@code base}'s elsewhere; headers of both, these winning. */
  public MountSettings over(MountSettings base) {
    Map<String, String> headers = new LinkedHashMap<>(base.httpHeaders);
    headers.putAll(httpHeaders);
    return new MountSettings(name,
        or(username, base.username), or(password, base.password), or(maxListeners, base.maxListeners),
        or(maxListenerDuration, base.maxListenerDuration), or(fallbackMount, base.fallbackMount),
        or(fallbackOverride, base.fallbackOverride), or(fallbackWhenFull, base.fallbackWhenFull),
        or(hidden, base.hidden), or(isPublic, base.isPublic), or(dumpFile, base.dumpFile),
        or(burstSize, base.burstSize), or(queueSize, base.queueSize), or(streamName, base.streamName),
        or(streamDescription, base.streamDescription), or(streamUrl, base.streamUrl),
        or(genre, base.genre), or(bitrate, base.bitrate), or(type, base.type), or(subtype, base.subtype),
        or(charset, base.charset), java.util.Collections.unmodifiableMap(headers));
  }

  private static <T> T or(T mine, T base) {
    return mine != null ? mine : base;
  }
}
