#!/usr/bin/env bash
# Makes a Python virtualenv with the independent readers that the sink tests compare
# our output with: `deltalake` (the delta-rs Python package, a Delta reader that is not
# our code) and `pyarrow` (Parquet and datasets), both from PyPI; and
# `prometheus_client`, the Prometheus project's Python client, whose parser reads our
# `/metrics` in the monitoring test.
#
# Prints the venv's python path as its last line of stdout; everything else goes to
# stderr. Idempotent and quick when the venv already imports both packages at the
# pinned versions. The venv lives in `$STREAM_PYTHON_VENV` if set, else under
# `${XDG_CACHE_HOME:-$HOME/.cache}/sparkling-streams/`, so it survives `cargo clean`.
#
#   export STREAM_PYTHON="$(./scripts/install-python-readers.sh | tail -n 1)"
set -euo pipefail

DELTALAKE_VERSION="1.6.6"
PYARROW_VERSION="26.0.1"
PROMETHEUS_CLIENT_VERSION="0.23.1"

venv="${STREAM_PYTHON_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sparkling-streams/python-readers}"
python="$venv/bin/python"

installed() {
    [[ -x "$python" ]] && "$python" - "$DELTALAKE_VERSION" "$PYARROW_VERSION" "$PROMETHEUS_CLIENT_VERSION" <<'EOF' >/dev/null 2>&1
import sys
import deltalake, pyarrow, pyarrow.dataset, pyarrow.parquet, prometheus_client.openmetrics.parser
from importlib.metadata import version
found = (version("deltalake"), version("pyarrow"), version("prometheus_client"))
sys.exit(0 if found == tuple(sys.argv[1:4]) else 1)
EOF
}

# python3 with its venv module, from the system's packages when they are missing (a
# fresh Debian has python3 without `ensurepip`).
ensure_python() {
    if command -v python3 >/dev/null 2>&1 && python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        return
    fi
    if command -v apt-get >/dev/null 2>&1; then
        local sudo=""
        if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
        echo "install-python-readers: installing python3 and python3-venv with apt-get" >&2
        $sudo apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3 python3-venv >&2
    fi
}

if ! installed; then
    ensure_python
    base="$(command -v python3 || true)"
    if [[ -z "$base" ]]; then
        echo "install-python-readers: no python3 on PATH, and none could be installed" >&2
        exit 1
    fi
    echo "install-python-readers: making $venv with deltalake $DELTALAKE_VERSION, pyarrow $PYARROW_VERSION and prometheus_client $PROMETHEUS_CLIENT_VERSION" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$base" -m venv "$venv" >&2
    "$python" -m pip install --quiet --disable-pip-version-check --no-input \
        "deltalake==$DELTALAKE_VERSION" "pyarrow==$PYARROW_VERSION" \
        "prometheus_client==$PROMETHEUS_CLIENT_VERSION" >&2
    if ! installed; then
        echo "install-python-readers: $python cannot import deltalake, pyarrow and prometheus_client after the install" >&2
        exit 1
    fi
fi
echo "$python"
