#!/usr/bin/env bash
# Installs the Kafka-protocol broker the Kafka tests run against: tansu 0.6.0, with the
# storage engines the tests use (memory:// through dynostore, sqlite:// through libsql;
# tansu's default features store nothing). The build is long on 2 cores, so an installed
# 0.6.0 is reused. Idempotent; prints the binary's path on its last line.
set -euo pipefail

TANSU_VERSION="0.6.0"
bin_dir="${CARGO_HOME:-$HOME/.cargo}/bin"
tansu="$bin_dir/tansu"

if [[ -x "$tansu" ]]; then
    installed="$("$tansu" --version 2>/dev/null || true)"
    case "$installed" in
        *"${TANSU_VERSION}"*)
            echo "tansu ${TANSU_VERSION} already installed (${installed})" >&2
            echo "$tansu"
            exit 0
            ;;
    esac
    echo "found '${installed}', installing tansu ${TANSU_VERSION}" >&2
fi

cargo install --locked tansu --version "${TANSU_VERSION}" --features dynostore,libsql >&2
"$tansu" --version >&2
echo "$tansu"
