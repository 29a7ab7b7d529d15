"""Untrusted output and strange input in a real browser, the login on a LAN bind, and copying over plain http."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import chat_app, screenshot
from tests.browser.test_chat_in_browser import TIMEOUT, last_reply, send
from tests.fakes.provider_server import Reply


def hostile_markdown(canary_url: str) -> list[str]:
    return [
        "<script>window.__xss = 'script'</script>\n\n",
        '<img src="x" onerror="window.__xss = \'onerror\'">\n\n',
        "[inline](javascript:window.__xss='inline') ",
        "[upper](JaVaScRiPt:window.__xss='upper') ",
        "[entity](&#106;avascript:window.__xss='entity') ",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) ",
        "[reference][evil]\n\n[evil]: javascript:window.__xss='reference'\n\n",
        '<svg onload="window.__xss=\'svg\'"><circle r="5"/></svg>\n\n',
        f'<iframe src="{canary_url}/frame"></iframe>\n\n',
        f"![tracking pixel]({canary_url}/pixel.png?secret=conversation-text)\n\n",
        f'<img src="{canary_url}/raw.png">\n\n',
        "Done.",
    ]


def test_hostile_model_output_runs_nothing_and_fetches_nothing(page: Page, app_server, canary):
    canary_url, hits = canary
    app_server.fakes["openai"].play(Reply(tokens=hostile_markdown(canary_url), delay=0.02))
    page.goto(app_server.url)

    send(page, "Say something dangerous")

    reply = last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(reply).to_contain_text("Done.")
    assert page.evaluate("window.__xss") is None
    assert reply.locator("script, img, svg, iframe, object, embed").count() == 0
    hrefs = [link.get_attribute("href") or "" for link in reply.locator("a").all()]
    assert not [href for href in hrefs if href.strip().lower().startswith(("javascript:", "data:"))], hrefs
    # The markdown image became a link: nothing is fetched until a person clicks it.
    expect(reply.get_by_role("link", name="tracking pixel")).to_be_visible()
    page.reload()
    expect(last_reply(page)).to_contain_text("Done.", timeout=TIMEOUT)
    assert page.evaluate("window.__xss") is None
    assert hits == []


def test_hostile_input_is_shown_as_the_text_it_is(page: Page, app_server):
    page.goto(app_server.url)
    typed = "<img src=x onerror=\"window.__xss='input'\"> <script>window.__xss='input'</script> **not bold**"

    send(page, typed)

    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(page.locator('[data-role="user"]').last).to_contain_text(typed)
    assert page.evaluate("window.__xss") is None


def type_exactly(page: Page, text_expression: str) -> None:
    """Put a string built in JavaScript (it may hold what a keyboard cannot type) in the box, as a paste would."""
    page.get_by_placeholder("Message").evaluate(
        f"(box) => {{ box.value = {text_expression}; box.dispatchEvent(new Event('input', {{bubbles: true}})); }}"
    )
    page.get_by_placeholder("Message").press("Enter")


@pytest.mark.parametrize(
    ("expression", "length"),
    [("'x'.repeat(1000000)", 1_000_000), ("'word '.repeat(40000)", 200_000)],
    ids=["1 MB message", "200 KB single line"],
)
def test_huge_input_is_sent_whole_and_shown(page: Page, app_server, expression, length):
    page.goto(app_server.url)

    type_exactly(page, expression)

    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    sent = app_server.fakes["openai"].chat_requests[-1].body["messages"][-1]["content"]
    assert len(sent) == length
    page.reload()
    assert len(page.locator('[data-role="user"]').last.inner_text()) >= length - 1


def test_strange_characters_are_stored_and_shown_without_loss(page: Page, app_server):
    page.goto(app_server.url)
    strange = "NUL[\\u0000] ANSI[\\u001b[31mred\\u001b[0m] RTL[\\u202eevil\\u202c שלום] ZW[a\\u200bb] lone[\\ud800]"

    type_exactly(page, f'"{strange}"')

    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    sent = app_server.fakes["openai"].chat_requests[-1].body["messages"][-1]["content"]
    expected = "NUL[\0] ANSI[\x1b[31mred\x1b[0m] RTL[\u202eevil\u202c שלום] ZW[a\u200bb] lone[\ufffd]"
    assert sent == expected, "only the lone surrogate, which cannot be stored, became U+FFFD"
    page.reload()
    shown = page.locator('[data-role="user"]').last.inner_text()
    assert "שלום" in shown and "red" in shown and "a\u200bb" in shown and "\ufffd" in shown


def test_copy_works_over_plain_http_without_the_clipboard_api(page: Page, app_server):
    # What a phone on http://192.168.x.y gets: no secure context, so no navigator.clipboard.
    page.add_init_script(
        """
        Object.defineProperty(window, 'isSecureContext', {get: () => false});
        document.addEventListener('copy', (event) => { window.__copied = event.target.value; }, true);
        """
    )
    app_server.fakes["openai"].play(Reply(tokens=["**Bold** ", "answer"]))
    page.goto(app_server.url)
    send(page, "Copy me")
    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)

    last_reply(page).get_by_role("button", name="Copy message").click()

    expect(page.get_by_text("Copied")).to_be_visible(timeout=TIMEOUT)
    assert page.evaluate("window.__copied") == "**Bold** answer", "the markdown as written"


def test_each_code_block_has_a_copy_button_that_copies_only_its_code(page: Page, app_server):
    page.add_init_script(
        "document.addEventListener('copy', (event) => { window.__copied = event.target.value; }, true);"
        "Object.defineProperty(window, 'isSecureContext', {get: () => false});"
    )
    tokens = ["Two blocks:\n\n", "```python\n", "print('one')\n", "```\n\n", "```\n", "two\n", "```\n"]
    app_server.fakes["openai"].play(Reply(tokens=tokens, delay=0.02))
    page.goto(app_server.url)
    send(page, "Code please")
    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)

    copy = last_reply(page).locator(".code-block").nth(1).get_by_role("button", name="Copy code")
    copy.click()

    expect(copy).to_have_text("Copied")
    assert page.evaluate("window.__copied") == "two\n"


def test_on_a_lan_bind_the_chat_asks_for_the_password_first(page: Page, tmp_path):
    with chat_app(tmp_path, ["--lan"], CHAT_PASSWORD="bread and butter") as running:
        page.goto(running.url + "/")
        expect(page.get_by_label("Password")).to_be_visible(timeout=TIMEOUT)
        screenshot(page, "login")
        assert page.get_by_placeholder("Message").count() == 0

        page.get_by_label("Password").fill("wrong")
        page.get_by_label("Password").press("Enter")
        expect(page.get_by_role("alert")).to_have_text("Wrong password.", timeout=TIMEOUT)
        page.get_by_label("Password").fill("bread and butter")
        page.get_by_label("Password").press("Enter")

        expect(page.get_by_placeholder("Message")).to_be_visible(timeout=TIMEOUT)
        send(page, "Hello from the phone")
        expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
        [cookie] = [c for c in page.context.cookies() if c["name"] == "chat_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_label("Password")).to_be_visible(timeout=TIMEOUT)
        page.goto(running.url + "/")
        expect(page.get_by_label("Password")).to_be_visible(timeout=TIMEOUT)


EMOJI_REPLY = (
    "😀 **bold 🖼** and *em* 👩\u200d💻\n\n- one 🇫🇷 e\u0301\n- two ❤\ufe0f\n  - nested 👨\u200d👩\u200d👧\n\n"
    "| a 😀 | b 𝔘 |\n|---|---|\n| 🖼 1 | 2 |\n\n# 😀 title\n\n"
    "![a picture](https://images.example/p.png) after 🖼 <b>raw</b> <p>tag</p>\n\n1. 😀 first\n2. second 😀\n"
)
MARKDOWN_ON_THE_WAY = {f"h{level}" for level in range(1, 7)} | {
    *[
        "p",
        "strong",
        "em",
        "ul",
        "ol",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "a",
        "code",
        "pre",
        "span",
        "br",
        "hr",
        "blockquote",
    ],
    "a[href]",
    "a[class]",
    "a[target]",
    "a[rel]",
    "ol[start]",
    "code[class]",
    "span[class]",
    "pre[class]",
}
# Every element and attribute a patched reply makes, as the page's own DOM records them while it streams.
RECORD_MUTATIONS = """
(root) => {
  window.__seen = new Set();
  const note = (node) => {
    if (node.nodeType !== 1 || !node.closest(".md-part")) return;  // inside a reply's markdown only
    window.__seen.add(node.localName);
    for (const attribute of node.attributes) window.__seen.add(node.localName + "[" + attribute.name + "]");
    for (const child of node.children) note(child);
  };
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) note(node);
      if (change.type === "attributes") note(change.target);
    }
  }).observe(root, {childList: true, subtree: true, attributes: true});
}
"""
INVENTORY = """
(root) => {
  const found = new Set();
  for (const node of root.querySelectorAll(".md-part *")) {
    found.add(node.localName);
    for (const attribute of node.attributes) found.add(node.localName + "[" + attribute.name + "]");
  }
  return [...found];
}
"""


def test_emoji_split_at_every_point_stream_exactly_what_a_reload_shows(page: Page, app_server):
    """Offsets counted in code points on the server and UTF-16 units in the page cut tags in half after every
    emoji; streamed one code point at a time, the reply must equal its reload and make no element it lacks."""
    app_server.fakes["openai"].play(Reply(tokens=list(EMOJI_REPLY), delay=0.004))
    page.goto(app_server.url)
    page.locator(".q-page").evaluate(RECORD_MUTATIONS)

    send(page, "Emoji, please")

    reply = last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    body = reply.locator(".md-body")
    streamed_html, streamed_text = body.inner_html(), body.inner_text()
    seen = set(page.evaluate("[...window.__seen]"))
    page.reload()
    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    reloaded = last_reply(page).locator(".md-body")
    final_markup = set(reloaded.evaluate(INVENTORY))

    assert reloaded.inner_text() == streamed_text
    assert reloaded.inner_html() == streamed_html
    assert seen, "the page recorded nothing: the observer missed the reply"
    # A half-written text may render other markdown on its way (`two\n  -` is a heading until the list item
    # follows), but never anything markdown does not make: no image, form, input, button, style or handler.
    unexpected = seen - final_markup - MARKDOWN_ON_THE_WAY
    assert not unexpected, f"made while streaming, not markdown: {sorted(unexpected)}"
    assert "<b>" not in streamed_html and "&lt;b&gt;raw&lt;/b&gt;" in streamed_html
    assert "🖼" in streamed_text and "\ufffd" not in streamed_text
