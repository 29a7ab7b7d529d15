"""A reply that calls tools, in a real browser: both calls show as steps inside the reply while it is written (the
calculator runs unasked, the MCP server's tool waits for Allow once), each ends complete, and a hostile result is
shown as text that does nothing. Screenshots land in tests/browser/screenshots/."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.app_process import chat_app
from tests.browser.conftest import screenshot
from tests.browser.test_chat_in_browser import TIMEOUT, last_reply, send
from tests.fakes.provider_server import FakeToolCall, Reply

FAKE_SERVER = str(Path(__file__).resolve().parents[1] / "fakes" / "mcp_server.py")


@pytest.fixture
def tools_app(tmp_path):
    servers = {"mcpServers": {"fake": {"command": sys.executable, "args": [FAKE_SERVER]}}}
    (tmp_path / "mcp.json").write_text(json.dumps(servers))
    with chat_app(tmp_path, BUILTIN_TOOLS="calculator") as running:
        yield running


def wait_until_the_server_is_ready(page: Page, url: str) -> None:
    page.goto(f"{url}/tools")
    expect(page.get_by_text("Ready", exact=True)).to_be_visible(timeout=TIMEOUT)
    page.goto(url)


def test_a_reply_calling_two_tools_shows_both_steps_live_and_ends_complete(page: Page, tools_app, canary):
    canary_url, hits = canary
    hostile = (
        f'<img src="{canary_url}/img" onerror="window.__xss = 1"> ![pixel]({canary_url}/md.png) '
        "<script>window.__xss = 2</script>"
    )
    tools_app.fakes["openai"].play(
        Reply(
            tokens=["Let me ", "work this out. "],
            delay=0.05,
            tool_calls=[
                FakeToolCall("calculator", '{"expression": "6 * 7"}'),
                FakeToolCall("echo", json.dumps({"text": hostile})),
            ],
        ),
        Reply(tokens=["Six times seven ", "is **42**."], delay=0.05),
    )
    wait_until_the_server_is_ready(page, tools_app.url)
    send(page, "What is 6 times 7? And echo something back.")

    reply = last_reply(page)
    calculator = reply.locator('[data-role="tool"][data-tool-name="calculator"]')
    echo = reply.locator('[data-role="tool"][data-tool-name="echo"]')
    expect(calculator).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(echo).to_have_attribute("data-status", "awaiting-approval", timeout=TIMEOUT)
    expect(reply).to_have_attribute("data-status", "streaming")
    screenshot(page, "tools-awaiting-approval")

    page.get_by_role("button", name="Allow once").click()

    expect(echo).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(reply).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(reply.locator("strong")).to_have_text("42")
    echo.locator("summary").click()
    expect(echo.locator(".tool-output")).to_have_text(hostile)  # as text: nothing of it ran or loaded
    assert echo.locator("img").count() == 0 and echo.locator("script").count() == 0
    assert page.evaluate("window.__xss") is None and hits == []
    # The text before the calls, the calls, then the text after them.
    order = reply.evaluate(
        """(r) => [...r.querySelectorAll('.md-body, [data-role="tool"]')].map(
             (e) => e.dataset.role === 'tool' ? e.dataset.toolName : e.textContent.trim())"""
    )
    assert order == ["Let me work this out.", "calculator", "echo", "Six times seven is 42."]
    screenshot(page, "tools-complete")

    page.reload()  # built again from the stored steps
    reply = last_reply(page)
    expect(reply.locator('[data-role="tool"][data-status="complete"]')).to_have_count(2, timeout=TIMEOUT)
