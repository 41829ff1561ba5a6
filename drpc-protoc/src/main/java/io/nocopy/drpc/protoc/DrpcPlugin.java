package io.nocopy.drpc.protoc;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.compiler.PluginProtos.CodeGeneratorRequest;
import com.google.protobuf.compiler.PluginProtos.CodeGeneratorResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code protoc-gen-nocopy-drpc}: the protoc plugin. protoc runs it with a {@code
 * CodeGeneratorRequest} on standard input and reads the {@code CodeGeneratorResponse} from
 * standard output; for every service of every file to generate it writes one class, {@code
 * <Service>Drpc}, next to the message classes {@code --java_out} writes (see {@link
 * ServiceGenerator}). Errors in the input (a type it cannot name) are reported through the
 * response's error field, as protoc expects.
 */
public final class DrpcPlugin {
  private DrpcPlugin() {}

  /**
   * Runs the plugin on standard input and output.
   *
   * @param args ignored (protoc passes parameters in the request)
   * @throws IOException if standard input or output fails
   */
  public static void main(String[] args) throws IOException {
    CodeGeneratorRequest request = CodeGeneratorRequest.parseFrom(System.in);
    OutputStream out = System.out;
    generate(request).writeTo(out);
    out.flush();
  }

  /**
   * Runs the plugin on a request read from a stream.
   *
   * @param in the serialized request, read to its end; not closed
   * @return the response
   * @throws IOException if the request cannot be read
   */
  public static CodeGeneratorResponse generate(InputStream in) throws IOException {
    return generate(CodeGeneratorRequest.parseFrom(in));
  }

  /**
   * Generates the classes for a request.
   *
   * @param request what protoc sends
   * @return the files, or an error
   */
  public static CodeGeneratorResponse generate(CodeGeneratorRequest request) {
    CodeGeneratorResponse.Builder response =
        CodeGeneratorResponse.newBuilder()
            .setSupportedFeatures(CodeGeneratorResponse.Feature.FEATURE_PROTO3_OPTIONAL_VALUE);
    try {
      JavaNames names = new JavaNames(request.getProtoFileList());
      Map<String, FileDescriptorProto> byName = new HashMap<>();
      for (FileDescriptorProto f : request.getProtoFileList()) {
        byName.put(f.getName(), f);
      }
      for (String name : request.getFileToGenerateList()) {
        FileDescriptorProto f = byName.get(name);
        if (f == null) {
          throw new IllegalArgumentException("file to generate not in the request: " + name);
        }
        for (int i = 0; i < f.getServiceCount(); i++) {
          ServiceGenerator g = new ServiceGenerator(f, i, names);
          response.addFile(
              CodeGeneratorResponse.File.newBuilder()
                  .setName(g.fileName())
                  .setContent(g.generate()));
        }
      }
    } catch (RuntimeException e) {
      return CodeGeneratorResponse.newBuilder()
          .setError("protoc-gen-nocopy-drpc: " + e.getMessage())
          .build();
    }
    return response.build();
  }
}
