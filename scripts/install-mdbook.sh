#!/usr/bin/env bash
# Installs the mdBook version the book is built with (0.5.4), unless it is already
# installed. Idempotent: running it again is a no-op.
set -euo pipefail

MDBOOK_VERSION="0.5.4"

if command -v mdbook >/dev/null 2>&1; then
    installed="$(mdbook --version 2>/dev/null || true)"
    case "$installed" in
        *" v${MDBOOK_VERSION}" | *" ${MDBOOK_VERSION}")
            echo "mdbook ${MDBOOK_VERSION} already installed (${installed})"
            exit 0
            ;;
    esac
    echo "found '${installed}', installing mdbook ${MDBOOK_VERSION}"
fi

cargo install mdbook --locked --version "${MDBOOK_VERSION}" \
    --no-default-features --features search

mdbook --version
