#!/usr/bin/env bash
# Relay CPU per REST accept, measured with wrk (Debian's `wrk`), whose load costs the relay's
# machine little. Starts each given jar on its embedded default (H2, outbox) in a fresh directory
# with this checkout's routes/ and application.yml, warms it up for 10 s, then drives
# POST /api/v1/messages for 20 s at 20 connections and prints the requests served and the relay's
# CPU (user + system, from /proc) per request. Jars are run in turn, ROUNDS times (default 3), so
# that two builds can be compared on the same machine:
#
#   ./bench/rest-cpu.sh target/mail-relay-0.1.0-SNAPSHOT.jar other-build.jar
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
ROOT=$(pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer dev-key-change-me"
wrk.body = '{"from":"app@example.com","to":["user@example.net"],"subject":"Hello","text":"Hello there, this is a test."}'
LUA
URL=http://127.0.0.1:8080/api/v1/messages
ticks=$(getconf CLK_TCK)

run() {
    local jar=$1 dir="$WORK/run"
    rm -rf "$dir" && mkdir -p "$dir" && cp -r "$ROOT/routes" "$ROOT/application.yml" "$dir/"
    (cd "$dir" && exec "$JAVA" -Xmx1g -jar "$jar" >relay.log 2>&1) &
    local pid=$!
    for _ in $(seq 1 120); do curl -sf http://127.0.0.1:8080/actuator/health >/dev/null 2>&1 && break; sleep 0.5; done
    wrk -t2 -c20 -d10s -s "$WORK/post.lua" "$URL" >/dev/null
    sleep 2
    local before after out requests
    before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    out=$(wrk -t2 -c20 -d20s -s "$WORK/post.lua" "$URL")
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    printf '%-40s requests %6s  non-2xx %4s  relay CPU %s ms/request\n' "$(basename "$jar")" "$requests" \
        "$(echo "$out" | awk '/Non-2xx/ {print $NF}' | grep . || echo 0)" \
        "$(awk -v t=$((after - before)) -v n="$requests" -v hz="$ticks" 'BEGIN {printf "%.2f", t * 1000 / hz / n}')"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

for _ in $(seq 1 "${ROUNDS:-3}"); do
    for jar in "$@"; do run "$(realpath "$jar")"; done
done
