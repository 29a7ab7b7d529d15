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


def utf16_length(text: str) -> int:
    """The length of `text` as a browser counts it (UTF-16 code units): offsets that cross the wire use this unit,
    since JavaScript slices strings by it. A character outside the BMP (any emoji) counts twice."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_prefix(text: str, units: int) -> str:
    """The first `units` UTF-16 code units of `text`, as JavaScript's `text.slice(0, units)`."""
    if text.isascii():
        return text[:units]
    return text.encode("utf-16-le", "surrogatepass")[: 2 * units].decode("utf-16-le", "surrogatepass")
