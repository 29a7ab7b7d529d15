"""Markdown from a model, rendered to HTML that is safe by construction.

Raw HTML in the text is shown as text, links may only be http(s) or mailto, and images become links so nothing is
fetched until the person clicks (an auto-loaded image URL can carry a conversation out to a third party).
Formulas are typeset by KaTeX (app/ui/math.py); code blocks get a header with their language, and Mermaid blocks
are drawn in the browser once their fence is closed (streaming_markdown.js). The browser's DOMPurify runs over the
result as a second layer.
"""

from __future__ import annotations

import re
from functools import cache
from html import escape
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from mdit_py_plugins.texmath import texmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from app.text import without_lone_surrogates
from app.ui.math import render_formula
from app.ui.previews import fence_is_open, preview_kind

SAFE_SCHEMES = {"http", "https", "mailto"}
# The highlighted spans alone: _code_block wraps them; the styles apply inside rendered replies only.
_formatter = HtmlFormatter(nowrap=True)
# A light palette, and a dark one for dark mode: the light one's near-white background under the dark theme's white
# text left code unreadable.
CODE_STYLE = HtmlFormatter(style="default").get_style_defs(".md-body pre") + HtmlFormatter(
    style="github-dark"
).get_style_defs(".body--dark .md-body pre")
# What a fence's info string may name as its language; anything else is shown as plain code, labelled "text".
LANGUAGE = re.compile(r"[A-Za-z0-9_+#.-]{1,32}")
CLOSING_DELIMITER = {"\\(": "\\)", "\\[": "\\]"}


def is_safe_url(url: str) -> bool:
    # Browsers ignore tabs, newlines and leading control characters in a scheme ("java\tscript:"); so must we.
    cleaned = "".join(ch for ch in url if ch > " " and ch != "\x7f")
    scheme = urlsplit(cleaned).scheme.lower()
    return scheme in SAFE_SCHEMES or (not scheme and cleaned.startswith("#"))


def _highlight(code: str, language: str) -> str:
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    return escape(code, quote=False) if lexer is None else highlight(code, lexer, _formatter)


def _code_block(code: str, info: str, fence_open: bool = False) -> str:
    """A block of code under a header bar with its language (the page adds Copy there, and Preview for what it
    can preview: data-preview, with data-fence="open" while the fence is still being written). Long lines scroll
    inside the block, not the page."""
    first_word = info.split(maxsplit=1)[0] if info.strip() else ""
    language = first_word if LANGUAGE.fullmatch(first_word) else ""
    code_class = f' class="language-{language}"' if language else ""
    kind = preview_kind(code, language)
    preview = f' data-preview="{kind}"' + (' data-fence="open"' if fence_open else "") if kind else ""
    return (
        f'<div class="code-block" data-lang="{language or "text"}"{preview}><div class="code-head">'
        f'<span class="code-lang">{language or "text"}</span></div>'
        f'<pre tabindex="0"><code{code_class}>{_highlight(code, language)}</code></pre></div>\n'
    )


def _render_fence(_renderer, tokens, index, _options, _env) -> str:
    token = tokens[index]
    return _code_block(token.content, token.info, token.meta.get("open", False))


def _mark_open_fences(state) -> None:
    """A core rule after the block parse: a fence that has no closing line yet says so (token.meta["open"])."""
    lines = state.src.split("\n")
    for token in state.tokens:
        if token.type == "fence" and token.map:
            token.meta["open"] = fence_is_open(lines, token.map[0], token.map[1], token.markup)


def _render_code_block(_renderer, tokens, index, _options, _env) -> str:
    return _code_block(tokens[index].content, "")


def _math(source: str, display: bool, markup: str) -> str:
    """A formula, or, while it is still being written or cannot be typeset, its text as written (never an error)."""
    typeset = render_formula(source, display)
    return typeset if typeset is not None else f'<span class="math-source">{escape(markup)}</span>'


