#!/usr/bin/env bash
# Installs the broker the Kafka tests run against: Apache Kafka (the kafka_2.13 artifact
# of scripts/kafka/pom.xml, with its runtime dependencies) as a folder of jars, resolved
# by Maven into a cache folder and reused when present. It runs on the machine's Java
# (17 or newer), in KRaft mode: the tests format a storage folder and start one process
# that is broker and controller (tests/kafka/src/lib.rs). Idempotent; prints the jar
# folder on its last line (the tests find it through STREAM_KAFKA).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

pom="scripts/kafka/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
cache="${STREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparkling-streams}"
libs="$cache/kafka-$version/libs"

if ! command -v java >/dev/null 2>&1; then
    echo "install-kafka.sh: no java on PATH; Apache Kafka $version needs Java 17 or newer" >&2
    exit 1
fi

# `complete` is written last, so a folder without it is an interrupted copy
if [[ -f "$libs/../complete" ]]; then
    echo "Apache Kafka $version already in $libs" >&2
    echo "$libs"
    exit 0
fi

if ! command -v mvn >/dev/null 2>&1; then
    echo "install-kafka.sh: no mvn on PATH; it resolves Apache Kafka $version from the Maven registry" >&2
    exit 1
fi
echo "resolving Apache Kafka $version into $libs" >&2
rm -rf "$libs"
mkdir -p "$libs"
mvn -q -B -f "$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" >&2
ls "$libs"/kafka_2.13-"$version".jar >/dev/null
touch "$libs/../complete"
echo "$(ls "$libs" | wc -l) jars" >&2
echo "$libs"
