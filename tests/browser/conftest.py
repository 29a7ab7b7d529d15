"""A real browser against a real server: Debian's Chromium, driven by Playwright, and `python main.py` talking to
fake providers on 127.0.0.1. Chromium is installed by `install-chromium.sh` beside this file if it is missing."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.app_process import RunningApp, chat_app
from tests.browser.chromium import CHROMIUM_FLAGS, installed_chromium

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE / "screenshots"


def chromium_executable() -> str:
    found = installed_chromium()
    if found is None:
        subprocess.run(["bash", str(HERE / "install-chromium.sh")], check=True)
        found = installed_chromium()
    assert found, "Chromium could not be installed: run tests/browser/install-chromium.sh as root"
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module, not per session: Playwright's sync API holds an event loop of its own in this thread while it
    # runs, which the asyncio tests that follow must not find there.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def app_server(tmp_path) -> Iterator[RunningApp]:
    with chat_app(tmp_path) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile per test; any Content-Security-Policy violation fails the test."""
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    tab = context.new_page()
    violations: list[str] = []
    tab.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield tab
    context.close()
    assert not violations, violations


def screenshot(page: Page, name: str) -> None:
    """Kept for a reviewer to look at: tests/browser/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.fixture
def canary():
    """A server that only counts requests: any hit means the page fetched something it was never asked to."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
