# Shared by proxy-compare.sh and proxy-syscalls.sh (sourced, not run): the JVM, the ports, a
# scratch directory removed on exit with every process listed in PIDS, the port wait and the
# HAProxy configuration of the comparison (PEERS.md's: nbthread 1, tune.pipesize 1 MiB).
# Expects ROOT to be set. Binds 127.0.0.1 only.
JAR="${JAR:-$ROOT/bench/target/benchmarks.jar}"
JAVA="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
FLAGS=(--enable-native-access=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED)
SINK_PORT=19002
PROXY_PORT=19011
TMP="$(mktemp -d)"
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

wait_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "port $1 did not open" >&2; return 1
}

haproxy_cfg() { # $1 = splice option lines, $2 = extra global line; writes $TMP/haproxy.cfg
  cat > "$TMP/haproxy.cfg" <<CFG
global
    nbthread 1
    maxconn 100
    tune.pipesize 1048576
    $2
defaults
    mode tcp
    $1
    timeout connect 5s
    timeout client 60s
    timeout server 60s
listen fwd
    bind 127.0.0.1:$PROXY_PORT
    server sink 127.0.0.1:$SINK_PORT
CFG
}

start_sink() { # the Java sink of every comparison, on SINK_PORT
  "$JAVA" "${FLAGS[@]}" -cp "$JAR" io.nocopy.bench.pipe.ProxyBench sink $SINK_PORT >"$TMP/sink.out" 2>&1 &
  PIDS+=($!)
  wait_port $SINK_PORT
}
