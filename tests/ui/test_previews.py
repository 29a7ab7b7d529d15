"""Which code blocks get a Preview: HTML, SVG and Mermaid fences and complete HTML documents, recognised while they
are still being written too (a fence not closed yet says so, and the preview waits for it before it shows errors)."""

from __future__ import annotations

import re

import pytest

from app.ui.markdown import render_markdown
from app.ui.previews import preview_kind
from app.ui.streaming.incremental import IncrementalMarkdown


def blocks(html: str) -> list[tuple[str | None, bool]]:
    """(data-preview, fence still open) of each code block."""
    found = re.findall(r'<div class="code-block"[^>]*>', html)
    return [
        ((m.group(1) if (m := re.search(r'data-preview="(\w+)"', tag)) else None), 'data-fence="open"' in tag)
        for tag in found
    ]


@pytest.mark.parametrize(
    "code,language,kind",
    [
        ("<b>hi</b>", "html", "html"),
        ("<b>hi</b>", "HTML", "html"),
        ("<svg viewBox='0 0 1 1'></svg>", "svg", "svg"),
        ("graph LR\n A --> B", "mermaid", "mermaid"),
        ("<!DOCTYPE html><title>x</title>", "", "html"),
        ("<!-- a page -->\n<html lang=en>", "text", "html"),
        ("<?xml version='1.0'?>\n<svg xmlns='http://www.w3.org/2000/svg'/>", "xml", "svg"),
        ("<svg></svg>", "", "svg"),
        ("print('<html>')", "python", None),
        ("<div>not a document</div>", "", None),
        ("<svg></svg>", "javascript", None),
        ("", "html", "html"),
    ],
)
def test_what_can_be_previewed(code, language, kind):
    assert preview_kind(code, language) == kind


def test_a_closed_html_fence_gets_a_preview_and_python_does_not():
    html = render_markdown("```html\n<button>Go</button>\n```\n\n```python\nprint(1)\n```\n")
    assert blocks(html) == [("html", False), (None, False)]


def test_an_unclosed_fence_mid_stream_is_previewable_and_says_it_is_still_open():
    assert blocks(render_markdown("Here:\n\n```html\n<h1>Half")) == [("html", True)]
    assert blocks(render_markdown("```svg\n<svg><circle r='4'/>\n```")) == [("svg", False)]
    assert blocks(render_markdown("```mermaid\n")) == [("mermaid", True)]


def test_a_fence_closed_inside_a_quote_or_a_list_is_closed():
    assert blocks(render_markdown("> ```html\n> <p>x</p>\n> ```\n")) == [("html", False)]
    assert blocks(render_markdown("- item\n\n  ```html\n  <p>x</p>\n  ```\n")) == [("html", False)]


def test_streamed_token_by_token_the_block_is_open_until_its_fence_closes_then_closed():
    text = 'Try this:\n\n```html\n<button onclick="this.textContent++">0</button>\n```\n\nDone.'
    markdown, states = IncrementalMarkdown(), []
    for end in range(1, len(text) + 1):
        markdown.update(text[:end])
        states.append(blocks(markdown.html))
    markdown.finish(text)
    opened = [state for state in states if state == [("html", True)]]
    assert opened, "previewable while it is written"
    assert states.index(opened[-1]) < states.index([("html", False)]), "then closed, once its fence is"
    assert blocks(markdown.html) == [("html", False)]


def test_text_that_merely_mentions_a_fence_gets_no_preview():
    assert blocks(render_markdown("Write `<html>` in a ```html fence.")) == []
