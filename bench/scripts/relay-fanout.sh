#!/usr/bin/env bash
# Relay fan-out benchmark: the same load (io.nocopy.loadgen.PeerLoad: one synthetic source,
# N listeners that verify every byte and measure delivery latency) against each relay in turn on
# loopback: nocopy (splice), nocopy (userspace), Icecast 2.4, and the Netty baseline
# (io.nocopy.bench.relay.NettyRelay). Each run gets a fresh relay process; the load generator is a
# separate JVM. Relay CPU and peak RSS come from /proc/<pid>; allocation and GC from the JVM relays'
# /admin/nocopy-stats.json (Icecast: n/a). Prints a Markdown table at the end.
# Then, in the same invocation, the 1:1 TCP proxy comparison of the pipe issue
# (bench/scripts/proxy-compare.sh: nocopy Transfer vs HAProxy splice-auto, forced splice and
# nosplice, and socat; same client and sink for all), whose table follows the fan-out table.
#
# Settings (environment variables):
#   PARTS="fanout proxy"                    what to run (default both; PARTS=fanout or PARTS=proxy
#                                           for a quick run of one part)
#   PROXY_GIB=4 PROXY_RUNS=3                proxy comparison: GiB per run, runs per proxy
#                                           (proxy-compare.sh's PROXIES= and WARMUP_GIB= pass through)
#   PEERS="splice userspace userspace-uring floor floor-uring icecast netty"
#                                           which relays ("floor-uring" only where liburing's header is
#                                           installed): "userspace-uring" is nocopy userspace with
#                                           --io-uring on ("userspace": off); "floor":
#                                           bench/floor/floor-relay.c, the smallest relay of this shape
#                                           (one send per listener per source read), built with cc, with
#                                           the class's coalescing window; "floor-uring": the same with
#                                           each read's sends submitted as one io_uring batch (needs
#                                           liburing-dev)
#   SCENARIOS="100@2mbit 10@50mbit 500@2mbit 10@max"   listeners@rate-per-source ("max": an unpaced
#                                           source); SCENARIOS=scale is "1000@128k 2000@128k 1000@64k
#                                           10000@128k", SCENARIOS=latency the default
#   CLASSES="default 0"                     latency classes of nocopy and the floor: "default" (the
#                                           relay's default flags; the floor gets the window auto
#                                           coalescing chooses for the rate), N: --coalesce-ms N
#   ICY_SHARES="0"                          fractions of the listeners that ask for ICY metadata
#                                           (Icy-MetaData: 1, as players do; PeerLoad --icy-share):
#                                           "0 0.25" runs every scenario, relay and class twice,
#                                           without and with a quarter of ICY listeners, and adds a
#                                           table of the CPU per GB with and without
#   SECONDS_PER_RUN=12 WARMUP=3             measured window and warm-up per run
#   CROWD_THREADS=2                         the load generator's selector threads
#   CONNECT_RATE=1000 ICECAST_CONNECT_RATE=100   listeners connected per second (Icecast's listen
#                                           backlog is 5 and it answers a listener on its next source
#                                           read: it is given fewer at a time)
#   QUEUE=4194304                           per-listener backlog limit, the same for every relay
#                                           (nocopy --queue-size, Icecast queue-size, Netty high-water mark)
#   NOCOPY_FLAGS="--coalesce-ms 0"          more flags for the nocopy relay (shown in its name)
#   RELAY_JVM_OPTS="..."                    more JVM options for the JVM relays (e.g. a flight recording)
#   RESULTS=FILE                            also write the table there
#   ROWS_OUT=FILE                           also keep the raw rows (tab-separated) there
#   CHART=FILE.png                          also draw the runs without ICY listeners (FanoutChart):
#                                           relay CPU s/GB per scenario, one panel per latency class
#                                           (Icecast and Netty in each), delivered MB/s flat out, and
#                                           CPU s/GB at radio bitrates; to redraw from a ROWS_OUT file:
#                                           java -cp bench/target/benchmarks.jar \
#                                             io.nocopy.bench.relay.FanoutChart ROWS.tsv OUT.png
# Needs root (or sudo) only to install icecast2 when it is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PARTS="${PARTS:-fanout proxy}"
PROXY_GIB="${PROXY_GIB:-4}"
PROXY_RUNS="${PROXY_RUNS:-3}"
part() { [[ " $PARTS " == *" $1 "* ]]; }
DEFAULT_PEERS="splice userspace userspace-uring floor icecast netty"
[ -e /usr/include/liburing.h ] && DEFAULT_PEERS="splice userspace userspace-uring floor floor-uring icecast netty"
PEERS="${PEERS:-$DEFAULT_PEERS}"
SCENARIOS="${SCENARIOS:-latency}"
case "$SCENARIOS" in
  latency) SCENARIOS="100@2mbit 10@50mbit 500@2mbit 10@max" ;;
  scale) SCENARIOS="1000@128k 2000@128k 1000@64k 10000@128k" ;;
