package io.nocopy.relay.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-mount settings as an icecast.xml gives them: the {@code <mount type="default">} settings
 * and each named {@code <mount>}'s own, resolved on lookup. Immutable; safe to share between
 * threads. A relay started from flags alone has {@link #empty()}: every mount gets the global
 * settings.
 */
public final class MountTable {
  private static final MountTable EMPTY = new MountTable(MountSettings.none(), List.of());

  private final MountSettings defaults;
  private final Map<String, MountSettings> named;

  /**
   * A table of {@code mounts} over {@code defaults}.
   *
   * @param defaults what every mount inherits where its own settings are unset
   * @param mounts the named mounts' own settings, each with a distinct non-null {@code name}
   * @throws IllegalArgumentException if a mount has no name or a name appears twice
   */
  public MountTable(MountSettings defaults, List<MountSettings> mounts) {
    this.defaults = defaults;
    Map<String, MountSettings> m = new LinkedHashMap<>();
    for (MountSettings s : mounts) {
      if (s.name() == null) {
        throw new IllegalArgumentException("a <mount> without a <mount-name>");
      }
      if (m.put(s.name(), s.over(defaults)) != null) {
        throw new IllegalArgumentException("mount " + s.name() + " is configured twice");
      }
    }
    this.named = java.util.Collections.unmodifiableMap(m);
  }

  /** The table with no per-mount settings. */
  public static MountTable empty() {
    return EMPTY;
  }

  /**
   * The settings of {@code mount}: its own over the defaults, or the defaults alone.
   *
   * @param mount a mount name such as {@code /live.mp3}
   * @return the resolved settings; fields still null fall back to the relay's global settings
   */
  public MountSettings settings(String mount) {
    MountSettings s = named.get(mount);
    return s != null ? s : defaults;
  }

  /**
   * A loop of fallback mounts, if there is one: the mounts in order, the first repeated at the end
   * ({@code [/a, /b, /a]}). A mount whose fallback is itself only through the defaults has none.
   *
   * @return the first loop found along the named mounts' fallbacks, or an empty list
   */
  public List<String> fallbackLoop() {
    for (String from : named.keySet()) {
      List<String> path = new java.util.ArrayList<>();
      String at = from;
      while (at != null) {
        int seen = path.indexOf(at);
        if (seen >= 0) {
          List<String> loop = new java.util.ArrayList<>(path.subList(seen, path.size()));
          loop.add(at);
          return loop;
        }
        path.add(at);
        MountSettings s = settings(at);
        String next = s.fallbackMount();
        at = next != null && next.equals(at) && s == defaults ? null : next;
      }
    }
    return List.of();
  }

  /** The named mounts' resolved settings, in the file's order. */
  public Map<String, MountSettings> named() {
    return named;
  }

  /** The {@code <mount type="default">} settings. */
  public MountSettings defaults() {
    return defaults;
  }
}
