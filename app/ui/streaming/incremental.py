"""A growing markdown text as a sequence of small HTML patches.

Finished top-level blocks are rendered once and never again; only the last block, the one still being written,
is re-rendered, and only the part of its HTML that changed is sent. So the work and the bytes for a reply grow
with its length, not with its length squared.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.text import utf16_length, utf16_prefix
from app.ui.markdown import markdown_source, parse_blocks, render_markdown, render_tokens


@dataclass(frozen=True)
class Patch:
    """Keep the first `keep` units of the reply's HTML, append `append`; the first `stable` units of the result
    will never change again. `keep` is either at least the previous `stable` or 0 (start over).

    Offsets are UTF-16 code units, the browser's own unit (`String.slice`): in code points, every emoji before a
    cut would shift it by one, cutting tags in half and letting the model's text become markup."""

    seq: int
    keep: int
    append: str
    stable: int

    def then(self, later: Patch) -> Patch:
        """This patch followed by `later`, as one patch from the HTML this one started from."""
        if later.keep <= self.keep:
            return later
        kept = utf16_prefix(self.append, later.keep - self.keep)
        return Patch(later.seq, self.keep, kept + later.append, later.stable)


def common_prefix_length(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    if a[:limit] == b[:limit]:
        return limit
    low, high = 0, limit  # binary search on slices: C-speed comparisons instead of a Python loop per character
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


class IncrementalMarkdown:
    def __init__(self) -> None:
        self.stable_html = ""
        self.tail_html = ""
        self.seq = 0
        self._source = ""  # the text as the parser sees it, extended as the text grows
        self._consumed = 0  # characters of the raw text already in _source
        self._stable_source_length = 0  # characters of _source already rendered into stable_html
        self.stable_units = 0  # the length of stable_html in UTF-16 code units, the unit of patches

    @property
    def html(self) -> str:
        return self.stable_html + self.tail_html

    def update(self, text: str) -> Patch | None:
        """The patch that brings the HTML from the last text to `text` (which must extend it); None if no change."""
        self._extend_source(text, final=False)
        tail_source = self._source[self._stable_source_length :]
        tokens = parse_blocks(tail_source)
        starts = [(index, token.map[0]) for index, token in enumerate(tokens) if _starts_top_level_block(token)]
        finished_html, finished_length = "", 0
        if len(starts) >= 2:
            # Every block but the last is finished: what follows has already begun a new block.
            last_index, last_line = starts[-1]
            finished_html = render_tokens(tokens[:last_index])
            finished_length = _line_offset(tail_source, last_line)
            tail_html = render_tokens(tokens[last_index:])
        else:
            tail_html = render_tokens(tokens)
        # Only the old tail is compared and copied: the cost of an update does not grow with the finished part.
        new_tail = finished_html + tail_html
        changed = new_tail != self.tail_html or finished_html  # new HTML, or HTML that just became final
        keep_in_tail = common_prefix_length(self.tail_html, new_tail)
        keep = self.stable_units + utf16_length(new_tail[:keep_in_tail])
        appended = new_tail[keep_in_tail:]
        self.stable_html += finished_html
        self.stable_units += utf16_length(finished_html)
        self.tail_html = tail_html
        self._stable_source_length += finished_length
        return self._next_patch(keep, appended) if changed else None

    def finish(self, text: str) -> Patch | None:
        """The last patch: afterwards the HTML is exactly a full render of `text` (a link reference defined at the
        end, say, can change a block that was already final; then the reply is sent once more, whole)."""
        old_html, full_html = self.html, render_markdown(text)
        keep = common_prefix_length(old_html, full_html)
        if keep < len(self.stable_html):
            keep = 0
        unchanged = keep == len(old_html) == len(full_html) and not self.tail_html
        self.stable_html, self.tail_html = full_html, ""
        self.stable_units = utf16_length(full_html)
        self._extend_source(text, final=True)
        self._stable_source_length = len(self._source)
        return None if unchanged else self._next_patch(utf16_length(full_html[:keep]), full_html[keep:])

    def _extend_source(self, text: str, final: bool) -> None:
        """Normalise only what is new, so an update costs the same at the end of a long reply as at its start.
        A trailing CR waits for the next character: it may be the first half of a CRLF."""
        end = len(text) if final or not text.endswith("\r") else len(text) - 1
        if end > self._consumed:
            self._source += markdown_source(text[self._consumed : end])
            self._consumed = end

    def _next_patch(self, keep: int, appended: str) -> Patch:
        self.seq += 1
        return Patch(self.seq, keep, appended, self.stable_units)


def _starts_top_level_block(token) -> bool:
    return token.level == 0 and token.nesting >= 0 and token.map is not None


def _line_offset(source: str, line: int) -> int:
    offset = 0
    for _ in range(line):
        offset = source.index("\n", offset) + 1
    return offset
