#!/usr/bin/env bash
# The benchmark, in one command: builds the relay's jar and the benchmark, then runs it. The
# benchmark starts an embedded PostgreSQL and an SMTP sink, launches the relay as a process of its
# own on them (all on loopback), warms it up, drives SMTP load with Postfix's smtp-source and REST
# load with wrk (both from Debian: apt-get install postfix wrk) and prints a table.
# Every phase is bounded by its message count and a deadline; nothing is left running.
#
#   ./bench/run.sh [--option=value ...]        (./bench/run.sh --help lists the options)
#
# The benchmark's sources are bench/src/main (the Maven profile `bench` compiles them into
# target/bench-classes); its class path is theirs plus the project's test dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
echo "building the relay jar and the benchmark (./mvnw -q -B -Pbench -DskipTests package) ..."
./mvnw -q -B -Pbench -DskipTests package
./mvnw -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt

exec "$JAVA" -Xmx1g -cp "target/bench-classes:$(cat target/bench-classpath.txt)" \
    -Dbench.command="./bench/run.sh${*:+ $*}" \
    com.mailrelay.bench.RelayBenchmark "$@"