esac
CLASSES="${CLASSES:-default 0}"
ICY_SHARES="${ICY_SHARES:-0}"
CROWD_THREADS="${CROWD_THREADS:-2}"
CONNECT_RATE="${CONNECT_RATE:-1000}"
ICECAST_CONNECT_RATE="${ICECAST_CONNECT_RATE:-100}"
# thousands of listeners: every relay and the load generator need descriptors, nocopy with io_uring
# two per listener (the socket and its writer's duplicate); the hard limit here is 20,000, so
# 10,000 listeners run with splice or --io-uring off
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
SECONDS_PER_RUN="${SECONDS_PER_RUN:-12}"
WARMUP="${WARMUP:-3}"
QUEUE="${QUEUE:-4194304}"
PASSWORD="bench$$"
MOUNT=/bench.mp3
WORK="$(mktemp -d /tmp/relay-fanout.XXXXXX)"
chmod 755 "$WORK" # Icecast runs as its own user and must read its config here
ROWS="$WORK/rows.tsv"
: > "$ROWS"

die() { echo "relay-fanout: $*" >&2; exit 1; }

# --- a JDK >= 25 -------------------------------------------------------------------------------
find_jdk() {
  local h
  for h in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [ -n "$h" ] && [ -x "$h/bin/javac" ] || continue
    if "$h/bin/java" -version 2>&1 | grep -Eq 'version "(2[5-9]|[3-9][0-9])'; then echo "$h"; return; fi
  done
}
JDK="$(find_jdk)"
[ -n "$JDK" ] || die "no JDK >= 25 found (set JAVA_HOME)"
export JAVA_HOME="$JDK"
JAVA="$JDK/bin/java"

# --- peers -------------------------------------------------------------------------------------
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if part fanout && [[ " $PEERS " == *" icecast "* ]] && ! command -v icecast2 >/dev/null 2>&1; then
  echo "relay-fanout: installing icecast2 (apt-get)..."
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y icecast2 >/dev/null \
    || { as_root apt-get update >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y icecast2 >/dev/null; }
fi

# --- build (package, never install) ------------------------------------------------------------
echo "relay-fanout: building core, relay, loadgen, bench..."
MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" \
  mvn -B -q -f "$ROOT/pom.xml" -DskipTests -pl core,relay,loadgen,bench -am package >/dev/null
jar_of() { ls "$ROOT/$1"/target/nocopy-"$1"-*.jar | grep -v -e sources -e javadoc | head -n1; }
RELAY_CP="$(jar_of core):$(jar_of relay)"
LOAD_CP="$RELAY_CP:$(jar_of loadgen)"
BENCH_JAR="$ROOT/bench/target/benchmarks.jar"
# the relay JVMs get ./nocopy relay's flags; the Netty baseline the same heap and collector
RELAY_JVM=(--enable-native-access=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  -XX:+UseSerialGC -Xms64m -Xmx256m)
# RELAY_JVM_OPTS="-XX:StartFlightRecording=filename=/tmp/r.jfr,settings=profile": more options for
# the JVM relays (a recording, a profiler agent), split on spaces
read -r -a EXTRA_JVM <<<"${RELAY_JVM_OPTS:-}"
RELAY_JVM+=("${EXTRA_JVM[@]}")

