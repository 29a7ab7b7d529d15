"""The replies being written right now, by conversation: what both the replies and the conversations consult
(a conversation with a reply in flight cannot be switched to another branch, and shows the reply's live text)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from app.chat.generation import Generation
from app.storage.models import Message


class RepliesInFlight:
    def __init__(self) -> None:
        self._generations: dict[str, Generation] = {}
        self._starting: set[str] = set()  # conversations whose next reply is being set up (its rows written)

    def get(self, conversation_id: str) -> Generation | None:
        return self._generations.get(conversation_id)

    def all(self) -> list[Generation]:
        return list(self._generations.values())

    def busy(self, conversation_id: str) -> bool:
        return conversation_id in self._generations or conversation_id in self._starting

    def add(self, generation: Generation) -> None:
        self._generations[generation.conversation_id] = generation

    def remove(self, generation: Generation) -> None:
        if self._generations.get(generation.conversation_id) is generation:
            del self._generations[generation.conversation_id]

    @contextlib.contextmanager
    def setting_up(self, conversation_id: str | None) -> Iterator[None]:
        """While a reply's rows are written (off the event loop), a second send to the conversation is refused."""
        if conversation_id is not None:
            self._starting.add(conversation_id)
        try:
            yield
        finally:
            self._starting.discard(conversation_id)

    async def stop_and_wait(self, conversation_id: str) -> None:
        if generation := self._generations.get(conversation_id):
            generation.stop()
            await asyncio.gather(generation.wait(), return_exceptions=True)

    def with_live_text(self, conversation_id: str, messages: list[Message]) -> list[Message]:
        """The messages, the reply being written among them showing what is stored of it (it lives in pieces)."""
        if (live := self._generations.get(conversation_id)) is not None:
            for message in messages:
                if message.id == live.message_id:
                    message.content = live.text
        return messages