def _as_written(token: Token, delimiter: str) -> str:
    """The formula with its own delimiters (`$`, `$$`, `\\(`, `\\[`), as the model wrote it."""
    opening = token.markup or delimiter
    return f"{opening}{token.content}{CLOSING_DELIMITER.get(opening, opening)}"


def _render_inline_math(_renderer, tokens, index, _options, _env) -> str:
    token = tokens[index]
    double = token.type == "math_inline_double"
    return _math(token.content, double, _as_written(token, "$$" if double else "$"))


def _display_brackets_inline(state, silent: bool) -> bool:
    """`\\[ ... \\]` in the middle of a sentence, as models often write it (texmath reads it only as a block)."""
    if not state.src.startswith("\\[", state.pos):
        return False
    end = state.src.find("\\]", state.pos + 2)
    if end < 0:
        return False
    if not silent:
        token = state.push("math_inline_double", "math", 0)
        token.content, token.markup = state.src[state.pos + 2 : end], "\\["
    state.pos = end + 2
    return True


def _render_display_math(_renderer, tokens, index, _options, _env) -> str:
    token = tokens[index]
    return (
        f'<div class="math-display" tabindex="0">{_math(token.content.strip(), True, _as_written(token, "$$"))}</div>\n'
    )


def _render_table_open(renderer, tokens, index, options, env) -> str:
    # Wide tables scroll sideways inside the reply instead of pushing the page wider than a phone.
    # Focusable, so a keyboard can scroll it too (what scrolls must be reachable without a mouse).
    return '<div class="table-scroll" tabindex="0">' + renderer.renderToken(tokens, index, options, env)


def _render_table_close(renderer, tokens, index, options, env) -> str:
    return renderer.renderToken(tokens, index, options, env) + "</div>\n"


def _render_link_open(renderer, tokens, index, options, env) -> str:
    token = tokens[index]
    token.attrSet("target", "_blank")
    token.attrSet("rel", "noopener noreferrer nofollow")
    return renderer.renderToken(tokens, index, options, env)


def _render_image(_renderer, tokens, index, _options, _env) -> str:
    token = tokens[index]
    source = token.attrGet("src") or ""
    alt = token.content or "image"
    label = f"🖼 {escape(alt)}"
    if not is_safe_url(source):
        return f'<span class="md-image-blocked">{label}</span>'
    href = escape(source, quote=True)
    return f'<a class="md-image-link" href="{href}" target="_blank" rel="noopener noreferrer nofollow">{label}</a>'


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False})
    parser.enable(["table", "strikethrough"])
    # "$5 and $10" is money, not math: no space inside the dollars, no digit right after the closing one.
    parser.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    parser.use(texmath_plugin, delimiters="brackets")  # \(...\) and \[...\]
    parser.inline.ruler.before("escape", "math_display_inline", _display_brackets_inline)
    parser.use(tasklists_plugin, label=True)  # - [ ] and - [x], as disabled checkboxes labelled by their text
    parser.core.ruler.after("block", "open_fences", _mark_open_fences)
    parser.validateLink = is_safe_url
    rules = {
        "link_open": _render_link_open,
        "image": _render_image,
        "fence": _render_fence,
        "code_block": _render_code_block,
        "math_inline": _render_inline_math,
        "math_inline_double": _render_inline_math,
        "math_block": _render_display_math,
        "math_block_eqno": _render_display_math,
        "table_open": _render_table_open,
        "table_close": _render_table_close,
    }
    for name, rule in rules.items():
        parser.add_render_rule(name, rule)
    return parser


def markdown_source(text: str) -> str:
    """The text as the parser sees it: markdown-it folds CR LF and CR into LF itself, and doing it first keeps
    character offsets in the incremental renderer aligned with the parser's lines."""
    return without_lone_surrogates(text).replace("\r\n", "\n").replace("\r", "\n")


def parse_blocks(source: str) -> list[Token]:
    return _parser().parse(source, {})


def render_tokens(tokens: list[Token]) -> str:
    parser = _parser()
    return parser.renderer.render(tokens, parser.options, {})


def render_markdown(text: str) -> str:
    return _parser().render(markdown_source(text))
