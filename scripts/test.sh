#!/usr/bin/env bash
# The one test command (README.md's, and what .ci/run calls): installs what the tests
# need where it is missing, reusing what is installed or cached, then runs every test.
#
#   - the Python readers the sink tests compare our Parquet and Delta output with
#     (scripts/install-python-readers.sh: a cached venv), found through STREAM_PYTHON;
#   - Apache Kafka, the broker the Kafka tests start (scripts/install-kafka.sh: its jars,
#     resolved by Maven into a cache folder, then reused; it runs on the machine's
#     Java 17), found through STREAM_KAFKA;
#   - the headless browser the monitoring-page test loads the live query page in
#     (scripts/install-chromium.sh: Debian's chromium package, installed with apt-get
#     when no chromium is on PATH), found through STREAM_CHROMIUM.
#
# and, where they are missing, the OpenSSL development files the Kafka connector's TLS is
# built against (scripts/install-openssl-dev.sh: Debian's libssl-dev).
#
# Then the end-to-end suites (the `tests` package: every stateful, crash, SIGKILL,
# restart and golden test) run a second time on the disk state store
# (STREAM_STATE_STORE=disk), so that both stores pass them.
#
# A STREAM_PYTHON, STREAM_KAFKA or STREAM_CHROMIUM already set is used as it is.
# Arguments go to `cargo test --workspace` (`./scripts/test.sh -p stream-core` adds a
# package filter); with arguments the second run is left out. A bare
# `cargo test --workspace` still works: it skips those comparisons, saying so.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# the Kafka connector's TLS links the system's OpenSSL: its development files
./scripts/install-openssl-dev.sh

if [[ -z "${STREAM_PYTHON:-}" ]]; then
    echo "==> the Python readers for the sink tests" >&2
    STREAM_PYTHON="$(./scripts/install-python-readers.sh | tail -n 1)"
    export STREAM_PYTHON
fi
echo "STREAM_PYTHON=$STREAM_PYTHON" >&2

if [[ -z "${STREAM_KAFKA:-}" ]]; then
    echo "==> the Kafka broker for the Kafka tests (Apache Kafka)" >&2
    STREAM_KAFKA="$(./scripts/install-kafka.sh | tail -n 1)"
    export STREAM_KAFKA
fi
echo "STREAM_KAFKA=$STREAM_KAFKA" >&2

if [[ -z "${STREAM_CHROMIUM:-}" ]]; then
    echo "==> the headless browser for the monitoring-page test (chromium)" >&2
    STREAM_CHROMIUM="$(./scripts/install-chromium.sh | tail -n 1)"
    export STREAM_CHROMIUM
fi
echo "STREAM_CHROMIUM=$STREAM_CHROMIUM" >&2

echo "==> cargo test --workspace $*" >&2
cargo test --workspace "$@"

if [[ $# -eq 0 ]]; then
    # every end-to-end suite of tests/ but the UI cases and the quickstart's dependency
    # tree (which do not depend on the store), named one by one so that cargo reuses the
    # workspace's build instead of building the tests package with its own features
    suites=()
    for file in tests/tests/*.rs; do
        name="$(basename "$file" .rs)"
        [[ "$name" == ui || "$name" == quickstart_build ]] && continue
        suites+=(--test "$name")
    done
    echo "==> STREAM_STATE_STORE=disk: the $(( ${#suites[@]} / 2 )) end-to-end suites of tests/ on the disk store" >&2
    STREAM_STATE_STORE=disk cargo test --workspace "${suites[@]}"
fi
