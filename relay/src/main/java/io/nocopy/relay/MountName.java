package io.nocopy.relay;

/**
 * Validation of mount names: what may appear after the host in a source's or listener's URL. A
 * mount name is also used as a file name under {@code --record-dir}, so nothing in it may escape
 * that directory.
 */
final class MountName {
  static final int MAX_LENGTH = 128;

  private MountName() {}

  /**
   * Checks a request path as a mount name.
   *
   * @param path the path as sent, e.g. {@code /live.mp3}
   * @return the mount name (the path itself)
   * @throws IllegalArgumentException with the reason, for anything that is not a plain name:
   *     empty, too long, percent-escapes, dot segments, empty segments, or characters outside
   *     {@code [A-Za-z0-9._-]} and {@code /}
   */
  static String validate(String path) {
    if (path == null || path.length() < 2 || path.charAt(0) != '/') {
      throw new IllegalArgumentException("mount must start with '/' and have a name");
    }
    if (path.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("mount longer than " + MAX_LENGTH + " characters");
    }
    for (int i = 1; i < path.length(); i++) {
      char c = path.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == '_' || c == '-' || c == '/';
      if (!ok) {
        throw new IllegalArgumentException("mount contains a character outside [A-Za-z0-9._-/]");
      }
    }
    for (String seg : path.substring(1).split("/", -1)) {
      if (seg.isEmpty()) {
        throw new IllegalArgumentException("mount has an empty path segment");
      }
      if (seg.startsWith(".")) {
        throw new IllegalArgumentException("mount segments may not start with '.'");
      }
    }
    return path;
  }

  /** The mount as a single file-name component: slashes become '_'. */
  static String fileStem(String mount) {
    String stem = mount.substring(1).replace('/', '_');
    int dot = stem.lastIndexOf('.');
    return dot > 0 ? stem.substring(0, dot) : stem;
  }

  /** The extension for recordings: the mount's own, else one from the content type. */
  static String extension(String mount, String contentType) {
    String last = mount.substring(mount.lastIndexOf('/') + 1);
    int dot = last.lastIndexOf('.');
    if (dot > 0 && dot < last.length() - 1) {
      return last.substring(dot + 1);
    }
    if (contentType == null) {
      return "bin";
    }
    return switch (contentType.toLowerCase(java.util.Locale.ROOT).split(";")[0].strip()) {
      case "audio/mpeg" -> "mp3";
      case "audio/ogg", "application/ogg" -> "ogg";
      case "audio/aac", "audio/aacp" -> "aac";
      case "audio/opus" -> "opus";
      case "audio/flac" -> "flac";
      case "video/webm", "audio/webm" -> "webm";
      case "video/mp2t" -> "ts";
      default -> "bin";
    };
  }
}
