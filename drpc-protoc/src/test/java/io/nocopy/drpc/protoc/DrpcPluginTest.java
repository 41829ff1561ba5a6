package io.nocopy.drpc.protoc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileOptions;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import com.google.protobuf.DescriptorProtos.SourceCodeInfo;
import com.google.protobuf.compiler.PluginProtos.CodeGeneratorRequest;
import com.google.protobuf.compiler.PluginProtos.CodeGeneratorResponse;
import java.io.ByteArrayInputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The plugin on requests built by hand: the names protoc's Java generator gives to classes (the
 * generated code must refer to them exactly), the rpc names protoc-gen-go-drpc writes, files
 * without a package, and errors reported the way protoc expects. Generated code compiling and
 * running is tested by the example module, which runs the plugin through protoc in its build.
 */
class DrpcPluginTest {
  private static DescriptorProto message(String name, DescriptorProto... nested) {
    return DescriptorProto.newBuilder().setName(name).addAllNestedType(List.of(nested)).build();
  }

  private static MethodDescriptorProto method(String name, String in, String out, boolean cs,
      boolean ss) {
    return MethodDescriptorProto.newBuilder().setName(name).setInputType(in).setOutputType(out)
        .setClientStreaming(cs).setServerStreaming(ss).build();
  }

  private static CodeGeneratorResponse run(FileDescriptorProto... files) throws Exception {
    CodeGeneratorRequest.Builder req = CodeGeneratorRequest.newBuilder();
    for (FileDescriptorProto f : files) {
      req.addProtoFile(f);
    }
    req.addFileToGenerate(files[files.length - 1].getName());
    // through the serialized form, as protoc sends it
    return DrpcPlugin.generate(new ByteArrayInputStream(req.build().toByteArray()));
  }

  @Test
  void outerClassNames() {
    FileDescriptorProto.Builder f = FileDescriptorProto.newBuilder().setName("a/b/my_file-2x.proto");
    assertEquals("MyFile2X", JavaNames.outerClassName(f.build()));
    f.setName("echo.proto").addService(ServiceDescriptorProto.newBuilder().setName("Echo"));
    assertEquals("EchoOuterClass", JavaNames.outerClassName(f.build()));
    f.clearService().addMessageType(message("Box", message("Echo")));
    assertEquals("EchoOuterClass", JavaNames.outerClassName(f.build())); // nested types count
    f.setOptions(FileOptions.newBuilder().setJavaOuterClassname("Protos"));
    assertEquals("Protos", JavaNames.outerClassName(f.build()));
  }

  @Test
  void methodAndConstantNames() {
    assertEquals("serverStream", JavaNames.methodName("ServerStream"));
    assertEquals("listItems", JavaNames.methodName("List_items"));
    assertEquals("new_", JavaNames.methodName("New"));
    assertEquals("SERVER_STREAM", JavaNames.constantName("serverStream"));
    assertEquals("GET_HTTP2", JavaNames.constantName("getHTTP2"));
  }

  @Test
  void messageClassesHonourJavaOptions() {
    FileDescriptorProto one = FileDescriptorProto.newBuilder().setName("x/one.proto")
        .setPackage("p.q").setOptions(FileOptions.newBuilder().setJavaPackage("com.ex"))
        .addMessageType(message("A", message("B", message("C")))).build();
    FileDescriptorProto multi = FileDescriptorProto.newBuilder().setName("two.proto")
        .setPackage("p.r").setOptions(FileOptions.newBuilder().setJavaMultipleFiles(true))
        .addMessageType(message("D", message("E"))).build();
    FileDescriptorProto bare = FileDescriptorProto.newBuilder().setName("bare.proto")
        .addMessageType(message("F")).build();
    JavaNames names = new JavaNames(List.of(one, multi, bare));
    assertEquals("com.ex.One.A", names.messageClass(".p.q.A"));
    assertEquals("com.ex.One.A.B.C", names.messageClass(".p.q.A.B.C"));
    assertEquals("p.r.D", names.messageClass(".p.r.D"));
    assertEquals("p.r.D.E", names.messageClass(".p.r.D.E"));
    assertEquals("Bare.F", names.messageClass(".F"));
  }

