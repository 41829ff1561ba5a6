package io.nocopy.relay;

import java.io.IOException;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

/**
 * One live stream: its source's metadata, its listener counters, and the engine that serves it.
 * The engine is chosen when the mount is made, before it is visible to listeners, and never
 * changes; the snapshot reports that engine's name.
 *
 * <p>Counters: the listeners connected now (each counted from {@link #listenerJoined} to {@link
 * #listenerLeft}), the most at once, and the stream bytes sent to listeners, those gone included.
 * They are kept under this object's monitor, so a snapshot never counts a leaving listener twice
 * or not at all; the engine's hot path does not touch them.
 */
final class Mount {
  /** Opens a mount's engine once the mount exists (the engine logs under the mount's name). */
  @FunctionalInterface
  interface EngineFactory {
    /**
     * @param mount the mount being made (its metadata is set, its engine not yet)
     * @return the engine that serves it
     * @throws IOException if the engine cannot be opened
     */
    MountEngine open(Mount mount) throws IOException;
  }

  final String name;
  final String contentType;
  final String iceName;
  final String iceDescription;
  final String iceGenre;
  final Instant started = Instant.now();
  final MountEngine engine;
  volatile String title; // from /admin/metadata updates, may be null
  private final Set<MountEngine.Sink> listeners = new HashSet<>(); // guarded by this
  private long bytesOutOfGone; // stream bytes sent to listeners that left; guarded by this
  private volatile int listenerCount;
  private int listenerPeak; // guarded by this

  /**
   * @param contentType the source's Content-Type
   * @param iceName the source's {@code ice-name} (or upstream's {@code icy-name}), may be null
   * @param iceDescription likewise the description, may be null
   * @param iceGenre likewise the genre, may be null
   * @param engine opens the engine that serves the mount
   * @throws IOException if the engine cannot be opened
   */
  Mount(String name, String contentType, String iceName, String iceDescription, String iceGenre,
      EngineFactory engine) throws IOException {
    this.name = name;
    this.contentType = contentType;
    this.iceName = iceName;
    this.iceDescription = iceDescription;
    this.iceGenre = iceGenre;
    this.engine = engine.open(this);
  }

  /** Counts a listener's sink from now until {@link #listenerLeft}. */
  synchronized void listenerJoined(MountEngine.Sink sink) {
    listeners.add(sink);
    listenerCount = listeners.size();
    listenerPeak = Math.max(listenerPeak, listenerCount);
  }

  /** Stops counting a listener; its bytes stay in the total sent. Idempotent. */
  synchronized void listenerLeft(MountEngine.Sink sink) {
    if (listeners.remove(sink)) {
      bytesOutOfGone += sink.bytesWritten();
      listenerCount = listeners.size();
    }
  }

  /** Listeners connected now. */
  int listeners() {
    return listenerCount;
  }

  /** Bytes received from the source. */
  long bytesIn() {
    return engine.bytesIn();
  }

  synchronized MountSnapshot snapshot() {
    long out = bytesOutOfGone;
    for (MountEngine.Sink s : listeners) {
      out += s.bytesWritten();
    }
    return new MountSnapshot(name, contentType, iceName, iceDescription, iceGenre, listenerCount,
        listenerPeak, started, engine.bytesIn(), out, engine.name(), title);
  }
}
