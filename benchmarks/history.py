"""Opening a long history: a conversation of 100, 1,000 and 5,000 messages, and a drawer of 50, 500 and 5,000
conversations, in this app (a page of the newest, more as the person scrolls) and rendered whole, as the app did
before (HISTORY_PAGE_SIZE and DRAWER_PAGE_SIZE set past the history's size), in the same run.

    python benchmarks/history.py            # the full table, about 4 minutes
    python benchmarks/history.py --quick    # the smallest sizes only

Measured per page load, in headless Chromium against `python main.py` on 127.0.0.1: time to the latest message
(or the first drawer row) on screen, time to fully interactive (the page's socket connected, the message box
there), bytes sent (the HTML and the websocket frames until then), server and browser CPU, the elements on the
page and the browser's JS heap; and, for conversations, the frame times while scrolling up through the history.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.cpu import chromium_cpu_seconds, process_cpu_seconds  # noqa: E402
from tests.app_process import chat_app  # noqa: E402
from tests.browser.chromium import CHROMIUM_FLAGS, installed_chromium  # noqa: E402
from tests.seeding import seed_history  # noqa: E402

WHOLE = 10**9  # a page size no history reaches: everything rendered at once
GIVE_UP_MS = 120_000
SCROLL_FRAMES = 120
SCROLL_SCRIPT = """async (frames) => {
  // Scroll up 400 px a frame, as a fast flick of the wheel would, and time every frame.
  const times = [];
  let last = performance.now();
  for (let i = 0; i < frames; i++) {
    await new Promise((resolve) => requestAnimationFrame(resolve));
    const now = performance.now();
    times.push(now - last);
    last = now;
    window.scrollBy(0, -400);
  }
  return times;
}"""


@dataclass(frozen=True)
class Scenario:
    kind: str  # "messages" (one conversation), "conversations" (the drawer), or "empty" (a new chat: the floor)
    size: int
    whole: bool  # rendered whole (the naive way) instead of a page at a time

    @property
    def name(self) -> str:
        return "a new chat (no history)" if self.kind == "empty" else f"{self.size:,} {self.kind}"


@dataclass
class Load:
    first_ms: float
    interactive_ms: float
    bytes: int
    server_cpu_s: float
    browser_cpu_s: float
    elements: int
    heap_mb: float
    frame_p95_ms: float | None = None
    gave_up: bool = False


def load_once(context: BrowserContext, url: str, scenario: Scenario, pid: int) -> Load:
    """One page load; a load that does not finish within GIVE_UP_MS counts as that long (`gave_up`)."""
    try:
        return measured_load(context, url, scenario, pid)
    except PlaywrightTimeout:
        return Load(GIVE_UP_MS, GIVE_UP_MS, 0, float("nan"), float("nan"), 0, float("nan"), gave_up=True)


def measured_load(context: BrowserContext, url: str, scenario: Scenario, pid: int) -> Load:
    page = context.new_page()
    received = [0]
    page.on(
        "websocket",
        lambda socket: socket.on("framereceived", lambda frame: received.__setitem__(0, received[0] + len(frame))),
    )
    cpu_before, browser_before = process_cpu_seconds(pid), chromium_cpu_seconds()
    started = time.perf_counter()
    response = page.goto(url, wait_until="commit", timeout=GIVE_UP_MS)
    target = {
        "messages": f'[data-role="assistant"]:has-text("part {scenario.size - 1}")',
        "conversations": ".conversation-row",
        "empty": ".composer textarea",
    }[scenario.kind]
    page.locator(target).first.wait_for(state="visible", timeout=GIVE_UP_MS)
    first_ms = (time.perf_counter() - started) * 1000
    page.wait_for_function(
        "window.did_handshake === true && !!document.querySelector('.composer textarea')", timeout=GIVE_UP_MS
    )
    interactive_ms = (time.perf_counter() - started) * 1000
    settle(page)
    load = Load(
        first_ms,
        interactive_ms,
        len(response.body()) + received[0],
        process_cpu_seconds(pid) - cpu_before,
        chromium_cpu_seconds() - browser_before,
        page.evaluate("document.getElementsByTagName('*').length"),
        page.evaluate("performance.memory ? performance.memory.usedJSHeapSize / 1048576 : NaN"),
    )
    if scenario.kind == "messages":
        times = page.evaluate(SCROLL_SCRIPT, SCROLL_FRAMES)
        load.frame_p95_ms = sorted(times)[int(0.95 * (len(times) - 1))]
    page.close()
    return load


def settle(page: Page) -> None:
    """Wait until the page has nothing left to do: two idle frames in a row after the last change."""
    page.evaluate(
        """() => new Promise((resolve) => {
          let timer;
          const done = () => { observer.disconnect(); resolve(); };
          const quiet = () => { clearTimeout(timer); timer = setTimeout(done, 300); };
          const observer = new MutationObserver(quiet);
          observer.observe(document.body, {childList: true, subtree: true, characterData: true});
          quiet();
        })"""
    )


def run(browser: Browser, scenario: Scenario, runs: int) -> list[Load]:
    with tempfile.TemporaryDirectory() as workdir:
        database_url = f"sqlite:///{Path(workdir) / 'chat.db'}"
        if scenario.kind == "messages":
            conversation = seed_history(database_url, messages=scenario.size)
        elif scenario.kind == "conversations":
            seed_history(database_url, conversations=scenario.size)
        sizes = {"HISTORY_PAGE_SIZE": str(WHOLE), "DRAWER_PAGE_SIZE": str(WHOLE)} if scenario.whole else {}
        with chat_app(Path(workdir), database_url=database_url, AUTO_TITLE="false", **sizes) as app:
            path = f"/c/{conversation}" if scenario.kind == "messages" else "/"
            # One browser profile, as a person who uses the app has: its scripts are cached after the first load,
            # which is a warm-up and not counted (the server's imports and caches warm up too).
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            if runs > 1:
                load_once(context, app.url + path, scenario, app.process.pid)
            loads = [load_once(context, app.url + path, scenario, app.process.pid) for _ in range(runs)]
            context.close()
            return loads


def median(loads: list[Load], field: str) -> float:
    values = [getattr(load, field) for load in loads if getattr(load, field) is not None]
    return statistics.median(values) if values else float("nan")


def print_report(results: dict[Scenario, list[Load]], command: str, seconds: float) -> None:
    print(f"\nOpening a long history · `{command}` · medians of runs · {seconds:.0f} s in all\n")
    print(
        "| history | rendered | latest on screen | interactive | bytes sent | server CPU | browser CPU "
        "| elements | JS heap | scrolling up, p95 frame |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for scenario, loads in results.items():
        frame = median(loads, "frame_p95_ms")
        if any(load.gave_up for load in loads):
            print(f"| {scenario.name} | whole (before) | > {GIVE_UP_MS // 1000} s: gave up | | | | | | | |")
            continue
        print(
            f"| {scenario.name} | {'whole (before)' if scenario.whole else 'a page at a time'} "
            f"| {median(loads, 'first_ms'):,.0f} ms | {median(loads, 'interactive_ms'):,.0f} ms "
            f"| {median(loads, 'bytes') / 1024:,.0f} KB | {median(loads, 'server_cpu_s'):.2f} s "
            f"| {median(loads, 'browser_cpu_s'):.2f} s | {median(loads, 'elements'):,.0f} "
            f"| {median(loads, 'heap_mb'):.1f} MB | {'' if frame != frame else f'{frame:.1f} ms'} |"
        )
    print("\nRatios, whole ÷ a page at a time (time to the latest on screen; bytes):")
    for scenario, loads in results.items():
        whole = next((v for k, v in results.items() if k == Scenario(scenario.kind, scenario.size, True)), None)
        if not scenario.whole and whole and any(load.gave_up for load in whole):
            print(f"- {scenario.name}: rendered whole, it did not open within {GIVE_UP_MS // 1000} s")
        elif not scenario.whole and whole:
            print(
                f"- {scenario.name}: {median(whole, 'first_ms') / median(loads, 'first_ms'):.1f}x faster, "
                f"{median(whole, 'bytes') / median(loads, 'bytes'):.1f}x fewer bytes"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the smallest sizes only")
    parser.add_argument("--runs", type=int, default=3, help="page loads per scenario (default 3)")
    arguments = parser.parse_args()
    executable = installed_chromium()
    if executable is None:
        sys.exit("Chromium is needed: run `bash tests/browser/install-chromium.sh` first.")
    sizes = {"messages": [100] if arguments.quick else [100, 1000, 5000]}
    sizes["conversations"] = [50] if arguments.quick else [50, 500, 5000]
    scenarios = [Scenario("empty", 0, False)]  # what any page load costs here, before any history
    scenarios += [
        Scenario(kind, size, whole) for kind, each in sizes.items() for size in each for whole in (False, True)
    ]
    started, results = time.monotonic(), {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        for scenario in scenarios:
            print(f"… {scenario.name}, {'whole' if scenario.whole else 'paged'}", file=sys.stderr, flush=True)
            # Rendering 5,000 messages whole takes long; one load says enough.
            runs = 1 if scenario.whole and scenario.size >= 1000 else arguments.runs
            results[scenario] = run(browser, scenario, runs)
        browser.close()
    print_report(results, " ".join(["python benchmarks/history.py", *sys.argv[1:]]), time.monotonic() - started)


if __name__ == "__main__":
    main()