  @Test
  void generatesOneClassPerServiceWithGoDrpcNames() throws Exception {
    FileDescriptorProto f = FileDescriptorProto.newBuilder().setName("svc.proto")
        .setPackage("acme.v1")
        .setOptions(FileOptions.newBuilder().setJavaPackage("com.acme"))
        .addMessageType(message("Req", message("Part")))
        .addService(ServiceDescriptorProto.newBuilder().setName("Shop")
            .addMethod(method("Buy", ".acme.v1.Req", ".acme.v1.Req.Part", false, false))
            .addMethod(method("Watch", ".acme.v1.Req", ".acme.v1.Req", false, true))
            .addMethod(method("Upload", ".acme.v1.Req.Part", ".acme.v1.Req", true, false))
            .addMethod(method("Talk", ".acme.v1.Req", ".acme.v1.Req", true, true)))
        .addService(ServiceDescriptorProto.newBuilder().setName("Other")
            .addMethod(method("Ping", ".acme.v1.Req", ".acme.v1.Req", false, false)))
        .setSourceCodeInfo(SourceCodeInfo.newBuilder().addLocation(SourceCodeInfo.Location
            .newBuilder().addAllPath(List.of(6, 0, 2, 0))
            .setLeadingComments(" Buy a <thing> */ @now\n")))
        .build();
    CodeGeneratorResponse r = run(f);
    assertFalse(r.hasError(), r.getError());
    assertEquals(CodeGeneratorResponse.Feature.FEATURE_PROTO3_OPTIONAL_VALUE,
        r.getSupportedFeatures());
    assertEquals(2, r.getFileCount());
    assertEquals("com/acme/ShopDrpc.java", r.getFile(0).getName());
    assertEquals("com/acme/OtherDrpc.java", r.getFile(1).getName());
    String src = r.getFile(0).getContent();
    assertTrue(src.contains("package com.acme;"), src);
    assertTrue(src.contains("SERVICE_NAME = \"acme.v1.Shop\""), src);
    assertTrue(src.contains("RPC_BUY = \"/acme.v1.Shop/Buy\""), src);
    assertTrue(src.contains("RPC_TALK = \"/acme.v1.Shop/Talk\""), src);
    assertTrue(src.contains("com.acme.Svc.Req.Part buy(com.acme.Svc.Req request)"), src);
    assertTrue(src.contains("ProtoRpc.serverStreamHandler("), src);
    assertTrue(src.contains("ProtoRpc.clientStreamHandler("), src);
    assertTrue(src.contains("ProtoRpc.bidiHandler("), src);
    // the .proto's comment, escaped so it cannot end the Javadoc or start a tag
    assertTrue(src.contains("Buy a &lt;thing&gt; *&#47; &#64;now"), src);
    assertFalse(src.contains("<thing>"), src);
  }

  @Test
  void aFileWithoutPackage() throws Exception {
    FileDescriptorProto f = FileDescriptorProto.newBuilder().setName("bare.proto")
        .addMessageType(message("Ping"))
        .addService(ServiceDescriptorProto.newBuilder().setName("Bare")
            .addMethod(method("Ping", ".Ping", ".Ping", false, false)))
        .build();
    CodeGeneratorResponse r = run(f);
    assertFalse(r.hasError(), r.getError());
    assertEquals("BareDrpc.java", r.getFile(0).getName());
    String src = r.getFile(0).getContent();
    assertFalse(src.contains("package "), src);
    assertTrue(src.contains("RPC_PING = \"/Bare/Ping\""), src);
    assertTrue(src.contains("BareOuterClass.Ping ping(BareOuterClass.Ping request)"), src);
  }

  @Test
  void anUnknownTypeIsAnErrorForProtoc() throws Exception {
    FileDescriptorProto f = FileDescriptorProto.newBuilder().setName("bad.proto")
        .setPackage("p")
        .addService(ServiceDescriptorProto.newBuilder().setName("S")
            .addMethod(method("M", ".p.Missing", ".p.Missing", false, false)))
        .build();
    CodeGeneratorResponse r = run(f);
    assertTrue(r.getError().contains("unknown message type .p.Missing"), r.getError());
    assertEquals(0, r.getFileCount());
  }
}
