"""Streaming speed: this app against the naive `markdown.content += delta` pattern, in one run.

    python benchmarks/stream.py            # the full table (a few minutes)
    python benchmarks/stream.py --quick    # small sizes, to check the benchmark itself works

A fake OpenAI server on 127.0.0.1 streams marked tokens at a fixed rate; headless Chromium shows the replies.
Latency is from the fake server writing a token to that token being in the page's DOM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.browser_floor import browser_floor_cores  # noqa: E402
from benchmarks.cpu import chromium_cpu_seconds, process_cpu_seconds  # noqa: E402
from benchmarks.probe import Tab, bytes_sent_per_connection, bytes_sent_since  # noqa: E402
from benchmarks.report import Result, median_run, print_report  # noqa: E402
from tests.browser.chromium import CHROMIUM_FLAGS, installed_chromium  # noqa: E402
from tests.fakes.provider_server import FakeProviderServer, Reply  # noqa: E402

MODEL = "bench-model"
FLOOR_UPDATES_PER_SECOND = 12


@dataclass(frozen=True)
class Scenario:
    name: str
    app: str  # "chat" (this app) or "naive"
    tokens: int
    rate: float
    tabs: int = 1
    history: int = 0  # earlier messages already on the page


def scenarios(quick: bool) -> list[Scenario]:
    if quick:
        return [Scenario("quick", "chat", 300, 1000), Scenario("quick", "naive", 300, 1000)]
    return [
        Scenario("2,000 tokens @ 1,000/s", "chat", 2000, 1000),
        Scenario("2,000 tokens @ 1,000/s", "naive", 2000, 1000),
        Scenario("8,000 tokens @ 1,000/s", "chat", 8000, 1000),
        Scenario("8,000 tokens @ 1,000/s", "naive", 8000, 1000),
        Scenario("8,000 tokens @ 3,000/s", "chat", 8000, 3000),
        Scenario("20 tabs x 1,000 tokens @ 100/s", "chat", 1000, 100, tabs=20),
        Scenario("2,000 tokens @ 1,000/s, 200 earlier messages", "chat", 2000, 1000, history=200),
    ]


def marked_tokens(count: int) -> list[str]:
    """A markdown reply whose every token carries a marker tN: paragraphs, bold, lists, headings, code."""
    tokens = []
    for i in range(count):
        if i % 400 == 390:
            tokens.append(f"\n\n```python\nvalue_t{i} = {i}")
        elif i % 400 in range(391, 399):
            tokens.append(f"\nvalue_t{i} = {i}")
        elif i % 400 == 399:
            tokens.append(f"\nvalue_t{i} = {i}\n```\n\n")
        elif i % 100 == 0:
            tokens.append(f"\n\n## Part t{i}\n\n")
        elif i % 100 in range(60, 66):
            tokens.append(f"\n- item t{i}")
        elif i % 100 == 66:
            tokens.append(f"\n\nt{i}")
        elif i % 7 == 0:
            tokens.append(f" **t{i}**")
        else:
            tokens.append(f" t{i}")
    return tokens


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed_history(database_url: str, count: int) -> str:
    from app.storage.database import create_database
    from app.storage.models import Role, Status
    from app.storage.repository import ChatRepository

    repository = ChatRepository(create_database(database_url))
    conversation = repository.create_conversation(f"openai:{MODEL}")
    for i in range(count // 2):
        repository.add_message(
            conversation.id, Role.USER, f"Question {i}: how does **this** work?", Status.COMPLETE, f"openai:{MODEL}"
        )
        answer = f"Answer {i}.\n\n- first point\n- second point\n\n```python\nprint({i})\n```\n\nThat is all."
        repository.add_message(conversation.id, Role.ASSISTANT, answer, Status.COMPLETE, f"openai:{MODEL}")
    return conversation.id


def replies_by_tab(requests: list, replies: list[Reply]) -> list[Reply]:
    """The fake plays its replies in the order requests arrive, which need not be the order of the tabs: each
    request carries its tab's message, `Benchmark {i}`."""
    by_tab: dict[int, Reply] = {}
    for request, reply in zip(requests, replies, strict=False):
        message = request.body["messages"][-1]["content"]
        by_tab[int(message.removeprefix("Benchmark "))] = reply
    return [by_tab[i] for i in range(len(replies))]