PEER_PID=""
cleanup() {
  if [ -n "$PEER_PID" ] && kill -0 "$PEER_PID" 2>/dev/null; then kill "$PEER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_port() { # port pid
  local i
  for i in $(seq 1 150); do
    kill -0 "$2" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

icecast_config() { # port logdir listeners
  cat <<XML
<icecast><location>bench</location><admin>root@localhost</admin>
 <limits><clients>$(( $3 + 50 ))</clients><sources>2</sources><queue-size>$QUEUE</queue-size>
  <client-timeout>30</client-timeout><header-timeout>15</header-timeout><source-timeout>10</source-timeout>
  <burst-on-connect>1</burst-on-connect><burst-size>65535</burst-size></limits>
 <authentication><source-password>$PASSWORD</source-password><admin-user>admin</admin-user>
  <admin-password>admin$PASSWORD</admin-password></authentication>
 <hostname>127.0.0.1</hostname>
 <listen-socket><port>$1</port><bind-address>127.0.0.1</bind-address></listen-socket>
 <fileserve>1</fileserve>
 <paths><basedir>/usr/share/icecast2</basedir><logdir>$2</logdir>
  <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
 <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
 <security><chroot>0</chroot></security></icecast>
XML
}

# the window --coalesce-ms auto chooses for a rate: 16 KiB at the rate, 50..125 ms (250 ms ceiling)
auto_window() { # rate -> ms
  local bits
  case "$1" in
    max) echo 50; return ;;
    *[kK]*) bits=$(( ${1%%[kK]*} * 1000 )) ;;
    *[mM]*) bits=$(( ${1%%[mM]*} * 1000000 )) ;;
    *) bits=$1 ;;
  esac
  local ms=$(( 16384 * 8 * 1000 / bits ))
  (( ms < 50 )) && ms=50
  (( ms > 125 )) && ms=125
  echo "$ms"
}

start_peer() { # peer port listeners class rate -> sets PEER_PID, STATS_ARGS, PEER_NAME, CONNECT_ARGS
  local peer=$1 port=$2 n=$3 class=$4 rate=$5 log="$WORK/$1-$2.log"
  local class_flags=()
  [ "$class" = default ] || class_flags=(--coalesce-ms "$class")
  STATS_ARGS=(--stats-path /admin/nocopy-stats.json --admin-password "admin$PASSWORD")
  CONNECT_ARGS=(--connect-rate "$CONNECT_RATE")
  case "$peer" in
    splice|userspace|userspace-uring)
      PEER_NAME="nocopy $peer${NOCOPY_FLAGS:+ ($NOCOPY_FLAGS)}"
      local uring=(--io-uring off) # the relay's default is auto: plain userspace says off
      [[ "$peer" == *-uring ]] && uring=(--io-uring on)
      "$JAVA" "${RELAY_JVM[@]}" -cp "$RELAY_CP" io.nocopy.relay.RelayMain --listen "127.0.0.1:$port" \
        --source-password "$PASSWORD" --admin-password "admin$PASSWORD" --engine "${peer%-uring}" "${uring[@]}" \
        --status-interval 0 --queue-size "$QUEUE" --max-connections $(( n + 100 )) --max-pending-per-ip 1000 \
        --max-listeners $(( n + 50 )) --max-listeners-per-ip $(( n + 50 )) "${class_flags[@]}" \
        ${NOCOPY_FLAGS:-} >"$log" 2>&1 &
      PEER_PID=$! ;;
    netty)
      PEER_NAME="Netty baseline"
      "$JAVA" "${RELAY_JVM[@]}" -cp "$BENCH_JAR" io.nocopy.bench.relay.NettyRelay "127.0.0.1:$port" "$PASSWORD" "$QUEUE" \
        >"$log" 2>&1 &
      PEER_PID=$! ;;
    floor|floor-uring)
      local coalesce binary="$WORK/$peer" cflags=()
      if [ "$class" = default ]; then coalesce=$(auto_window "$rate"); else coalesce=$class; fi
      PEER_NAME="floor (C, ${coalesce} ms window)"
      if [ "$peer" = floor-uring ]; then
        PEER_NAME="floor, io_uring sends (C, ${coalesce} ms window)"
        cflags=(-DFLOOR_URING -luring)
      fi
      STATS_ARGS=()
      [ -x "$binary" ] || cc -O2 -o "$binary" "$ROOT/bench/floor/floor-relay.c" "${cflags[@]}" \
        || die "cannot build bench/floor/floor-relay.c (a C compiler, and liburing-dev for floor-uring)"
      "$binary" 127.0.0.1 "$port" "$coalesce" >"$log" 2>&1 &
      PEER_PID=$! ;;
    icecast)
      PEER_NAME="Icecast $(dpkg-query -W -f '${Version}' icecast2 2>/dev/null | cut -d- -f1)"
      STATS_ARGS=()
      CONNECT_ARGS=(--connect-rate "$ICECAST_CONNECT_RATE" --connect-pending 64)
      local dir="$WORK/icecast-$port"
      mkdir -p "$dir"
      icecast_config "$port" "$dir" "$n" > "$dir/icecast.xml"
      if [ "$(id -u)" = 0 ]; then # Icecast refuses to run as root
        chown -R icecast2:icecast "$dir"
        setpriv --reuid=icecast2 --regid=icecast --init-groups icecast2 -c "$dir/icecast.xml" >"$log" 2>&1 &
      else
        icecast2 -c "$dir/icecast.xml" >"$log" 2>&1 &
      fi
      PEER_PID=$! ;;
    *) die "unknown peer '$peer' (splice, userspace, userspace-uring, icecast, netty, floor, floor-uring)" ;;
  esac
  wait_port "$port" "$PEER_PID" || { cat "$log" >&2; die "$peer did not start on port $port"; }
}

