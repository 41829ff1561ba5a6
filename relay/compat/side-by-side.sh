#!/usr/bin/env bash
# Runs Icecast 2.4 and the nocopy relay, one after the other, from the same icecast.xml
# (icecast.xml.in, filled with a port and a log directory) and sends both the same sequence of
# client requests with the real clients (ffmpeg as the sources, curl as listeners and admin
# scripts). Prints each step's answers side by side after normalising what differs by nature
# (dates, durations, byte counts, listener ids); every remaining difference is listed in the
# README's compatibility table.
#
#   relay/compat/side-by-side.sh            # both servers, the comparison on standard output
#   KEEP=1 relay/compat/side-by-side.sh     # keep the work directory (raw answers, logs)
#
# Needs: icecast2, ffmpeg, curl, python3, setpriv (Icecast refuses to run as root; as root the
# script runs it as the package's icecast2 user).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
for tool in icecast2 ffmpeg curl python3; do
  command -v "$tool" >/dev/null || { echo "side-by-side: $tool is missing (apt-get install icecast2 ffmpeg curl python3)" >&2; exit 2; }
done
PORT=${PORT:-18870}
WORK=$(mktemp -d /tmp/nocopy-side-by-side.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
BASE="http://127.0.0.1:$PORT"
ADMIN=(-u admin:hackme-admin)

# one step's answer: status line, headers and body of a request (curl -i), or what the step prints
step() { # step NAME command...
  local name="$1"; shift
  { "$@" || true; } > "$OUT/$name" 2>&1
}
head_only() { curl -s -D - -o /dev/null -m 1 "$@" || true; }
# background processes set a variable to their pid (not $(...): that would wait for them)
source_to() { # source_to VAR USER:PASS MOUNT LOGFILE
  ffmpeg -hide_banner -loglevel error -re -f lavfi -i "sine=frequency=440:sample_rate=44100" \
    -c:a libmp3lame -b:a 128k -content_type audio/mpeg -ice_name "encoder name" \
    -f mp3 "icecast://$2@127.0.0.1:$PORT$3" < /dev/null > "$4" 2>&1 &
  PIDS+=($!)
  printf -v "$1" %s $!
}
wait_mount() { # wait_mount MOUNT: until the mount answers a listener
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -m 0.5 -w '%{http_code}' "$BASE$1" || true)" = 200 ] && return 0
    sleep 0.1
  done
  echo "mount $1 did not come up" >&2
}
listener() { # listener VAR MOUNT FILE: a background listener saving what it gets
  curl -s -m 60 -o "$3" "$BASE$2" < /dev/null > /dev/null 2>&1 &
  PIDS+=($!)
  printf -v "$1" %s $!
}
first_id() { # the first listener id listclients gives for MOUNT
  curl -s "${ADMIN[@]}" "$BASE/admin/listclients?mount=$1" | sed -n 's/.*<ID>\([0-9]*\)<\/ID>.*/\1/p' | head -n1
}

