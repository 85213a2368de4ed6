#!/usr/bin/env bash
# Finds or installs the headless browser the monitoring-page test loads the live query
# page in (tests/tests/monitoring_page.rs): Debian's `chromium` package.
#
# Prints the browser's path as its last line of stdout; everything else goes to stderr.
# Quick when a `chromium` (or `chromium-browser`) is already on PATH; otherwise installs
# the `chromium` package with apt-get (as root, else through sudo), refreshing the
# package lists first when the install cannot find the package.
#
#   export STREAM_CHROMIUM="$(./scripts/install-chromium.sh | tail -n 1)"
set -euo pipefail

found() {
    command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null
}

if ! browser="$(found)"; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install-chromium: no chromium on PATH and no apt-get to install it with" >&2
        exit 1
    fi
    sudo=""
    if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
    install() {
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >&2
    }
    echo "install-chromium: installing Debian's chromium package with apt-get" >&2
    if ! install; then
        echo "install-chromium: the install failed; refreshing the package lists and retrying" >&2
        $sudo apt-get update -qq >&2
        install
    fi
    if ! browser="$(found)"; then
        echo "install-chromium: the chromium package is installed but no chromium is on PATH" >&2
        exit 1
    fi
fi
echo "$browser"