stop_peer() {
  kill "$PEER_PID" 2>/dev/null || true
  wait "$PEER_PID" 2>/dev/null || true
  PEER_PID=""
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
STARTED="$(date -u '+%Y-%m-%d %H:%M UTC')"
port=$(( 20000 + RANDOM % 20000 ))
part fanout || SCENARIOS=""
for scenario in $SCENARIOS; do
  n=${scenario%@*}
  rate=${scenario#*@}
  for share in $ICY_SHARES; do
  for peer in $PEERS; do
    classes=default
    case "$peer" in splice|userspace|userspace-uring|floor|floor-uring) classes=$CLASSES ;; esac
    for class in $classes; do
      port=$(( port + 1 ))
      start_peer "$peer" "$port" "$n" "$class" "$rate"
      echo "== $PEER_NAME, class $class: 1 source x $n listeners at $rate, ICY share $share (pid $PEER_PID, port $port) =="
      set +e
      "$JAVA" -XX:+UseSerialGC -Xmx1g -cp "$LOAD_CP" io.nocopy.loadgen.PeerLoad --target "127.0.0.1:$port" \
        --pid "$PEER_PID" --password "$PASSWORD" --mount "$MOUNT" --listeners "$n" --rate "$rate" \
        --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" --name "$PEER_NAME" --threads "$CROWD_THREADS" \
        --icy-share "$share" "${CONNECT_ARGS[@]}" "${STATS_ARGS[@]}" | tee "$WORK/out"
      set -e
      grep '^ROW' "$WORK/out" | cut -f2- | sed "s/^/$class\t/" >> "$ROWS" || true
      stop_peer
    done
  done
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- the table -----------------------------------------------------------------------------------
table() {
  echo "Relay fan-out, 1 source, loopback, $STARTED; $(nproc) cores; $("$JAVA" -version 2>&1 | head -n1);"
  echo "load average before $LOAD_BEFORE, after $LOAD_AFTER; ${WARMUP} s warm-up + ${SECONDS_PER_RUN} s measured per run;"
  echo "per-listener queue limit $QUEUE bytes for every relay. CPU s/GB = relay CPU seconds per delivered 10^9 bytes;"
  echo "x Icecast, x floor = this row's CPU s/GB over theirs in the same scenario with as many ICY listeners (the floor of the same class)."
  echo "Class: default = the relay's default flags (auto coalescing; the floor with the window it picks), 0 = --coalesce-ms 0."
  echo
  echo "| relay | class | listeners | ICY listeners | rate | delivered MB/s | relay CPU s/GB | p50 ms | p99 ms | x Icecast | x floor | relay CPU % | load gen CPU % | GCs | integrity | first problem |"
  echo "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
  # rows: class, then PeerLoad's ROW fields: name, listeners, rate, MB/s, Mbit/s per listener,
  # CPU s/GB, relay CPU %, peak RSS, GCs, allocated, p50, p99, integrity, notes, ICY listeners,
  # titles, load gen CPU %; Icecast and the floor are compared with the same ICY listeners
  awk -F'\t' '
    NR == FNR {
      if ($7 != "-" && $2 ~ /^Icecast/) ice[$3 "@" $4 "@" $16] = $7
      if ($7 != "-" && $2 ~ /^floor/ && $2 !~ /io_uring/) fl[$1 "@" $3 "@" $4 "@" $16] = $7
      next
    }
    {
      x = "-"; y = "-"; k = $3 "@" $4 "@" $16
      if ($7 != "-" && k in ice && ice[k] > 0) x = sprintf("%.2f", $7 / ice[k])
      if ($7 != "-" && ($1 "@" k) in fl && fl[$1 "@" k] > 0) y = sprintf("%.2f", $7 / fl[$1 "@" k])
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $1, $3, ($16 == "" ? "0" : $16), $4, $5, $7, $12, $13, x, y, $8, ($18 == "" ? "-" : $18), $10, $14, $15
    }' "$ROWS" "$ROWS"
  echo
  if [ "$ICY_SHARES" != "0" ]; then
    # each relay, class and scenario without ICY listeners against the same with them: CPU per GB
    echo "ICY listeners in the mix (titles set once a second; every ICY listener must see them change):"
    echo
    echo "| relay | class | listeners | rate | CPU s/GB, no ICY | ICY listeners | CPU s/GB with them | with / without | titles |"
    echo "|---|---|---:|---|---:|---:|---:|---:|---|"
    awk -F'\t' '
      { key = $2 SUBSEP $1 SUBSEP $3 SUBSEP $4 }
      $16 == "" || $16 == "0" { base[key] = $7; next }
      { order[++n] = key; icy[n] = $16; cpu[n] = $7; titles[n] = $17 }
      END {
        for (i = 1; i <= n; i++) {
          k = order[i]; split(k, p, SUBSEP); b = (k in base) ? base[k] : "-"
          r = (b != "-" && b + 0 > 0 && cpu[i] != "-") ? sprintf("%.2fx", cpu[i] / b) : "-"
          printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", p[1], p[2], p[3], p[4], b, icy[i], cpu[i], r, titles[i]
        }
      }' "$ROWS"
    echo
  fi
}
: > "$WORK/tables.md"
if part fanout; then
  echo
  table | tee -a "$WORK/tables.md"
  if [ -n "${ROWS_OUT:-}" ]; then cp "$ROWS" "$ROWS_OUT"; fi
  if [ -n "${CHART:-}" ]; then # the chart reads the rows as ROWS_OUT keeps them (class column first)
    "$JAVA" -Djava.awt.headless=true -cp "$BENCH_JAR" io.nocopy.bench.relay.FanoutChart "$ROWS" "$CHART" \
      || echo "relay-fanout: no chart drawn (no measured run without ICY listeners?)" >&2
  fi
fi

# --- the 1:1 proxy comparison (the pipe issue's), same invocation -------------------------------
if part proxy; then
  echo
  echo "== 1:1 TCP proxy: nocopy Transfer vs HAProxy (splice-auto, forced splice, nosplice) and socat =="
  {
    echo
    JAR="$BENCH_JAR" "$ROOT/bench/scripts/proxy-compare.sh" "$PROXY_GIB" "$PROXY_RUNS"
  } | tee -a "$WORK/tables.md"
fi
if [ -n "${RESULTS:-}" ]; then cp "$WORK/tables.md" "$RESULTS"; fi
