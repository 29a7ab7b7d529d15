"""A reply in flight as the pages see it: rendered once per frame, whatever the token rate, for every tab."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from app.chat.generation import Generation
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
        self.markdown = IncrementalMarkdown()
        self.markdown.update(generation.text)
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
        text = self.generation.text
        patch = self.markdown.finish(text) if final else self.markdown.update(text)
        self._listeners.notify(patch, self.generation)
        if final:
            self._unsubscribe()
            if _live_replies.get(self.generation.message_id) is self:
                del _live_replies[self.generation.message_id]


def live_replies() -> list[LiveReply]:
    """The renderers of replies still being written (or whose last patch is not out yet)."""
    return list(_live_replies.values())
