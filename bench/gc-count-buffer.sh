#!/usr/bin/env bash
# The seed's metric for the buffer scenarios: ns/op, B/op and GC runs for a fixed number of
# operations, one fresh JVM per contestant (see io.nocopy.bench.buffer.GcCount).
# Usage: bench/gc-count-buffer.sh [ops]   (after ./nocopy bench or mvn -pl bench -am package)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAVA="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
JAR="$ROOT/bench/target/benchmarks.jar"
OPS="${1:-2000000}"
FLAGS=(-Xms1g -Xmx1g --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
  -Dio.netty.leakDetection.level=disabled -Dio.netty.allocator.useCacheForAllThreads=true)
run() { "$JAVA" "${FLAGS[@]}" -cp "$JAR" io.nocopy.bench.buffer.GcCount "$OPS" "$1" 2>/dev/null | tail -n 1; }
for s in ConcurrentNetworkRead ProtocolParsing HighFrequencyReads GCPressure; do
  for c in seedBufio fairBufio nocopy netty okio memcpyFloor; do run "$s.$c"; done
done
for c in seedBufio fairBufio nocopyRange nocopySlice nocopySliceWrite nocopyWriters netty okio memcpyFloor; do
  run "StreamingServer.$c"
done
