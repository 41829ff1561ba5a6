#!/usr/bin/env bash
# Captures Icecast 2.4's answers to the admin API (stats, listmounts, listclients, killclient,
# killsource, their errors), /metrics' absence and its access and error log lines, with an ffmpeg
# source and curl listeners, into this directory. The relay's admin tests compare against these.
#   relay/src/test/resources/icecast/admin/capture.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PORT=${PORT:-18871}
WORK=$(mktemp -d /tmp/icecast-admin.XXXXXX); chmod 755 "$WORK"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
BASE="http://127.0.0.1:$PORT"; A=(-u admin:hackme-admin)
cat > "$WORK/icecast.xml" <<XML
<icecast><location>capture</location><admin>ops@example.org</admin><hostname>127.0.0.1</hostname>
 <limits><clients>100</clients><sources>4</sources><burst-size>65535</burst-size></limits>
 <authentication><source-password>hackme-source</source-password><admin-user>admin</admin-user>
  <admin-password>hackme-admin</admin-password></authentication>
 <listen-socket><port>$PORT</port><bind-address>127.0.0.1</bind-address></listen-socket>
 <mount type="normal"><mount-name>/hidden.mp3</mount-name><hidden>1</hidden></mount>
 <paths><basedir>/usr/share/icecast2</basedir><logdir>$WORK</logdir>
  <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
 <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>4</loglevel></logging>
 <security><chroot>0</chroot></security></icecast>
XML
chown -R icecast2 "$WORK"
setpriv --reuid=icecast2 --regid=icecast --init-groups icecast2 -c "$WORK/icecast.xml" > "$WORK/server.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null -m 0.5 "$BASE/status-json.xsl" && break; sleep 0.1; done
src() { ffmpeg -hide_banner -loglevel error -re -f lavfi -i "sine=frequency=440:sample_rate=44100" \
  -c:a libmp3lame -b:a 128k -content_type audio/mpeg -ice_name "capture name" -ice_genre Test \
  -f mp3 "icecast://source:hackme-source@127.0.0.1:$PORT$1" < /dev/null > /dev/null 2>&1 & PIDS+=($!); }
save() { local name="$1"; shift; curl -s -i "$@" > "$HERE/$name" || true; }
save stats-empty.txt "${A[@]}" "$BASE/admin/stats"
save listmounts-empty.txt "${A[@]}" "$BASE/admin/listmounts"
src /live.mp3; src /hidden.mp3
for m in /live.mp3 /hidden.mp3; do
  for _ in $(seq 1 100); do [ "$(curl -s -o /dev/null -m 0.5 -w '%{http_code}' "$BASE$m" || true)" = 200 ] && break; sleep 0.1; done
done
sleep 1
curl -s -m 30 -A "capture-listener/1.0" -o /dev/null "$BASE/live.mp3" & PIDS+=($!)
curl -s -m 30 -A "second-listener/2.0" -H 'Referer: http://example.org/player' -o /dev/null "$BASE/live.mp3" & PIDS+=($!)
sleep 2
save stats.txt "${A[@]}" "$BASE/admin/stats"
save stats-mount.txt "${A[@]}" "$BASE/admin/stats?mount=/live.mp3"
save listmounts.txt "${A[@]}" "$BASE/admin/listmounts"
save listclients.txt "${A[@]}" "$BASE/admin/listclients?mount=/live.mp3"
save listclients-no-mount.txt "${A[@]}" "$BASE/admin/listclients"
save listclients-unknown-mount.txt "${A[@]}" "$BASE/admin/listclients?mount=/nothere.mp3"
save killclient-unknown-id.txt "${A[@]}" "$BASE/admin/killclient?mount=/live.mp3&id=999999"
save killclient-bad-id.txt "${A[@]}" "$BASE/admin/killclient?mount=/live.mp3&id=abc"
save killclient-no-id.txt "${A[@]}" "$BASE/admin/killclient?mount=/live.mp3"
ID=$(curl -s "${A[@]}" "$BASE/admin/listclients?mount=/live.mp3" | sed -n 's/.*<ID>\([0-9]*\)<\/ID>.*/\1/p' | head -n1)
echo "$ID" > "$HERE/killclient-id.txt"
save killclient.txt "${A[@]}" "$BASE/admin/killclient?mount=/live.mp3&id=$ID"
sleep 1
save listclients-after-kill.txt "${A[@]}" "$BASE/admin/listclients?mount=/live.mp3"
save killsource-unknown.txt "${A[@]}" "$BASE/admin/killsource?mount=/nothere.mp3"
save killsource-no-mount.txt "${A[@]}" "$BASE/admin/killsource"
save killsource.txt "${A[@]}" "$BASE/admin/killsource?mount=/hidden.mp3"
sleep 1
save listmounts-after-killsource.txt "${A[@]}" "$BASE/admin/listmounts"
save listmounts-plain.txt "${A[@]}" "$BASE/admin/listmounts.xsl"
save stats-wrong-password.txt -u admin:wrong "$BASE/admin/stats"
save metrics.txt "$BASE/metrics"
sleep 1
for p in "${PIDS[@]:1}"; do kill "$p" 2>/dev/null || true; done
sleep 2
cp "$WORK/access.log" "$HERE/access.log"
grep -v 'DBUG' "$WORK/error.log" > "$HERE/error.log" || true