run_steps() {
  step 01-status-json-no-sources curl -s -i "$BASE/status-json.xsl"
  step 02-source-wrong-password curl -s -i -m 3 -X PUT -u dj:wrong -H 'Content-Type: audio/mpeg' --data-binary @/dev/null "$BASE/live.mp3"
  step 03-source-global-password-on-own-mount curl -s -i -m 3 -X PUT -u source:hackme-source -H 'Content-Type: audio/mpeg' --data-binary @/dev/null "$BASE/live.mp3"
  local live other l1 l2
  source_to live dj:hackme-dj /live.mp3 "$OUT/ffmpeg-live.log"
  source_to other source:hackme-source /fallback.mp3 "$OUT/ffmpeg-fallback.log"
  source_to other source:hackme-source /hidden.mp3 "$OUT/ffmpeg-hidden.log"
  wait_mount /live.mp3; wait_mount /fallback.mp3; wait_mount /hidden.mp3
  step 04-second-source-same-mount curl -s -i -m 3 -X PUT -u dj:hackme-dj -H 'Content-Type: audio/mpeg' --data-binary @/dev/null "$BASE/live.mp3"
  step 05-listener-headers head_only "$BASE/live.mp3"
  step 06-listener-icy-headers head_only -H 'Icy-MetaData: 1' "$BASE/live.mp3"
  listener l1 /live.mp3 "$OUT/l1.mp3"; listener l2 /live.mp3 "$OUT/l2.mp3"; sleep 1
  step 07-listener-beyond-max-listeners head_only "$BASE/live.mp3"
  kill "$l2" 2>/dev/null || true; sleep 1
  step 08-status-json-live curl -s -i "$BASE/status-json.xsl"
  step 09-admin-stats-no-credentials curl -s -i "$BASE/admin/stats"
  step 10-admin-stats curl -s -i "${ADMIN[@]}" "$BASE/admin/stats"
  step 11-admin-listmounts curl -s -i "${ADMIN[@]}" "$BASE/admin/listmounts"
  step 12-admin-listclients curl -s -i "${ADMIN[@]}" "$BASE/admin/listclients?mount=/live.mp3"
  step 13-admin-metadata curl -s -i "${ADMIN[@]}" "$BASE/admin/metadata?mount=/live.mp3&mode=updinfo&song=Side%20Song"
  sleep 0.5
  step 14-status-json-title sh -c "curl -s '$BASE/status-json.xsl' | python3 -c 'import json,sys; s=json.load(sys.stdin)[\"icestats\"][\"source\"]; s=s if isinstance(s,list) else [s]; print([(x[\"listenurl\"].rsplit(\"/\",1)[1], x.get(\"title\")) for x in s])'"
  step 15-admin-streamlist-as-relay-user curl -s -i -u relay:hackme-relay "$BASE/admin/streamlist.txt"
  step 16-admin-killclient-unknown curl -s -i "${ADMIN[@]}" "$BASE/admin/killclient?mount=/live.mp3&id=999999"
  local id; id=$(first_id /live.mp3)
  step 17-admin-killclient curl -s -i "${ADMIN[@]}" "$BASE/admin/killclient?mount=/live.mp3&id=$id"
  sleep 0.5
  listener l1 /live.mp3 "$OUT/l3.mp3"; sleep 1
  step 18-admin-moveclients curl -s -i "${ADMIN[@]}" "$BASE/admin/moveclients?mount=/live.mp3&destination=/fallback.mp3"
  sleep 1
  step 19-after-move-listclients-fallback sh -c "curl -s -u admin:hackme-admin '$BASE/admin/listclients?mount=/fallback.mp3' | grep -o '<Listeners>[0-9]*</Listeners>'"
  kill "$l1" 2>/dev/null || true
  # fallback: the live source leaves while a listener is connected; it must keep receiving
  listener l1 /live.mp3 "$OUT/l4.mp3"; sleep 2
  kill "$live" 2>/dev/null || true; sleep 1
  local before; before=$(stat -c %s "$OUT/l4.mp3")
  sleep 2
  local after; after=$(stat -c %s "$OUT/l4.mp3")
  step 20-fallback-listener-kept sh -c "kill -0 $l1 2>/dev/null && echo 'listener connected: yes' || echo 'listener connected: no'; [ $after -gt $before ] && echo 'still receiving after the source left: yes' || echo 'still receiving after the source left: no'"
  step 21-fallback-listclients sh -c "curl -s -u admin:hackme-admin '$BASE/admin/listclients?mount=/fallback.mp3' | grep -o '<Listeners>[0-9]*</Listeners>'"
  source_to live dj:hackme-dj /live.mp3 "$OUT/ffmpeg-live2.log"; wait_mount /live.mp3; sleep 2
  step 22-fallback-override-back sh -c "curl -s -u admin:hackme-admin '$BASE/admin/listclients?mount=/live.mp3' | grep -o '<Listeners>[0-9]*</Listeners>'"
  kill "$l1" 2>/dev/null || true
  step 23-admin-killsource curl -s -i "${ADMIN[@]}" "$BASE/admin/killsource?mount=/hidden.mp3"
  step 24-admin-killsource-unknown curl -s -i "${ADMIN[@]}" "$BASE/admin/killsource?mount=/nothere.mp3"
  step 25-unknown-mount curl -s -i -m 2 "$BASE/nothere.mp3"
  step 26-admin-unknown-command curl -s -i "${ADMIN[@]}" "$BASE/admin/bogus"
  sleep 1
  step 27-access-log-last-line sh -c "tail -n 1 '$LOGDIR/access.log'"
}

run_server() { # run_server icecast|nocopy
  local which="$1"
  OUT="$WORK/$which"; LOGDIR="$WORK/$which-logs"; mkdir -p "$OUT" "$LOGDIR"
  sed -e "s|@PORT@|$PORT|" -e "s|@LOGDIR@|$LOGDIR|g" "$HERE/icecast.xml.in" > "$WORK/$which.xml"
  chmod 644 "$WORK/$which.xml"
  local pid
  if [ "$which" = icecast ]; then
    if [ "$(id -u)" = 0 ]; then
      chown -R icecast2 "$LOGDIR"
      setpriv --reuid=icecast2 --regid=icecast --init-groups icecast2 -c "$WORK/$which.xml" > "$OUT/server.out" 2>&1 &
    else
      icecast2 -c "$WORK/$which.xml" > "$OUT/server.out" 2>&1 &
    fi
  else
    "$ROOT/nocopy" relay --config "$WORK/$which.xml" --status-interval 0 > "$OUT/server.out" 2>&1 &
  fi
  pid=$!
  PIDS+=($pid)
  for _ in $(seq 1 300); do
    curl -s -o /dev/null -m 0.5 "$BASE/status-json.xsl" && break
    sleep 0.1
  done
  run_steps
  kill "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
  sleep 1
}

run_server icecast
run_server nocopy
python3 "$HERE/side_by_side.py" "$WORK/icecast" "$WORK/nocopy"
