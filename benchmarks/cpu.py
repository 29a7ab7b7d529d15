"""CPU time of processes a benchmark starts or drives, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path


def process_cpu_seconds(pid: int | str) -> float:
    """User and system CPU time of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def chromium_cpu_seconds() -> float:
    """CPU time of every Chromium process so far (the browser, its renderers, GPU and utility processes)."""
    total = 0.0
    for process in Path("/proc").glob("[0-9]*"):
        try:
            if b"chromium" in (process / "cmdline").read_bytes().split(b"\0")[0]:
                total += process_cpu_seconds(process.name)
        except OSError:  # the process ended meanwhile
            continue
    return total
