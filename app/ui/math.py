"""Formulas in a reply, typeset on the server with KaTeX (through pykatex's embedded QuickJS).

Rendering on the server keeps the page's HTML the one truth the incremental path relies on: a formula is part of
the HTML a patch carries, and the browser only needs KaTeX's stylesheet and fonts (served by the app, no CDN).
KaTeX runs untrusted: `trust` stays off (no \\href, \\url, \\includegraphics, \\htmlStyle...), and macro expansion,
sizes and the formula's length are capped, so a hostile formula costs bounded time and yields only KaTeX's markup.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import pykatex

MAX_FORMULA_LENGTH = 4000
_OPTIONS = {
    "throwOnError": True,  # a formula still being written (or simply wrong) is shown as its text instead
    "trust": False,
    "strict": "ignore",
    "maxExpand": 500,
    "maxSize": 20,
    "output": "htmlAndMathml",  # MathML for screen readers, HTML for the eye
}
_engine = threading.Lock()  # one QuickJS context: one formula at a time


@lru_cache(maxsize=2048)
def render_formula(source: str, display: bool) -> str | None:
    """The formula typeset, or None when KaTeX cannot typeset it (the caller shows its text). The cache matters
    while a reply streams: its last block, formulas and all, is rendered again for every token."""
    if len(source) > MAX_FORMULA_LENGTH:
        return None
    try:
        with _engine:
            return pykatex.renderToString(source, displayMode=display, **_OPTIONS)
    except pykatex.ParseError:
        return None
    except UnicodeDecodeError:
        # The embedded engine hands back half of an emoji's surrogate pair in some error messages (found by the
        # property test with "{ 👨‍👩‍👧 …"): such a formula is shown as its text, like any it cannot typeset.
        return None