class AppProcess:
    def __init__(self, scenario: Scenario, fake: FakeProviderServer, workdir: Path) -> None:
        self.port = free_port()
        self.database_url = f"sqlite:///{workdir / 'chat.db'}"
        script = ROOT / ("main.py" if scenario.app == "chat" else "benchmarks/naive_app.py")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST_", "NICEGUI_", "ANTHROPIC_", "TOGETHER_", "OPENAI_"))
        }
        env.update(
            OPENAI_API_KEY=fake.api_key,
            OPENAI_BASE_URL=fake.base_url,
            OPENAI_MODELS=MODEL,
            DATABASE_URL=self.database_url,
            # What is measured is the streaming path alone: no embedded model loading beside it, no Ollama
            # lookup, and no title request taking the fake's next scripted reply.
            LOCAL_MODEL_ENABLED="false",
            OLLAMA_BASE_URL="",
            AUTO_TITLE="false",
        )
        self.conversation = seed_history(self.database_url, scenario.history) if scenario.history else None
        self.process = subprocess.Popen(
            [sys.executable, str(script), "--port", str(self.port)],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def url(self) -> str:
        path = f"/c/{self.conversation}" if self.conversation else "/"
        return f"http://127.0.0.1:{self.port}{path}"

    async def ready(self) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(150):
                try:
                    await client.get(self.url, timeout=2)
                    return
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
        raise RuntimeError("the app did not start")

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def run(browser, fake: FakeProviderServer, scenario: Scenario) -> Result:
    with tempfile.TemporaryDirectory() as workdir:
        app = AppProcess(scenario, fake, Path(workdir))
        try:
            await app.ready()
            tabs = [await Tab.open(browser, app.url, count_frames=i == 0) for i in range(scenario.tabs)]
            replies = [Reply(tokens=marked_tokens(scenario.tokens), rate=scenario.rate) for _ in tabs]
            fake.play(*replies)
            requests_before = len(fake.chat_requests)
            # Typed first, then sent together: what is measured is streaming, not typing into 20 boxes.
            await asyncio.gather(*(tab.type(f"Benchmark {i}") for i, tab in enumerate(tabs)))
            wire_before, payload_before = bytes_sent_per_connection(app.port), tabs[0].payload_bytes
            cpu_before, browser_before, started = app.cpu_seconds(), chromium_cpu_seconds(), time.monotonic()
            await asyncio.gather(*(tab.press_send() for tab in tabs))
            # The naive pattern falls far behind; it gets a long wait before it counts as not finished.
            budget = scenario.tokens / scenario.rate + (90 if scenario.app == "naive" else 30)
            await asyncio.sleep(scenario.tokens / scenario.rate)
            await asyncio.gather(*(tab.wait_for_token(scenario.tokens - 1, budget) for tab in tabs))
            waited_until = time.time()
            browser_cores = (chromium_cpu_seconds() - browser_before) / (time.monotonic() - started)
            await asyncio.sleep(0.5)  # the final patch and status updates
            cpu = app.cpu_seconds() - cpu_before
            result = Result(
                scenario.name,
                scenario.app,
                scenario.tokens,
                scenario.rate,
                scenario.tabs,
                cpu_seconds=cpu,
                peak_rss_mb=app.peak_rss_mb(),
                browser_cores=browser_cores,
            )
            result.wire_bytes = bytes_sent_since(wire_before, app.port)
            result.payload_bytes = tabs[0].payload_bytes - payload_before
            replies = replies_by_tab(fake.chat_requests[requests_before:], replies)
            for tab, reply in zip(tabs, replies, strict=True):
                result.add_tab(reply, await tab.seen_ms(), waited_until)
                result.reloaded += tab.reloaded
                await tab.close()
            return result
        finally:
            app.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the benchmark works")
    parser.add_argument("--only", default="", help="run only the scenarios whose name contains this")
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="runs of each scenario of this app; the run with the median p95 is reported (default 3)",
    )
    arguments = parser.parse_args()
    quick = arguments.quick
    executable = installed_chromium()
    if executable is None:
        sys.exit("Chromium is needed: run `bash tests/browser/install-chromium.sh` first.")
    fake = FakeProviderServer("openai", models=[MODEL]).start()
    results, many_tabs, floor = [], None, 0.0
    started = time.monotonic()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
            for scenario in [s for s in scenarios(quick) if arguments.only in s.name]:
                # The naive app takes minutes a run and is orders of magnitude off: one run says enough.
                runs = 1 if scenario.app == "naive" else max(1, arguments.runs)
                attempts = []
                for attempt in range(runs):
                    print(f"… {scenario.name} ({scenario.app}) {attempt + 1}/{runs}", file=sys.stderr, flush=True)
                    attempts.append(await run(browser, fake, scenario))
                results.append(median_run(attempts))
            many_tabs = next((result for result in results if result.tabs > 1), None)
            if many_tabs is not None:
                print("… the browsers alone", file=sys.stderr, flush=True)
                floor = await browser_floor_cores(browser, many_tabs.tabs, FLOOR_UPDATES_PER_SECOND)
            await browser.close()
    finally:
        fake.stop()
    command = " ".join(["python benchmarks/stream.py", *sys.argv[1:]])
    print_report(results, command, time.monotonic() - started)
    if many_tabs is not None:
        print(
            f"\nThe browsers alone: {many_tabs.tabs} tabs of a static page adding two words "
            f"{FLOOR_UPDATES_PER_SECOND} times a second (a p95 of 100 ms needs an update at least every ~85 ms), "
            f"with no app or server behind them: Chromium used {floor:.2f} of the {os.cpu_count()} cores "
            "(`benchmarks/browser_floor.py`)."
        )


if __name__ == "__main__":
    asyncio.run(main())
