"""A finished reply reads like a document: lists, quotes, tasks, tables, formulas, diagrams and code, in light and
dark mode and on a phone, streamed and after a reload. Screenshots land in tests/browser/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_chat_in_browser import TIMEOUT, last_reply, send
from tests.fakes.provider_server import Reply

RICH_REPLY = (
    "## A plan\n\n"
    "1. Mix the flour\n   - sift it first\n     - twice, if lumpy\n2. Knead\n3. Bake\n\n"
    "- bread\n- butter\n\n"
    "> Patience is the secret ingredient.\n\n"
    "- [x] buy flour\n- [ ] preheat the oven\n\n"
    "| Step | Minutes | Temperature | Notes on what to look for while it bakes |\n"
    "|---|---|---|---|\n| Proof | 60 | 24 °C | doubled in size, springs back slowly when poked |\n"
    "| Bake | 35 | 220 °C | deep golden crust, hollow sound when tapped underneath |\n\n"
    "Euler's identity $e^{i\\pi} + 1 = 0$ and the sum\n\n$$\n\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}\n$$\n\n"
    "```mermaid\ngraph LR\n  Flour --> Dough --> Bread\n```\n\n"
    "```python\ndef knead(dough, minutes=10):\n"
    "    return [fold(dough) for _ in range(minutes)]  # a long line that must scroll inside its block, not the page\n"
    "```\n\nEnjoy."
)


def tokens_of(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def stream_rich_reply(page: Page, app_server, delay: float = 0.005):
    app_server.fakes["openai"].play(Reply(tokens=tokens_of(RICH_REPLY), delay=delay))
    page.goto(app_server.url)
    send(page, "How do I bake bread?")
    reply = last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(reply.locator(".mermaid-diagram svg")).to_be_visible(timeout=TIMEOUT)
    return reply


def style(locator, prop: str) -> str:
    return locator.evaluate(f"(e) => getComputedStyle(e).getPropertyValue('{prop}')")


def contrast(page: Page, text_selector: str, background_selector: str) -> float:
    """The WCAG contrast ratio between an element's text colour and another's background."""
    return page.evaluate(
        """([textSelector, backgroundSelector]) => {
          const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
          const lum = ([r, g, b]) => {
            const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
          };
          const fg = lum(rgb(getComputedStyle(document.querySelector(textSelector)).color));
          const bg = lum(rgb(getComputedStyle(document.querySelector(backgroundSelector)).backgroundColor));
          return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
        }""",
        [text_selector, background_selector],
    )


def check_rich_reply(page: Page, reply) -> None:
    ordered, bullets = reply.locator("ol").first, reply.locator("ul").first
    assert style(ordered, "list-style-type") == "decimal" and float(style(ordered, "padding-left")[:-2]) > 10
    assert style(bullets, "list-style-type") == "disc"
    assert style(reply.locator("ol ul ul").first, "list-style-type") == "circle", "a nested list is marked apart"
    assert float(style(reply.locator("blockquote"), "border-left-width")[:-2]) >= 3
    boxes = reply.locator("input.task-list-item-checkbox")
    expect(boxes).to_have_count(2)
    assert boxes.nth(0).is_checked() and boxes.nth(0).is_disabled() and not boxes.nth(1).is_checked()
    # KaTeX typeset the formulas with its own fonts, served by the app; the MathML copy is there for screen readers.
    expect(reply.locator(".katex")).to_have_count(2)
    expect(reply.locator(".math-display .katex-display")).to_be_visible()
    assert reply.locator("math").count() == 2
    assert page.evaluate("document.fonts.check('16px KaTeX_Main')")
    assert reply.locator(".katex-error, .math-source").count() == 0
    # The diagram is drawn, and its code is one click away.
    diagram = reply.locator('.code-block[data-lang="mermaid"]')
    expect(diagram.locator("svg")).to_contain_text("Dough")
    expect(diagram.locator("pre")).to_be_hidden()
    diagram.get_by_role("button", name="Show the diagram's code").click()
    expect(diagram.locator("pre")).to_be_visible()
    diagram.get_by_role("button", name="Show the diagram's code").click()
    # Code: a header naming the language with Copy; the long line scrolls inside the block.
    python = reply.locator('.code-block[data-lang="python"]')
    expect(python.locator(".code-head")).to_contain_text("python")
    expect(python.get_by_role("button", name="Copy code")).to_be_visible()
    assert python.locator("pre").evaluate("(e) => e.scrollWidth > e.clientWidth"), "the long line scrolls"
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth"), "the page itself does not"


def test_a_rich_reply_streams_in_and_reads_like_a_document(page: Page, app_server):
    reply = stream_rich_reply(page, app_server)

    check_rich_reply(page, reply)
    screenshot(page, "reading-light")
    page.reload()
    reply = last_reply(page)
    expect(reply.locator(".mermaid-diagram svg")).to_be_visible(timeout=TIMEOUT)
    check_rich_reply(page, reply)


def test_dark_mode_code_is_light_on_dark_and_everything_stays_readable(page: Page, app_server):
    reply = stream_rich_reply(page, app_server)
    page.get_by_role("button", name="Theme: as the system").click()  # auto → dark

    expect(page.locator("body.body--dark")).to_have_count(1)
    code = '.code-block[data-lang="python"]'
    assert contrast(page, f"{code} pre code", f"{code} pre") >= 7, "the code's plain text"
    assert contrast(page, f"{code} pre .k", f"{code} pre") >= 4.5, "a highlighted keyword"
    assert contrast(page, f"{code} .code-lang", f"{code} .code-head") >= 4.5, "the language label"
    reply.locator(code).scroll_into_view_if_needed()
    screenshot(page, "reading-dark")


def test_on_a_phone_a_wide_table_scrolls_inside_the_reply(page: Page, app_server):
    page.set_viewport_size({"width": 390, "height": 800})
    reply = stream_rich_reply(page, app_server)

    box = reply.locator(".table-scroll")
    assert box.evaluate("(e) => e.scrollWidth > e.clientWidth"), "the table is wider than the phone"
    assert style(box, "overflow-x") == "auto"
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth"), "the page does not scroll sideways"
    box.scroll_into_view_if_needed()
    screenshot(page, "reading-phone")


def test_a_formula_being_written_shows_as_text_and_never_as_an_error(page: Page, app_server):
    formula = "The area is $\\pi r^2$ and \\[ \\int_0^1 x^2 \\, dx = \\frac{1}{3} \\] so there."
    app_server.fakes["openai"].play(Reply(tokens=list(formula), delay=0.03))
    page.goto(app_server.url)
    send(page, "Area?")
    reply = last_reply(page)
    errors = []
    while reply.get_attribute("data-status") != "complete":
        errors += reply.locator(".katex-error").all_text_contents()
        errors += [t for t in reply.locator(".katex").all_text_contents() if "#cc0000" in t]
        page.wait_for_timeout(40)

    assert errors == []
    expect(reply.locator(".katex")).to_have_count(2)


def test_a_broken_diagram_shows_its_source_and_a_short_error(page: Page, app_server):
    app_server.fakes["openai"].play(Reply(tokens=["```mermaid\n", "graph TD\n  A -->\n  ((( nonsense\n", "```\n"]))
    page.goto(app_server.url)
    send(page, "Draw")
    reply = last_reply(page)

    expect(reply.locator(".mermaid-error")).to_contain_text("Could not draw this diagram", timeout=TIMEOUT)
    expect(reply.locator("pre")).to_contain_text("nonsense")
    assert page.locator("body > [id^='dchat-diagram'], body > svg[id^='chat-diagram']").count() == 0
    screenshot(page, "diagram-error")


@pytest.mark.parametrize("renderer", ["diagram", "formula"])
def test_hostile_diagrams_and_formulas_run_nothing_and_fetch_nothing(page: Page, app_server, canary, renderer):
    canary_url, hits = canary
    hostile = {
        "diagram": [
            "```mermaid\ngraph TD\n",
            f'  A["<img src={canary_url}/label.png onerror=window.__xss=1>"]',
            ' --> B["<script>window.__xss=2</script>"]\n',
            "  click A call window.__pwn()\n",
            f'  click B "javascript:window.__xss=3"\n  C["<a href={canary_url}/link>link</a>"]\n',
            f'  D["@import url({canary_url}/import.css);"]\n',
            "```\n\n",
            # Mermaid's grammar refuses styles that point anywhere: this one is shown as code, with the error.
            f"```mermaid\ngraph TD\n  E --> F\n  style E fill:url({canary_url}/fill.png)\n```\n\nDone.",
        ],
        "formula": [
            "$\\href{javascript:window.__xss=4}{x}$ ",
            f"$\\includegraphics{{{canary_url}/math.png}}$ ",
            "$\\htmlData{onload=window.__xss=5}{y}$ ",
            f"$\\color{{red;background:url({canary_url}/css)}}{{z}}$ Done.",
        ],
    }[renderer]
    page.add_init_script("window.__pwn = () => { window.__xss = 'clicked'; };")
    app_server.fakes["openai"].play(Reply(tokens=hostile, delay=0.02))
    page.goto(app_server.url)
    send(page, "Be dangerous")
    reply = last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(reply).to_contain_text("Done.")
    if renderer == "diagram":
        expect(reply.locator(".mermaid-diagram svg")).to_be_visible(timeout=TIMEOUT)  # hostile labels and all
        expect(reply.locator(".mermaid-error")).to_be_visible()
        for node in reply.locator(".mermaid-diagram g.node").all():
            node.click()

    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    assert reply.locator("script, img, iframe, object, embed, a[href^='javascript']").count() == 0
    assert hits == []


def test_two_diagrams_that_become_final_in_one_patch_are_each_drawn_once(page: Page, app_server):
    # Both fences close in one token, and more text follows at once: the drawing started for the first patch is
    # still waiting for Mermaid to load when the next patch starts another. Each diagram must be drawn (or
    # refused) once, not once per drawing under way.
    both = (
        "```mermaid\ngraph TD\n  A --> B\n```\n\n"
        "```mermaid\ngraph TD\n  E --> F\n  style E fill:url(http://127.0.0.1:9/x.png)\n```\n\nMiddle.\n\n"
    )
    app_server.fakes["openai"].play(Reply(tokens=[both, "More ", "text ", "after."], delay=0.05))
    page.goto(app_server.url)
    send(page, "Two diagrams")
    reply = last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete", timeout=TIMEOUT)

    expect(reply.locator(".mermaid-diagram svg")).to_have_count(1, timeout=TIMEOUT)
    expect(reply.locator(".mermaid-error")).to_have_count(1)
    page.wait_for_timeout(500)  # nothing late adds a second drawing or note
    assert reply.locator(".mermaid-diagram").count() == 1 and reply.locator(".mermaid-error").count() == 1
