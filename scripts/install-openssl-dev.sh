#!/usr/bin/env bash
# Finds or installs what the Kafka connector's build links for TLS: the system's OpenSSL
# headers and library (Debian's `libssl-dev`, found by `pkg-config`), which rdkafka's
# `ssl` feature builds librdkafka against. Only builds with stream-core's `kafka` feature
# need it (the tests, the Kafka examples); the quickstart does not.
#
# Quick when `pkg-config --exists openssl` already holds; otherwise installs `libssl-dev`
# and `pkg-config` with apt-get (as root, else through sudo), refreshing the package
# lists first when the install cannot find them.
set -euo pipefail

if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists openssl; then
    echo "OpenSSL $(pkg-config --modversion openssl) for the Kafka connector's TLS" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-openssl-dev: no OpenSSL development files and no apt-get to install them with" >&2
    exit 1
fi
sudo=""
if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
install() {
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libssl-dev pkg-config >&2
}
echo "install-openssl-dev: installing Debian's libssl-dev with apt-get" >&2
if ! install; then
    echo "install-openssl-dev: the install failed; refreshing the package lists and retrying" >&2
    $sudo apt-get update -qq >&2
    install
fi
pkg-config --exists openssl
echo "OpenSSL $(pkg-config --modversion openssl) for the Kafka connector's TLS" >&2
