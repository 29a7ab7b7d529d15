"""Markdown from a model, rendered to HTML that is safe by construction.

Raw HTML in the text is shown as text, links may only be http(s) or mailto, and images become links so nothing is
fetched until the person clicks (an auto-loaded image URL can carry a conversation out to a third party).
The browser's DOMPurify runs over the result as a second layer.
"""

from __future__ import annotations

from functools import cache
from html import escape
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from app.text import without_lone_surrogates

SAFE_SCHEMES = {"http", "https", "mailto"}
# markdown-it wraps the highlighted spans in <pre><code>; the styles apply inside rendered replies only.
_formatter = HtmlFormatter(nowrap=True)
CODE_STYLE = HtmlFormatter(style="default").get_style_defs(".md-body pre")


def is_safe_url(url: str) -> bool:
    # Browsers ignore tabs, newlines and leading control characters in a scheme ("java\tscript:"); so must we.
    cleaned = "".join(ch for ch in url if ch > " " and ch != "\x7f")
    scheme = urlsplit(cleaned).scheme.lower()
    return scheme in SAFE_SCHEMES or (not scheme and cleaned.startswith("#"))


def _highlight(code: str, language: str, _attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(language.strip()) if language.strip() else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it then writes an escaped <pre><code> itself
    return highlight(code, lexer, _formatter)


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
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "highlight": _highlight})
    parser.enable(["table", "strikethrough"])
    parser.validateLink = is_safe_url
    parser.add_render_rule("link_open", _render_link_open)
    parser.add_render_rule("image", _render_image)
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
