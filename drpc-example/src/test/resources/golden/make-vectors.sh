#!/bin/sh
# Regenerates the golden message bytes with protoc's own encoder (the bytes protoc-gen-go's
# messages marshal to: protobuf's deterministic encoding in field-number order). Run from this
# directory; made with libprotoc 3.21.12 (Debian's protobuf-compiler).
set -e
proto=../../../main/proto
for t in *.txtpb; do
  protoc --proto_path="$proto" --encode=nocopy.example.EchoMessage echo.proto < "$t" > "${t%.txtpb}.bin"
done
