"""The chat page checked by axe-core (the copy that axe-playwright-python ships, injected from disk: nothing is
fetched), light and dark, with a finished reply on it; and the keyboard and screen-reader paths a person uses."""

from __future__ import annotations

from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_chat_in_browser import TIMEOUT, last_reply, send
from tests.browser.test_reading_in_browser import RICH_REPLY, tokens_of
from tests.fakes.provider_server import Reply

AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def serious_violations(page: Page) -> list[str]:
    page.evaluate(AXE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:5]]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_chat_page_has_no_serious_accessibility_violations(page: Page, app_server, theme):
    app_server.fakes["openai"].play(Reply(tokens=tokens_of(RICH_REPLY)))
    page.goto(app_server.url)
    if theme == "dark":
        page.get_by_role("button", name="Theme: as the system").click()
        expect(page.locator("body.body--dark")).to_have_count(1)
    send(page, "How do I bake bread?")
    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(last_reply(page).locator(".mermaid-diagram svg")).to_be_visible(timeout=TIMEOUT)

    assert serious_violations(page) == []
    screenshot(page, f"accessibility-{theme}")


def test_a_keyboard_reaches_the_message_box_first_and_sees_where_it_is(page: Page, app_server):
    page.goto(app_server.url)
    page.locator(".composer textarea").wait_for()
    # Where a keyboard starts on a page: its top (the message box took the focus as the page opened).
    page.evaluate("document.body.tabIndex = -1; document.body.focus(); document.body.removeAttribute('tabindex')")

    page.keyboard.press("Tab")

    skip = page.get_by_role("link", name="Skip to message box")
    expect(skip).to_be_focused()
    assert skip.evaluate("(e) => getComputedStyle(e).outlineStyle") == "solid", "a visible focus ring"
    page.keyboard.press("Enter")
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()


def test_messages_are_named_for_screen_readers_and_a_finished_reply_is_announced_once(page: Page, app_server):
    app_server.fakes["openai"].play(Reply(tokens=["One ", "two ", "three."], delay=0.05))
    page.goto(app_server.url)

    send(page, "Count")

    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(page.get_by_role("article", name="You")).to_contain_text("Count")
    expect(page.get_by_role("article", name="OpenAI · gpt-4.1")).to_contain_text("One two three.")
    status = page.locator("[aria-live=polite][role=status]")
    expect(status).to_have_text("The reply from OpenAI · gpt-4.1 finished.")
    expect(last_reply(page).get_by_role("button", name="Copy message")).to_have_count(1)
