package io.nocopy.relay;

import java.util.ArrayList;
import java.util.List;

/**
 * The command-line flags of the relay's commands ({@code relay}, {@code demo}): {@code --name
 * value} or {@code --name=value}, and {@code --help} / {@code -h}. Each command names its own flags
 * and parses their values; this only splits the arguments, so that every command reads them the
 * same way.
 */
public final class Flags {
  private Flags() {}

  /**
   * One flag as given.
   *
   * @param name the flag, e.g. {@code --listen}
   * @param value its value, or null when the arguments ended right after the flag
   */
  public record Flag(String name, String value) {
    /**
     * The flag's value.
     *
     * @return the value
     * @throws IllegalArgumentException naming the flag, if it had none
     */
    public String required() {
      if (value == null) {
        throw new IllegalArgumentException(name + " needs a value (see --help)");
      }
      return value;
    }

    /**
     * The error for a flag the command does not know.
     *
     * @return an exception naming the flag
     */
    public IllegalArgumentException unknown() {
      return new IllegalArgumentException("unknown option " + name + " (see --help)");
    }
  }

  /**
   * Splits arguments into flags.
   *
   * @param args the arguments after the command's name
   * @return the flags in order, or null if {@code --help} or {@code -h} was given
   */
  public static List<Flag> split(String... args) {
    List<Flag> out = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String name = args[i];
      String value = null;
      int eq = name.indexOf('=');
      if (name.startsWith("--") && eq > 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (name.equals("--help") || name.equals("-h")) {
        return null;
      }
      if (value == null && i + 1 < args.length) {
        value = args[++i];
      }
      out.add(new Flag(name, value));
    }
    return out;
  }
}
