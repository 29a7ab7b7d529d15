#!/usr/bin/env bash
# PostgreSQL for the tests that run storage, the service and the API against it: Debian's package, where missing.
# tests/fakes/postgres.py starts a throwaway server from it (a temporary folder, a Unix socket, no TCP port).
set -euo pipefail
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
