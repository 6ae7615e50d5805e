#!/usr/bin/env bash
# Latency at rest: on an idle relay, how long from a REST accept's 202 until the message is
# delivered (its .eml is in the outbox of the embedded default) and until the webhook of that
# delivery is posted (a loopback receiver configured as the dev workspace's webhook).
#
#   ./bench/latency-at-rest.sh [--jar=PATH] [--postgres] [--count=20] [--interval=1] [--warmup=20]
#
#   --jar       the relay's jar (default target/mail-relay-0.1.0-SNAPSHOT.jar; build it with
#               ./mvnw -q -B -DskipTests package)
#   --postgres  the postgres profile, on a throwaway PostgreSQL cluster (initdb of the PostgreSQL
#               on the PATH, durable defaults: fsync and synchronous_commit on) instead of H2
#   --count     messages, sent one at a time (default 20)
#   --interval  seconds between them (default 1), so that each finds the relay idle
#   --warmup    messages sent back to back first, not measured (default 20; 0: a cold relay)
#
# The relay runs from a temporary directory holding copies of routes/ and application.yml (the
# embedded default: H2 in data/, the outbox provider writing data/outbox/<id>.eml), on free
# loopback ports. Each message is timed from its 202 until its .eml appears (the directory is
# looked at every millisecond) and until the receiver got a POST carrying its send event. Prints
# p50 and max of each, the accept's own latency (request to 202), and the relay's CPU time over
# the run (from /proc, idle polling included). Everything started is
# stopped at the end; the temporary directory is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

JAR=target/mail-relay-0.1.0-SNAPSHOT.jar
POSTGRES=false
COUNT=20
INTERVAL=1
WARMUP=20
for arg in "$@"; do
    case "$arg" in
        --jar=*) JAR=${arg#--jar=} ;;
        --postgres) POSTGRES=true ;;
        --count=*) COUNT=${arg#--count=} ;;
        --interval=*) INTERVAL=${arg#--interval=} ;;
        --warmup=*) WARMUP=${arg#--warmup=} ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $arg (--help)" >&2; exit 2 ;;
    esac
done
JAR=$(cd "$(dirname "$JAR")" && pwd)/$(basename "$JAR")
[ -f "$JAR" ] || { echo "no jar at $JAR" >&2; exit 2; }

WORK=$(mktemp -d)
PIDS=()
PGDATA=""
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "$PGDATA" ]; then
        as_postgres pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# PostgreSQL refuses to run as root: the cluster is then the postgres user's.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port); SMTP_PORT=$(free_port); HOOK_PORT=$(free_port)

cp -r "$ROOT/routes" "$ROOT/application.yml" "$WORK/"
cd "$WORK"

# The webhook receiver: one JSON line per POST, its arrival time and the message ids of its events.
cat > receiver.py <<'EOF'
import json, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = open(sys.argv[2], "a", buffering=1)

