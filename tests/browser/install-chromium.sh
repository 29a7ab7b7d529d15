#!/usr/bin/env bash
# Chromium for the benchmark and the browser tests: Debian's package (Playwright's own download is not used).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
chromium --version
