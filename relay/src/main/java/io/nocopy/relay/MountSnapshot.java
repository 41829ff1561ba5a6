package io.nocopy.relay;

import java.time.Instant;

/**
 * A point-in-time view of one mount, for the status page and the status line.
 *
 * @param mount the mount name, e.g. {@code /live.mp3}
 * @param contentType the source's Content-Type
 * @param name the source's {@code ice-name}, or null
 * @param description the source's {@code ice-description}, or null
 * @param genre the source's {@code ice-genre}, or null
 * @param listeners listeners connected now
 * @param listenerPeak the most listeners connected at once
 * @param streamStart when the source connected
 * @param bytesIn bytes received from the source
 * @param bytesOut bytes sent to all listeners together
 * @param engine the fan-out engine serving this mount
 * @param title the current title from a metadata update, or null
 */
public record MountSnapshot(
    String mount,
    String contentType,
    String name,
    String description,
    String genre,
    int listeners,
    int listenerPeak,
    Instant streamStart,
    long bytesIn,
    long bytesOut,
    String engine,
    String title) {}