class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        at = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        events = json.loads(urllib.parse.parse_qs(body).get("mandrill_events", ["[]"])[0])
        log.write(json.dumps({"at": at, "ids": [e.get("_id") for e in events if e.get("event") == "send"]}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
EOF
python3 receiver.py "$HOOK_PORT" hooks.jsonl &
PIDS+=($!)

PROFILE_ARGS=()
if $POSTGRES; then
    PG_PORT=$(free_port)
    PGDATA=$WORK/pgdata
    mkdir -p "$PGDATA"
    [ "$(id -u)" = 0 ] && chown postgres "$WORK" "$PGDATA"
    as_postgres initdb -D "$PGDATA" -U relay --auth=trust >/dev/null
    as_postgres pg_ctl -D "$PGDATA" -o "-p $PG_PORT -k $PGDATA -c listen_addresses=127.0.0.1" -l "$PGDATA/log" -w start >/dev/null
    psql -h 127.0.0.1 -p "$PG_PORT" -U relay -d postgres -qc "create database relay" >/dev/null
    export RELAY_DB_URL="jdbc:postgresql://127.0.0.1:$PG_PORT/relay" RELAY_DB_USER=relay RELAY_DB_PASSWORD=relay
    PROFILE_ARGS=(--spring.profiles.active=postgres)
    cp "$ROOT/application-postgres.yml" "$WORK/"
fi

"${JAVA_HOME:+$JAVA_HOME/bin/}java" -jar "$JAR" --server.port="$HTTP_PORT" --relay.smtp.port="$SMTP_PORT" \
    --relay.workspaces.dev.webhook.url="http://127.0.0.1:$HOOK_PORT/hook" "${PROFILE_ARGS[@]}" > relay.log 2>&1 &
RELAY=$!
PIDS+=($RELAY)

for _ in $(seq 1 600); do
    if curl -sf "http://127.0.0.1:$HTTP_PORT/actuator/health" 2>/dev/null | grep -q '"UP"'; then break; fi
    kill -0 "$RELAY" 2>/dev/null || { tail -30 relay.log >&2; exit 1; }
    sleep 0.1
done
curl -sf "http://127.0.0.1:$HTTP_PORT/actuator/health" | grep -q '"UP"' || { echo "relay not UP" >&2; exit 1; }

python3 - "$HTTP_PORT" "$COUNT" "$INTERVAL" "$RELAY" "$WARMUP" <<'EOF'
import json, os, statistics, sys, time, urllib.request

port, count, interval, relay, warmup = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5])

def cpu_seconds():
    fields = open("/proc/%s/stat" % relay).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

seen, hook_log = {}, open("hooks.jsonl", "a+")
hook_log.seek(0)

def hooks():
    # The receiver's new lines only: each a complete POST.
    while True:
        at = hook_log.tell()
        line = hook_log.readline()
        if not line.endswith("\n"):
            hook_log.seek(at)
            return seen
        post = json.loads(line)
        for id in post["ids"]:
            seen.setdefault(id, post["at"])

def submit(subject):
    body = json.dumps({"from": "app@example.com", "to": ["reader@example.org"],
                       "subject": subject, "text": "Hello."}).encode()
    request = urllib.request.Request("http://127.0.0.1:%d/api/v1/messages" % port, data=body, method="POST",
                                     headers={"Authorization": "Bearer dev-key-change-me",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
        assert response.status == 202, response.status
    return answer["id"]

for i in range(warmup):
    submit("warm-up %d" % i)
time.sleep(3)   # idle again: the warm-up delivered and its webhooks posted, the pollers backed off

accept, delivered, hooked = [], [], []
cpu_before, started = cpu_seconds(), time.time()
for i in range(count):
    sent = time.time()
    id = submit("at rest %d" % i)
    answered = time.time()
    path = os.path.join("data", "outbox", id + ".eml")
    deadline = answered + 10
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.001)
    on_disk = time.time()
    if not os.path.exists(path):
        sys.exit("message %s not delivered within 10 s" % id)
    while id not in hooks() and time.time() < deadline:
        time.sleep(0.001)
    posted = hooks().get(id)
    if posted is None:
        sys.exit("webhook of %s not posted within 10 s" % id)
    accept.append((answered - sent) * 1000)
    delivered.append((on_disk - answered) * 1000)
    hooked.append((posted - answered) * 1000)
    time.sleep(interval)

cpu = cpu_seconds() - cpu_before
elapsed = time.time() - started

def line(name, values):
    print("%-28s p50 %7.1f ms   max %7.1f ms   min %7.1f ms" % (name, statistics.median(values), max(values), min(values)))

print("%d messages, %.1f s apart, after %d warm-up messages" % (count, interval, warmup))
line("accept (request -> 202)", accept)
line("202 -> .eml in the outbox", delivered)
line("202 -> webhook POST", hooked)
line("delivered -> webhook POST", [h - d for h, d in zip(hooked, delivered)])
print("relay CPU %.2f s in %.0f s (%.0f ms a message, idle polling included)" % (cpu, elapsed, cpu * 1000 / count))
EOF
