"""Debian's Chromium, as the browser tests and the streaming benchmark launch it."""

from __future__ import annotations

import shutil

# Without the networking switches Chromium calls home (updates, sync, safe browsing): only loopback is allowed here.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def installed_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")
