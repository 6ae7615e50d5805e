#!/usr/bin/env bash
# The plan and time of the workers' claim with 1,000,000 messages queued across workspaces and
# priority levels (bench/claim-plan.sql), on a throwaway local PostgreSQL: initdb in a temporary
# directory, the relay's Flyway migrations (shared and PostgreSQL's own) applied in order with psql, the rows made with
# generate_series. Needs PostgreSQL's initdb, pg_ctl and psql on the PATH; not run in CI.
#
#   ./bench/claim-plan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
as=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$work"
  as=(runuser -u postgres --)
fi
cleanup() { "${as[@]}" pg_ctl -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
"${as[@]}" initdb -D "$work/data" -A trust -U postgres >/dev/null
"${as[@]}" pg_ctl -D "$work/data" -l "$work/log" -w \
  -o "-p $port -k $work -c listen_addresses='' -c shared_buffers=256MB -c work_mem=16MB" start >/dev/null
psql=(psql -X -q -h "$work" -p "$port" -U postgres -d postgres)
# The shared migrations and PostgreSQL's own (db/vendor/postgresql), in version order.
for migration in $(ls src/main/resources/db/migration/V*.sql src/main/resources/db/vendor/postgresql/V*.sql \
                   | awk -F/ '{ v = $NF; sub(/^V/, "", v); sub(/__.*/, "", v); print v, $0 }' | sort -n | cut -d' ' -f2); do
  "${psql[@]}" -v ON_ERROR_STOP=1 -f "$migration" >/dev/null
done
"${psql[@]}" -c "select version()" -t
"${psql[@]}" -f bench/claim-plan.sql
