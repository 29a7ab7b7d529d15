"""The page around the messages: one reading column, following the reply, the title, toasts, and what happens when
the connection drops (a banner, Send waiting, and the text being typed kept in this browser)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.app_process import chat_app
from tests.browser.conftest import screenshot
from tests.browser.test_chat_in_browser import TIMEOUT, last_reply, send
from tests.fakes.provider_server import Reply
from tests.seeding import seed_history

DISTANCE_TO_END = (
    "(() => { const e = document.scrollingElement; return e.scrollHeight - e.scrollTop - e.clientHeight; })()"
)


def box_of(page: Page, selector: str) -> dict:
    return page.locator(selector).last.bounding_box()


def long_markdown_reply(lines: int = 160) -> list[str]:
    parts = []
    for i in range(lines):
        if i % 20 == 0:
            parts.append(f"## Part {i // 20}\n\n")
        elif i % 20 == 10:
            parts.append("```python\nfor step in range(10):\n    print(step)\n```\n\n")
        else:
            parts.append(f"- point {i} with a few words to make the line wrap on a narrow window\n")
    return parts


def test_messages_and_the_message_box_share_one_centred_column_on_a_wide_screen(page: Page, app_server):
    page.set_viewport_size({"width": 1600, "height": 900})
    app_server.fakes["openai"].play(Reply(tokens=["A short answer."]))
    page.goto(app_server.url)
    send(page, "Hello")
    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)

    composer, reply, mine = box_of(page, ".composer"), box_of(page, ".msg-assistant"), box_of(page, ".msg-user")
    drawer = box_of(page, ".q-drawer")
    assert abs(composer["x"] - reply["x"]) < 2 and abs(composer["width"] - reply["width"]) < 2
    assert abs((mine["x"] + mine["width"]) - (reply["x"] + reply["width"])) < 2, "my bubble ends where the column does"
    assert composer["x"] > drawer["x"] + drawer["width"], "the box is beside the drawer, not under it"
    centre_of_chat = (drawer["x"] + drawer["width"] + 1600) / 2
    assert abs(reply["x"] + reply["width"] / 2 - centre_of_chat) < 2
    border = page.locator(".q-drawer").evaluate("(e) => getComputedStyle(e).borderRightWidth")
    assert border == "1px", "a clear edge between the drawer and the chat"
    screenshot(page, "layout-wide")


def test_the_conversation_title_shows_in_the_header_and_the_tab(page: Page, app_server):
    app_server.fakes["openai"].play(Reply(tokens=["Rye or wheat?"]))
    page.goto(app_server.url)
    expect(page).to_have_title("Chat")

    send(page, "Sourdough starter tips")

    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    title = page.locator(".chat-title")
    expect(title).not_to_have_text("New chat", timeout=TIMEOUT)
    expect(page).to_have_title(f"{title.inner_text()} · Chat")


def test_a_tall_message_and_a_long_reply_stay_followed_until_the_person_scrolls(page: Page, app_server):
    page.set_viewport_size({"width": 1000, "height": 600})
    app_server.fakes["openai"].play(Reply(tokens=long_markdown_reply(), delay=0.02))
    page.goto(app_server.url)
    jump = page.get_by_role("button", name="Jump to latest")

    send(page, "\n".join(f"pasted line {i}" for i in range(80)))  # an 80-line paste

    reply = last_reply(page)
    expect(reply).to_contain_text("point 3", timeout=TIMEOUT)
    distances = []
    while reply.get_attribute("data-status") != "complete":
        assert jump.is_hidden(), "nobody scrolled, yet the page stopped following"
        distances.append(page.evaluate(DISTANCE_TO_END))
        page.wait_for_timeout(50)
    page.wait_for_timeout(200)
    assert jump.is_hidden()
    assert page.evaluate(DISTANCE_TO_END) < 150
    assert sorted(distances)[len(distances) // 2] < 150, "the newest text stayed in view while it streamed"


def test_opening_a_long_conversation_lands_on_its_latest_message(page: Page, app_server):
    page.set_viewport_size({"width": 1000, "height": 600})
    app_server.fakes["openai"].play(Reply(tokens=long_markdown_reply(120)))
    page.goto(app_server.url)
    send(page, "Tell me everything")
    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    url = page.url

    page.goto(app_server.url)
    page.goto(url)

    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    page.wait_for_function(f"{DISTANCE_TO_END} < 150", timeout=TIMEOUT)
    expect(last_reply(page).locator(".msg-footer")).to_be_in_viewport()


def test_toasts_float_above_the_message_box(page: Page, app_server):
    app_server.fakes["openai"].play(Reply(tokens=["Copy me."]))
    page.goto(app_server.url)
    send(page, "Hi")
    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)

    last_reply(page).get_by_role("button", name="Copy message").click()

    toast = page.locator(".q-notification").filter(has_text="Copied")
    expect(toast).to_be_visible()
    page.wait_for_timeout(1000)  # its slide-in is over
    assert toast.bounding_box()["y"] + toast.bounding_box()["height"] <= box_of(page, ".q-footer")["y"] + 1


def test_a_draft_is_kept_in_this_browser_across_a_reload_and_forgotten_once_sent(page: Page, app_server):
    app_server.fakes["openai"].play(Reply(tokens=["Noted."]))
    page.goto(app_server.url)
    box = page.get_by_placeholder("Message")
    box.fill("a thought I have not finished")
    page.wait_for_timeout(500)

    page.reload()

    expect(box).to_have_value("a thought I have not finished", timeout=TIMEOUT)
    box.press("Enter")
    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(last_reply(page)).to_contain_text("Noted.")
    assert [m.inner_text() for m in page.locator(".msg-user .msg-text").all()] == ["a thought I have not finished"]
    page.reload()
    expect(last_reply(page)).to_contain_text("Noted.", timeout=TIMEOUT)
    expect(box).to_have_value("")


def test_when_the_server_restarts_a_banner_says_so_send_waits_and_the_draft_survives(page: Page, tmp_path):
    with chat_app(tmp_path) as first:
        page.goto(first.url)
        box = page.get_by_placeholder("Message")
        box.fill("typed while the server restarts")
        page.wait_for_timeout(500)

        first.process.kill()

        banner = page.locator("#connection-banner")
        expect(banner).to_be_visible(timeout=TIMEOUT)
        expect(banner).to_contain_text("Reconnecting")
        send_button = page.get_by_role("button", name="Send")
        expect(send_button).to_have_attribute("aria-disabled", "true")
        assert "Reconnecting" in (send_button.get_attribute("title") or "")
        box.press("Enter")  # refused while away: the text stays
        expect(box).to_have_value("typed while the server restarts")
        screenshot(page, "reconnecting")
        port = first.process.port

    with chat_app(tmp_path, port=port):  # the same address, as a restart would have
        expect(banner).to_be_hidden(timeout=30_000)
        expect(page.get_by_placeholder("Message")).to_have_value("typed while the server restarts", timeout=TIMEOUT)
        expect(page.get_by_role("button", name="Send")).not_to_have_attribute("aria-disabled", "true")


def test_the_drawer_keeps_its_place_when_a_conversation_far_down_is_opened(page: Page, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'chat.db'}"
    seed_history(database_url, conversations=120)
    with chat_app(tmp_path, database_url=database_url) as app:
        page.goto(app.url)
        drawer = page.locator(".q-drawer .q-drawer__content")
        row = page.get_by_role("link", name="Conversation 45", exact=True)
        row.scroll_into_view_if_needed(timeout=TIMEOUT)  # the drawer loads more rows as it scrolls
        place = drawer.evaluate("(e) => e.scrollTop")
        assert place > 300

        row.click()

        expect(page).to_have_title("Conversation 45 · Chat", timeout=TIMEOUT)
        current = page.get_by_role("link", name="Conversation 45", exact=True)
        expect(current).to_have_attribute("aria-current", "page")
        expect(current).to_be_in_viewport()
        assert abs(drawer.evaluate("(e) => e.scrollTop") - place) < 60
