#!/usr/bin/env bash
# End-to-end TCP proxy on loopback: nocopy (Transfer.proxy on a platform or a virtual thread, two
# Transfer.transfer threads, always splice, the userspace path), HAProxy (splice-auto, forced
# splice, nosplice) and socat (default 8 KiB, -b 1 MiB), with the same Java
# client (1 MiB writes) and sink for all, plus the direct client -> sink line. Prints one table
# row per proxy: throughput and the proxy's CPU seconds per GB (utime+stime from /proc).
# Usage: bench/scripts/proxy-compare.sh [GiB per run, default 4] [runs per proxy, default 3]
#   PROXIES="direct proxy-platform proxy-virtual transfers always userspace haproxy-auto
#            haproxy-splice haproxy-nosplice socat socat-1m"   which rows (default: all)
#   WARMUP_GIB=N   send N GiB through each proxy before its measured runs, not counted (default 0:
#                  the JVM proxy's JIT compilation is part of its CPU figure)
# Installs haproxy and socat with apt-get when they are missing. Binds 127.0.0.1 only.
# nocopy's proxy is io.nocopy.bench.pipe.ProxyBench: Transfer.proxy (both directions of a
# connection on one thread and one epoll set) on a platform or a virtual thread per connection,
# or the older shape, two virtual threads each running one Transfer.transfer.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GIB="${1:-4}"
RUNS="${2:-3}"
WARMUP_GIB="${WARMUP_GIB:-0}"
PROXIES="${PROXIES:-direct proxy-platform proxy-virtual transfers always userspace haproxy-auto haproxy-splice haproxy-nosplice socat socat-1m}"
want() { [[ " $PROXIES " == *" $1 "* ]]; }
BYTES=$((GIB * 1024 * 1024 * 1024))
source "$ROOT/bench/scripts/proxy-common.sh"
need() { command -v "$1" >/dev/null 2>&1; }
if ! need haproxy || ! need socat; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy socat >/dev/null
fi
[ -f "$JAR" ] || { echo "build first: ./nocopy bench or mvn -pl bench -am package" >&2; exit 1; }

cpu_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; } # with reaped children (socat fork)

start_sink

HZ=$(getconf CLK_TCK)
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "1:1 TCP proxy on loopback, $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; $("$JAVA" -version 2>&1 | head -n1);"
echo "$(haproxy -v 2>/dev/null | head -n1 | cut -d' ' -f1-3); $(socat -V 2>/dev/null | grep 'socat version' | cut -d' ' -f1-3);"
echo "command: WARMUP_GIB=$WARMUP_GIB bench/scripts/proxy-compare.sh $GIB $RUNS; same Java client (1 MiB writes) and sink for every row;"
echo "CPU s/GB = the proxy process's utime+stime (/proc) over all runs per 10^9 bytes; load average before: $LOAD_BEFORE"
echo
printf "| proxy | GB/s (median of %s x %s GiB) | proxy CPU s/GB |\n|---|---|---|\n" "$RUNS" "$GIB"

run() { # $1 = name, $2 = port to send to, $3 = proxy pid or 0
  local name="$1" port="$2" pid="$3" rates=() c0 c1 cpu=0
  if [ "$WARMUP_GIB" != 0 ]; then
    "$JAVA" -cp "$JAR" io.nocopy.bench.pipe.ProxyBench client "$port" $((WARMUP_GIB << 30)) 1048576 >/dev/null
  fi
  [ "$pid" != 0 ] && c0=$(cpu_ticks "$pid")
  for _ in $(seq 1 "$RUNS"); do
    rates+=("$("$JAVA" -cp "$JAR" io.nocopy.bench.pipe.ProxyBench client "$port" "$BYTES" 1048576 | awk '{print $3}')")
  done
  if [ "$pid" != 0 ]; then
    c1=$(cpu_ticks "$pid")
    cpu=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v gb="$(awk -v b=$BYTES -v r=$RUNS 'BEGIN{print b*r/1e9}')" \
      'BEGIN{printf "%.3f", t / hz / gb}')
  else
    cpu="–"
  fi
  local med
  med=$(printf "%s\n" "${rates[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  printf "| %s | %s (runs: %s) | %s |\n" "$name" "$med" "${rates[*]}" "$cpu"
}

start_proxy() { # command... ; sets PROXY_PID
  "$@" >"$TMP/proxy.out" 2>&1 &
  PROXY_PID=$!
  PIDS+=($PROXY_PID)
  wait_port $PROXY_PORT
}

stop_proxy() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; sleep 0.3; }

want direct && run "direct (client -> sink)" $SINK_PORT 0

measure() { # key, name, proxy command...: start it, run the client against it, stop it
  local key="$1" name="$2"
  shift 2
  want "$key" || return 0
  start_proxy "$@"
  run "$name" $PROXY_PORT "$PROXY_PID"
  stop_proxy "$PROXY_PID"
}

NOCOPY=("$JAVA" "${FLAGS[@]}")
NOCOPY_PROXY=(-cp "$JAR" io.nocopy.bench.pipe.ProxyBench proxy $PROXY_PORT $SINK_PORT)
measure proxy-platform "nocopy Transfer.proxy (splice, adaptive; one platform thread per connection)" \
  "${NOCOPY[@]}" -Dnocopy.bench.proxyThreads=platform "${NOCOPY_PROXY[@]}"
measure proxy-virtual "nocopy Transfer.proxy (splice, adaptive; one virtual thread per connection)" \
  "${NOCOPY[@]}" "${NOCOPY_PROXY[@]}"
measure transfers "nocopy 2 x Transfer.transfer (splice, adaptive; two virtual threads)" \
  "${NOCOPY[@]}" -Dnocopy.bench.proxyMode=transfers "${NOCOPY_PROXY[@]}"
measure always "nocopy Transfer.proxy (always splice; platform thread)" \
  "${NOCOPY[@]}" -Dnocopy.pipe.adaptive=false -Dnocopy.bench.proxyThreads=platform "${NOCOPY_PROXY[@]}"
measure userspace "nocopy Transfer.proxy (userspace path; platform thread + helper)" \
  "${NOCOPY[@]}" -Dnocopy.pipe.accelerate=false -Dnocopy.bench.proxyThreads=platform "${NOCOPY_PROXY[@]}"

haproxy_cfg "option splice-auto" ""
measure haproxy-auto "HAProxy splice-auto, pipesize 1m" haproxy -db -f "$TMP/haproxy.cfg"
haproxy_cfg $'option splice-request\n    option splice-response' ""
measure haproxy-splice "HAProxy splice-request+response" haproxy -db -f "$TMP/haproxy.cfg"
haproxy_cfg "" "nosplice"
measure haproxy-nosplice "HAProxy nosplice" haproxy -db -f "$TMP/haproxy.cfg"

SOCAT_ARGS=(TCP-LISTEN:$PROXY_PORT,bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:$SINK_PORT)
measure socat "socat (8 KiB buffer)" socat "${SOCAT_ARGS[@]}"
measure socat-1m "socat -b 1048576" socat -b 1048576 "${SOCAT_ARGS[@]}"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
