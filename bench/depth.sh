#!/usr/bin/env bash
# The queue at depth: REST accepts with an empty queue and with DEPTH messages queued, and the
# plan of the workers' claim query at that depth. The relay on embedded PostgreSQL, workers off.
#
#   ./bench/depth.sh [depth=1000000] [clients=20] [requests-per-client=250] [bytes=2048]
set -euo pipefail
cd "$(dirname "$0")/.."
# The benchmark's sources are bench/src/main, compiled by the Maven profile `bench`.
./mvnw -q -B -Pbench test-compile
exec ./mvnw -q -B exec:java@queue-depth -Dexec.args="$*"
