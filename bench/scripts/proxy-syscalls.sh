#!/usr/bin/env bash
# Counts a proxy's system calls, wake-ups and EAGAINs per GB moved, with perf's syscall
# tracepoints (Debian's linux-perf; strace would slow the proxy by orders of magnitude). Same
# Java client (1 MiB writes) and sink as proxy-compare.sh; one proxy per invocation.
# Usage: bench/scripts/proxy-syscalls.sh PROXY [GiB, default 2]
#   PROXY: nocopy (Transfer.proxy, virtual thread) | nocopy-platform | nocopy-always (platform,
#   no adaptive copy) | haproxy-splice | haproxy-auto | haproxy-nosplice
#   extra JVM flags for the nocopy proxy: NOCOPY_JVM="-D..." (e.g. -Dnocopy.bench.proxyMode=transfers)
# Prints perf's counts, then each count per GB and bytes per splice; ss -tmi of the proxy's
# sockets in the middle of the run (socket buffer sizes).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WHICH="${1:?proxy}"
GIB="${2:-2}"
BYTES=$((GIB * 1024 * 1024 * 1024))
source "$ROOT/bench/scripts/proxy-common.sh"
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }

start_sink
NOCOPY=("$JAVA" "${FLAGS[@]}" ${NOCOPY_JVM:-} -cp "$JAR" io.nocopy.bench.pipe.ProxyBench proxy $PROXY_PORT $SINK_PORT)
case "$WHICH" in
  nocopy) CMD=("${NOCOPY[@]}") ;;
  nocopy-platform) CMD=("$JAVA" "${FLAGS[@]}" -Dnocopy.bench.proxyThreads=platform "${NOCOPY[@]:1}") ;;
  nocopy-always) CMD=("$JAVA" "${FLAGS[@]}" -Dnocopy.pipe.adaptive=false -Dnocopy.bench.proxyThreads=platform "${NOCOPY[@]:1}") ;;
  haproxy-splice) haproxy_cfg $'option splice-request\n    option splice-response' ""; CMD=(haproxy -db -f "$TMP/haproxy.cfg") ;;
  haproxy-auto) haproxy_cfg "option splice-auto" ""; CMD=(haproxy -db -f "$TMP/haproxy.cfg") ;;
  haproxy-nosplice) haproxy_cfg "" "nosplice"; CMD=(haproxy -db -f "$TMP/haproxy.cfg") ;;
  *) echo "unknown proxy $WHICH" >&2; exit 2 ;;
esac
"${CMD[@]}" >"$TMP/proxy.out" 2>&1 &
PP=$!
PIDS+=($PP)
wait_port $PROXY_PORT
# warm-up (JIT for the JVM proxy): one 1 GiB run, not counted
"$JAVA" -cp "$JAR" io.nocopy.bench.pipe.ProxyBench client $PROXY_PORT $((1 << 30)) 1048576 >/dev/null

EV=syscalls:sys_enter_splice,syscalls:sys_enter_read,syscalls:sys_enter_write
EV=$EV,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_poll,syscalls:sys_enter_ppoll
EV=$EV,syscalls:sys_enter_futex,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_epoll_ctl
EV=$EV,syscalls:sys_enter_fcntl,syscalls:sys_enter_ioctl,syscalls:sys_enter_sched_yield
EV=$EV,context-switches,cpu-migrations,task-clock
perf stat -x, -p "$PP" -e "$EV" -e syscalls:sys_exit_splice --filter 'ret == -11' \
  -e syscalls:sys_exit_read --filter 'ret == -11' -e syscalls:sys_exit_write --filter 'ret == -11' \
  -o "$TMP/perf.csv" &
PERF=$!
threads() { # per thread name: utime stime (ticks)
  for t in /proc/$PP/task/*; do
    awk '{ s=$0; sub(/^[0-9]+ \(/, "", s); n=s; sub(/\) .*/, "", n); sub(/^.*\) /, "", s); split(s, f, " ");
           gsub(/ /, "_", n); sub(/-[0-9]+$/, "-N", n); sub(/#[0-9]+$/, "#N", n); print n, f[12], f[13] }' "$t/stat" 2>/dev/null
  done | awk '{u[$1]+=$2; s[$1]+=$3} END {for (k in u) print k, u[k], s[k]}' | sort
}
threads > "$TMP/cpu0"
P0=$(awk '{print $14 + $15}' "/proc/$PP/stat")
sleep 0.5
"$JAVA" -cp "$JAR" io.nocopy.bench.pipe.ProxyBench client $PROXY_PORT "$BYTES" 1048576 > "$TMP/client.out" &
CL=$!
sleep 0.6
ss -tmi "( sport = :$PROXY_PORT or dport = :$SINK_PORT )" > "$TMP/ss.txt" 2>&1 || true
wait $CL
threads > "$TMP/cpu1"
P1=$(awk '{print $14 + $15}' "/proc/$PP/stat")
kill -INT $PERF; wait $PERF 2>/dev/null || true
echo "client: $(cat "$TMP/client.out")  (bytes seconds GB/s)   proxy: $WHICH ${NOCOPY_JVM:-}   load: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -F, -v gb="$(awk -v b=$BYTES 'BEGIN{print b/1e9}')" -v bytes=$BYTES '
  /^#/ || NF < 3 { next }
  { name=$3; v=$1; if (name ~ /sys_exit/) name = name " (EAGAIN)";
    if (name ~ /task-clock/) printf "%-45s %14.1f ms  %10.1f ms/GB\n", name, v, v/gb;
    else printf "%-45s %14d  %12.0f /GB\n", name, v, v/gb;
    if (name == "syscalls:sys_enter_splice" && v > 0) sp = v }
  END { if (sp) printf "bytes per splice call (in+out, all calls): %.0f; per successful pair approx: see EAGAIN\n", 2*bytes/sp }' "$TMP/perf.csv"
echo "--- proxy CPU by thread name during the measured run (utime, stime in ms per GB; HZ=$(getconf CLK_TCK))"
join -a2 -e0 -o 0,1.2,1.3,2.2,2.3 "$TMP/cpu0" "$TMP/cpu1" | awk -v hz="$(getconf CLK_TCK)" -v gb="$(awk -v b=$BYTES 'BEGIN{print b/1e9}')" '
  { u=($4-$2)*1000/hz/gb; s=($5-$3)*1000/hz/gb; tu+=u; ts+=s; if (u+s > 0) printf "  %-28s user %7.1f  sys %7.1f\n", $1, u, s }
  END { printf "  %-28s user %7.1f  sys %7.1f  total %7.1f ms/GB\n", "ALL", tu, ts, tu+ts }'
awk -v t=$((P1 - P0)) -v hz="$(getconf CLK_TCK)" -v b=$BYTES \
  'BEGIN { printf "  process utime+stime (also threads that ended): %.1f ms/GB\n", t * 1000 / hz / (b / 1e9) }'
echo "--- ss -tmi (0.6 s into the run)"
cat "$TMP/ss.txt"
