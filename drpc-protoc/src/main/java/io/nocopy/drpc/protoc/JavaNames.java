package io.nocopy.drpc.protoc;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The Java names protoc's Java generator gives to .proto types, so generated DRPC code refers to
 * the classes {@code --java_out} writes: {@code java_package} (else the proto package), {@code
 * java_multiple_files}, {@code java_outer_classname} (else the file's base name in camel case,
 * with {@code OuterClass} appended when a type of the file has that name), nested messages as
 * nested classes.
 */
final class JavaNames {
  private static final Set<String> KEYWORDS =
      Set.of(
          "abstract", "assert", "boolean", "break", "byte", "case", "catch", "char", "class",
          "const", "continue", "default", "do", "double", "else", "enum", "extends", "final",
          "finally", "float", "for", "goto", "if", "implements", "import", "instanceof", "int",
          "interface", "long", "native", "new", "package", "private", "protected", "public",
          "return", "short", "static", "strictfp", "super", "switch", "synchronized", "this",
          "throw", "throws", "transient", "try", "void", "volatile", "while", "true", "false",
          "null", "record", "var", "yield", "sealed", "permits");

  private final Map<String, String> classes = new HashMap<>(); // ".pkg.Msg.Inner" -> Java name

  /**
   * Indexes every message of the files.
   *
   * @param files the request's proto files (the ones to generate and all their imports)
   */
  JavaNames(List<FileDescriptorProto> files) {
    for (FileDescriptorProto f : files) {
      String protoPrefix = f.getPackage().isEmpty() ? "." : "." + f.getPackage() + ".";
      String javaPrefix = qualify(javaPackage(f), "");
      if (!f.getOptions().getJavaMultipleFiles()) {
        javaPrefix = javaPrefix + outerClassName(f) + ".";
      }
      for (DescriptorProto m : f.getMessageTypeList()) {
        index(m, protoPrefix, javaPrefix);
      }
    }
  }

  private void index(DescriptorProto m, String protoPrefix, String javaPrefix) {
    String proto = protoPrefix + m.getName();
    String java = javaPrefix + m.getName();
    classes.put(proto, java);
    for (DescriptorProto nested : m.getNestedTypeList()) {
      index(nested, proto + ".", java + ".");
    }
  }

  /**
   * The fully qualified Java class of a message type.
   *
   * @param protoType a fully qualified proto type name as descriptors write it ({@code .pkg.Msg})
   * @return the Java name
   * @throws IllegalArgumentException for a type not defined in the request's files
   */
  String messageClass(String protoType) {
    String java = classes.get(protoType);
    if (java == null) {
      throw new IllegalArgumentException("unknown message type " + protoType);
    }
    return java;
  }

  /** The Java package of a file's classes: {@code java_package}, else the proto package. */
  static String javaPackage(FileDescriptorProto f) {
    return f.getOptions().hasJavaPackage() ? f.getOptions().getJavaPackage() : f.getPackage();
  }

  /** {@code pkg.name}, or {@code name} in the unnamed package. */
  static String qualify(String pkg, String name) {
    return pkg.isEmpty() ? name : pkg + "." + name;
  }

  /** The outer class protoc's Java generator writes for a file. */
  static String outerClassName(FileDescriptorProto f) {
    if (f.getOptions().hasJavaOuterClassname()) {
      return f.getOptions().getJavaOuterClassname();
    }
    String base = f.getName();
    base = base.substring(base.lastIndexOf('/') + 1);
    if (base.endsWith(".protodevel")) {
      base = base.substring(0, base.length() - ".protodevel".length());
    } else if (base.endsWith(".proto")) {
      base = base.substring(0, base.length() - ".proto".length());
    }
    String name = camelCase(base, true);
    return conflicts(f, name) ? name + "OuterClass" : name;
  }

  private static boolean conflicts(FileDescriptorProto f, String name) {
    for (EnumDescriptorProto e : f.getEnumTypeList()) {
      if (e.getName().equals(name)) {
        return true;
      }
    }
    for (ServiceDescriptorProto s : f.getServiceList()) {
      if (s.getName().equals(name)) {
        return true;
      }
    }
    for (DescriptorProto m : f.getMessageTypeList()) {
      if (conflicts(m, name)) {
        return true;
      }
    }
    return false;
  }

  private static boolean conflicts(DescriptorProto m, String name) {
    if (m.getName().equals(name)) {
      return true;
    }
    for (EnumDescriptorProto e : m.getEnumTypeList()) {
      if (e.getName().equals(name)) {
        return true;
      }
    }
    for (DescriptorProto n : m.getNestedTypeList()) {
      if (conflicts(n, name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * protoc's camel casing: letters after a non-alphanumeric or a digit are capitalised, the
   * non-alphanumerics dropped; the first letter upper-cased if {@code capFirst}, else lower-cased.
   */
  static String camelCase(String s, boolean capFirst) {
    StringBuilder b = new StringBuilder(s.length());
    boolean capNext = capFirst;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 'a' && c <= 'z') {
        b.append(capNext ? Character.toUpperCase(c) : c);
        capNext = false;
      } else if (c >= 'A' && c <= 'Z') {
        b.append(i == 0 && !capFirst ? Character.toLowerCase(c) : c);
        capNext = false;
      } else if (c >= '0' && c <= '9') {
        b.append(c);
        capNext = true;
      } else {
        capNext = true;
      }
    }
    return b.toString();
  }

  /** A Java method name for an rpc: lower camel case, a keyword gets a trailing underscore. */
  static String methodName(String rpc) {
    String name = camelCase(rpc, false);
    return KEYWORDS.contains(name) ? name + "_" : name;
  }

  /** {@code UPPER_SNAKE} case of a camel-case name, for constants. */
  static String constantName(String camel) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < camel.length(); i++) {
      char c = camel.charAt(i);
      if (Character.isUpperCase(c) && i > 0 && !Character.isUpperCase(camel.charAt(i - 1))) {
        b.append('_');
      }
      b.append(c == '.' ? '_' : Character.toUpperCase(c));
    }
    return b.toString().toUpperCase(Locale.ROOT);
  }
}
