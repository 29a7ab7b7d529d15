"""A reply in flight as the pages see it: rendered once per frame, whatever the token rate, for every tab."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from app.chat.generation import Generation
from app.chat.tool_calls import calls_begin
from app.listeners import Listeners
from app.ui.streaming.incremental import IncrementalMarkdown, Patch

# Updates are coalesced to at most one per frame: at 1,000+ tokens/s a browser could not show more anyway. Each tab
# then takes them only as fast as it applies them (see StreamingMarkdown).
FRAME_SECONDS = 1 / 60

LiveListener = Callable[[Patch | None, Generation], None]

# The replies being written, by message id. A reply leaves once it has ended and sent its last patch: the tabs that
# showed it keep their own reference for as long as they need it, and a tab opened later renders the stored text.
_live_replies: dict[int, LiveReply] = {}


class LiveReply:
    """Shared by every tab showing one reply: one render per frame, the same patch to each of them."""

    @classmethod
    def of(cls, generation: Generation) -> LiveReply:
        live = _live_replies.get(generation.message_id)
        if live is None or live.generation is not generation:
            live = _live_replies[generation.message_id] = cls(generation)
        return live

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        # A reply that calls tools is text, its calls, text, ...: each round's text is a segment of its own, shown
        # before the round's calls. `markdown` renders the segment being written; the ones before are finished.
        self.segment = 0
        self.segment_start = 0  # where it begins in the reply's text
        self.finished_segments: list[str] = []  # their HTML, for a tab that opens the reply later
        self.markdown = IncrementalMarkdown()
        self._close_segments()
        self.markdown.update(generation.text[self.segment_start :])
        self._listeners: Listeners[[Patch | None, Generation]] = Listeners(
            f"the reply in conversation {generation.conversation_id}"
        )
        self._flush_scheduled: asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        self._unsubscribe = generation.subscribe(self._on_change)

    def watch(self, listener: LiveListener) -> Callable[[], None]:
        return self._listeners.add(listener)

    def _on_change(self, generation: Generation) -> None:
        if not generation.is_running:
            if self._flush_scheduled is not None:
                self._flush_scheduled.cancel()
            self._flush(final=True)
        elif self._flush_scheduled is None:
            wait = max(0.0, self._last_flush + FRAME_SECONDS - time.monotonic())
            self._flush_scheduled = asyncio.get_running_loop().call_later(wait, self._flush)

    def _flush(self, final: bool = False) -> None:
        self._flush_scheduled = None
        self._last_flush = time.monotonic()
        self._close_segments(notify=True)
        text = self.generation.text[self.segment_start :]
        patch = self.markdown.finish(text) if final else self.markdown.update(text)
        self._listeners.notify(patch, self.generation)
        if final:
            self._unsubscribe()
            if _live_replies.get(self.generation.message_id) is self:
                del _live_replies[self.generation.message_id]

    def _close_segments(self, notify: bool = False) -> None:
        """Each round whose calls are shown ends its segment where the calls begin; the next round's text starts
        a new one. Tabs get the segment's last patch before any patch of the next (`segment` says which)."""
        while rounds := [step for step in self.generation.calls.shown if step.round == self.segment]:
            end = calls_begin(rounds, self.segment_start, len(self.generation.text))
            patch = self.markdown.finish(self.generation.text[self.segment_start : end])
            if notify:
                self._listeners.notify(patch, self.generation)
            self.finished_segments.append(self.markdown.html)
            self.segment += 1
            self.segment_start = end
            self.markdown = IncrementalMarkdown()


def live_replies() -> list[LiveReply]:
    """The renderers of replies still being written (or whose last patch is not out yet)."""
    return list(_live_replies.values())
