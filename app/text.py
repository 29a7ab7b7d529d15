"""Text that every layer can carry: storage, JSON on the websocket, HTML."""

from __future__ import annotations

import re

LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """A lone surrogate (possible in JSON from a browser or a model) cannot be encoded as UTF-8, so it becomes
    U+FFFD, the visible replacement character, instead of failing a database write or a websocket message."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return LONE_SURROGATE.sub("\ufffd", text)
    return text
