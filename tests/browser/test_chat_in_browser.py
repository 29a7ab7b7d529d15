"""What a person sees in a real browser: streaming, Stop, an error with the partial text, a reload mid-stream."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.fakes.provider_server import Reply

TIMEOUT = 15_000


def send(page: Page, text: str) -> None:
    box = page.get_by_placeholder("Message")
    box.fill(text)
    box.press("Enter")


def last_reply(page: Page):
    return page.locator('[data-role="assistant"]').last


def test_a_reply_streams_in_as_markdown_and_completes(page: Page, app_server):
    tokens = ["# Bread\n\n", "Flour, ", "**water**", ", salt.\n\n", "```python\n", "knead()\n", "```\n"]
    app_server.fakes["openai"].play(Reply(tokens=tokens * 3, delay=0.15))
    page.goto(app_server.url)

    send(page, "What is bread made of?")

    expect(last_reply(page)).to_have_attribute("data-status", "streaming", timeout=TIMEOUT)
    expect(last_reply(page).locator("strong").first).to_have_text("water", timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    screenshot(page, "streaming")
    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(last_reply(page).locator("h1")).to_have_count(3)
    expect(last_reply(page).locator("pre code")).to_have_count(3)
    expect(page.get_by_role("button", name="Send")).to_be_visible()


def test_stop_keeps_what_arrived(page: Page, app_server):
    app_server.fakes["openai"].play(Reply(tokens=[f"word{i} " for i in range(500)], delay=0.03))
    page.goto(app_server.url)
    send(page, "Talk for a long time")
    expect(last_reply(page)).to_contain_text("word10", timeout=TIMEOUT)

    page.get_by_role("button", name="Stop").click()

    expect(last_reply(page)).to_have_attribute("data-status", "stopped", timeout=TIMEOUT)
    expect(last_reply(page)).to_contain_text("Stopped")
    shown = last_reply(page).inner_text()
    assert "word0" in shown and "word499" not in shown
    screenshot(page, "stopped")
    page.reload()
    expect(last_reply(page)).to_contain_text("word10", timeout=TIMEOUT)  # kept, not only shown


def test_an_error_after_some_text_shows_a_banner_below_it(page: Page, app_server):
    reply = Reply(tokens=["Half ", "an ", "answer ", "and"], fail_after=3, error_message="Upstream is overloaded")
    app_server.fakes["openai"].play(reply)
    page.goto(app_server.url)

    send(page, "Tell me")

    expect(last_reply(page)).to_have_attribute("data-status", "error", timeout=TIMEOUT)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Upstream is overloaded")
    expect(last_reply(page)).to_contain_text("Half an answer")
    expect(alert.get_by_role("button", name="Retry")).to_be_visible()
    screenshot(page, "error")


def test_a_reload_mid_stream_picks_the_reply_up_and_finishes_it(page: Page, app_server):
    app_server.fakes["openai"].play(Reply(tokens=[f"t{i} " for i in range(80)], delay=0.05))
    page.goto(app_server.url)
    send(page, "Count")
    expect(last_reply(page)).to_contain_text("t5 ", timeout=TIMEOUT)

    page.reload()

    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(last_reply(page)).to_contain_text("t79")
    assert len(app_server.fakes["openai"].chat_requests) == 1, "the reload started no second reply"


def test_double_clicking_send_sends_once(page: Page, app_server):
    app_server.fakes["openai"].play(Reply(tokens=["One ", "reply."], delay=0.1), Reply(tokens=["Another."]))
    page.goto(app_server.url)
    page.get_by_placeholder("Message").fill("Only once, please")

    page.get_by_role("button", name="Send").dblclick()

    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(page.locator('[data-role="user"]')).to_have_count(1)
    expect(page.locator('[data-role="assistant"]')).to_have_count(1)
    assert len(app_server.fakes["openai"].chat_requests) == 1


def test_two_tabs_sending_at_once_never_mix_two_replies(page: Page, app_server):
    app_server.fakes["openai"].play(Reply(tokens=["a"]))
    page.goto(app_server.url)
    send(page, "First")
    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    other = page.context.new_page()
    other.goto(page.url)
    app_server.fakes["openai"].play(Reply(tokens=[f"x{i} " for i in range(60)], delay=0.05), Reply(tokens=["y"]))
    requests_before = len(app_server.fakes["openai"].chat_requests)

    send(page, "From the first tab")
    send(other, "From the second tab")

    # Whichever arrived first is answered; the other tab is told to wait, and keeps its text.
    for tab in (page, other):
        expect(last_reply(tab)).to_contain_text("x59", timeout=TIMEOUT)
        expect(last_reply(tab)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
        assert "y" not in last_reply(tab).inner_text().split()
    refused = [tab for tab in (page, other) if tab.get_by_text("A reply is still being written here").count()]
    assert len(refused) == 1
    expect(refused[0].get_by_placeholder("Message")).not_to_have_value("")
    assert len(app_server.fakes["openai"].chat_requests) == requests_before + 1


def test_code_is_highlighted_and_links_open_in_a_new_tab(page: Page, app_server):
    tokens = ["See [the docs](https://example.com/docs).\n\n", "```python\n", "def knead():\n", "    pass\n", "```\n"]
    app_server.fakes["openai"].play(Reply(tokens=tokens))
    page.goto(app_server.url)

    send(page, "Show code")

    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    # The browser's sanitizer runs over every patch; it must keep what makes the reply readable.
    expect(last_reply(page).locator("pre code span.k").first).to_have_text("def")
    link = last_reply(page).get_by_role("link", name="the docs")
    assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")


def test_scrolling_up_stops_following_and_jump_to_latest_brings_it_back(page: Page, app_server):
    page.set_viewport_size({"width": 900, "height": 500})
    app_server.fakes["openai"].play(Reply(tokens=[f"Line {i}.\n\n" for i in range(300)], delay=0.03))
    page.goto(app_server.url)
    send(page, "Write a lot")
    expect(last_reply(page)).to_contain_text("Line 40.", timeout=TIMEOUT)
    jump = page.get_by_role("button", name="Jump to latest")
    expect(jump).to_be_hidden()

    page.mouse.wheel(0, -3000)

    expect(jump).to_be_visible(timeout=TIMEOUT)
    where = page.evaluate("document.scrollingElement.scrollTop")
    page.wait_for_timeout(500)
    assert page.evaluate("document.scrollingElement.scrollTop") == where, "the page no longer follows the reply"
    jump.click()
    expect(jump).to_be_hidden(timeout=TIMEOUT)
    page.wait_for_function(
        "() => { const e = document.scrollingElement; return e.scrollHeight - e.scrollTop - e.clientHeight < 150; }"
    )


def test_on_a_phone_the_drawer_folds_away_behind_the_menu_button(page: Page, app_server):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(app_server.url)

    expect(page.get_by_placeholder("Message")).to_be_visible()
    expect(page.get_by_role("button", name="New chat")).not_to_be_in_viewport()
    page.get_by_role("button", name="Conversations").click()
    expect(page.get_by_role("button", name="New chat")).to_be_in_viewport(timeout=TIMEOUT)
    page.wait_for_timeout(400)  # the drawer slides in
    screenshot(page, "phone-drawer")
