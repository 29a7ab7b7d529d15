"""CPU time of the browsers a benchmark drives, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path


def chromium_cpu_seconds() -> float:
    """CPU time of every Chromium process so far (the browser, its renderers, GPU and utility processes)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")[0]
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if b"chromium" in command:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total
