"""Figures from a benchmark run, and the table that states them against the targets."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field

from tests.fakes.provider_server import Reply


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Result:
    name: str
    app: str
    tokens: int
    rate: float
    tabs: int
    cpu_seconds: float
    peak_rss_mb: float
    wire_bytes: int = 0  # all tabs: what the app sent over TCP (websocket frames, compressed)
    payload_bytes: int = 0  # the first tab: websocket payload as the page receives it
    latencies: list[float] = field(default_factory=list)
    first_1000: list[float] = field(default_factory=list)
    last_1000: list[float] = field(default_factory=list)
    shown_bytes: list[int] = field(default_factory=list)  # per tab: bytes of reply text that reached the screen
    last_token_ms: float = 0.0
    missing: int = 0
    p95_of_runs: list[float] = field(default_factory=list)  # every run's p95, when the scenario was repeated
    reloaded: int = 0  # tabs whose page reloaded itself, losing what it had shown
    browser_cores: float = 0.0  # CPU the Chromium processes used while the replies streamed, in cores

    def add_tab(self, reply: Reply, seen_ms: list[float | None], waited_until: float) -> None:
        """A token never shown counts with the time waited for it: its real latency is at least that."""
        seen_ms = seen_ms + [None] * (len(reply.tokens) - len(seen_ms))
        latencies, shown = [], 0
        for token, sent, seen in zip(reply.tokens, reply.sent_at, seen_ms, strict=False):
            if seen is None:
                self.missing += 1
                seen = waited_until * 1000
            else:
                shown += len(token.encode())
            latencies.append(seen - sent * 1000)
        self.latencies += latencies
        self.first_1000 += latencies[:1000]
        self.last_1000 += latencies[-1000:]
        self.last_token_ms = max(self.last_token_ms, latencies[-1] if latencies else 0.0)
        self.shown_bytes.append(shown)

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.5)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 0.95)

    @property
    def payload_per_byte(self) -> float:
        """Per byte of reply text that reached the screen (a run that falls behind shows less than it was sent)."""
        return self.payload_bytes / self.shown_bytes[0] if self.shown_bytes and self.shown_bytes[0] else float("nan")

    @property
    def wire_per_byte(self) -> float:
        return self.wire_bytes / sum(self.shown_bytes) if sum(self.shown_bytes) else float("nan")

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu_seconds / (self.tokens * self.tabs) * 1000


def median_run(runs: list[Result]) -> Result:
    """The run with the median p95, carrying every run's p95 so the table can show the spread."""
    ordered = sorted(runs, key=lambda run: run.p95)
    chosen = ordered[(len(ordered) - 1) // 2]
    chosen.p95_of_runs = [run.p95 for run in ordered]
    return chosen


def _row(result: Result) -> str:
    done = "yes" if not result.missing else f"no: {result.missing} tokens not shown in time"
    if result.reloaded:
        done += f" ({result.reloaded} page(s) reloaded themselves)"
    at_least = ">" if result.missing else ""  # latencies of tokens never shown are lower bounds
    cells = [
        result.name,
        result.app,
        f"{at_least}{result.p50:.1f}",
        f"{at_least}{result.p95:.1f}",
        " / ".join(f"{p95:.0f}" for p95 in result.p95_of_runs) or "1 run",
        f"{at_least}{max(result.latencies or [0]):.0f}",
        f"{at_least}{result.last_token_ms:.0f}",
        f"{result.payload_per_byte:.2f}",
        f"{result.wire_per_byte:.2f}",
        f"{result.cpu_per_1000:.3f}",
        f"{result.peak_rss_mb:.0f}",
        f"{result.browser_cores:.2f}",
        done,
    ]
    return "| " + " | ".join(cells) + " |"


def _find(results: list[Result], name: str, app: str = "chat") -> Result | None:
    return next((r for r in results if r.name == name and r.app == app), None)


def _checks(results: list[Result]) -> list[tuple[str, str, bool]]:
    checks = []
    big, big_naive = _find(results, "8,000 tokens @ 1,000/s"), _find(results, "8,000 tokens @ 1,000/s", "naive")
    fast, tabs = _find(results, "8,000 tokens @ 3,000/s"), _find(results, "20 tabs x 1,000 tokens @ 100/s")
    empty, history = (
        _find(results, "2,000 tokens @ 1,000/s"),
        _find(results, "2,000 tokens @ 1,000/s, 200 earlier messages"),
    )
    if big:
        checks.append(("8,000 @ 1,000/s: p95 ≤ 40 ms", f"{big.p95:.1f} ms", big.p95 <= 40))
        checks.append(
            (
                "8,000 @ 1,000/s: ≤ 3 websocket bytes per reply byte",
                f"{big.payload_per_byte:.2f}",
                big.payload_per_byte <= 3,
            )
        )
        first, last = percentile(big.first_1000, 0.95), percentile(big.last_1000, 0.95)
        checks.append(
            (
                "8,000 @ 1,000/s: p95 of the last 1,000 tokens vs the first 1,000",
                f"{last:.1f} vs {first:.1f} ms ({last / first:.2f}x)",
                last <= first * 1.2 + 2,
            )
        )
    if big and big_naive:
        bytes_ratio = big_naive.payload_per_byte / big.payload_per_byte
        p95_ratio = big_naive.p95 / big.p95
        checks.append(("8,000 @ 1,000/s: ≥ 20x fewer bytes than naive", f"{bytes_ratio:.0f}x", bytes_ratio >= 20))
        checks.append(("8,000 @ 1,000/s: ≥ 20x lower p95 than naive", f"{p95_ratio:.0f}x", p95_ratio >= 20))
    if tabs:
        checks.append(("20 tabs @ 100/s: p95 ≤ 100 ms", f"{tabs.p95:.1f} ms", tabs.p95 <= 100))
    if fast:
        checks.append(("8,000 @ 3,000/s: p95 ≤ 60 ms", f"{fast.p95:.1f} ms", fast.p95 <= 60))
        checks.append(
            (
                "8,000 @ 3,000/s: last token on screen ≤ 100 ms after emission",
                f"{fast.last_token_ms:.0f} ms",
                fast.last_token_ms <= 100,
            )
        )
    if empty and history:
        ratio = history.p95 / empty.p95
        checks.append(
            (
                "200 earlier messages: p95 within 1.2x of the empty page",
                f"{history.p95:.1f} vs {empty.p95:.1f} ms ({ratio:.2f}x)",
                ratio <= 1.2,
            )
        )
    return checks


def print_report(results: list[Result], command: str, elapsed: float) -> None:
    print(f"Streaming benchmark: `{command}` ({elapsed:.0f} s, {os.cpu_count()} cores, {platform.python_version()})")
    print("Latency: the fake server writes a token → the token is in the page's DOM (ms).")
    print("Payload: websocket payload the page receives (as DevTools reports it, uncompressed; first tab) per byte")
    print("of reply text shown. Wire: TCP bytes the app sent to all tabs (frames after permessage-deflate, from the")
    print("kernel's counters) per byte shown. CPU: app server CPU seconds per 1,000 tokens. Chromium: the CPU all")
    print(f"of Chromium's processes used while the replies streamed, in cores (this machine has {os.cpu_count()}):")
    print("the browsers share the machine with the app they measure.\n")
    print("Each scenario of this app runs several times; its row is the run with the median p95, and the p95 of")
    print("every run is listed beside it.\n")
    print(
        "| scenario | app | p50 ms | p95 ms | p95 of each run | max ms | last token ms | payload bytes/byte "
        "| wire bytes/byte | CPU s/1k tok | peak RSS MB | Chromium cores | finished |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for result in results:
        print(_row(result))
    if checks := _checks(results):
        print("\n| target | measured | met |\n|---|---|---|")
        for target, measured, met in checks:
            print(f"| {target} | {measured} | {'yes' if met else 'NO'} |")
