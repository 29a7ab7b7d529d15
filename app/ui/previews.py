"""Which code blocks can be previewed (issue 16): HTML (a fence of html, or a complete HTML document), SVG and
Mermaid. The page shows them in a sandboxed frame (static/preview.js); here they are only recognised, also while
their fence is still being written."""

from __future__ import annotations

import re

PREVIEW_LANGUAGES = {"html": "html", "htm": "html", "xhtml": "html", "svg": "svg", "mermaid": "mermaid"}
# Fences whose code may still be a document worth previewing when it looks like one.
SNIFFED_LANGUAGES = {"", "text", "xml", "markup"}
HTML_DOCUMENT = re.compile(r"\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>])", re.IGNORECASE | re.DOTALL)
SVG_DOCUMENT = re.compile(r"\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<svg[\s>]", re.IGNORECASE | re.DOTALL)


def preview_kind(code: str, language: str) -> str | None:
    """`html`, `svg` or `mermaid` for a block the page can preview, else None."""
    language = language.lower()
    if kind := PREVIEW_LANGUAGES.get(language):
        return kind
    if HTML_DOCUMENT.match(code):
        return "html"
    if language in SNIFFED_LANGUAGES and SVG_DOCUMENT.match(code):
        return "svg"
    return None


def fence_is_open(lines: list[str], start: int, end: int, marker: str) -> bool:
    """A fence from line `start` to `end` (markdown-it's map) that has no closing line yet: the model is still
    writing it (markdown-it runs such a fence to the end of the text)."""
    if end - start < 2:
        return True
    # (in a quote or a list the closing line carries their marks and indentation)
    closing = lines[end - 1].lstrip(" \t>").strip() if end - 1 < len(lines) else ""
    return not (closing.startswith(marker[:3]) and set(closing) == {marker[0]} and len(closing) >= len(marker))
