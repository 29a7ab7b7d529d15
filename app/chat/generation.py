"""One assistant reply in flight: owned by the server, watched by any number of pages, saved as it grows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from contextlib import aclosing
from itertools import count

from app.chat.retry import retry_delay
from app.listeners import Listeners
from app.providers.base import (
    ChatRequest,
    ContextTrimmed,
    Finish,
    ProviderError,
    Queued,
    StreamEvent,
    TextDelta,
    Usage,
)
from app.providers.catalog import ModelOption
from app.settings import Settings
from app.storage.models import Message, Status
from app.storage.repository import ChatRepository

log = logging.getLogger(__name__)

Listener = Callable[["Generation"], None]
# What a reply's footer is made from, on a reply in flight as on a stored one.
STATS_FIELDS = ("content", "input_tokens", "output_tokens", "first_token_ms", "duration_ms")


class Generation:
    def __init__(
        self, conversation_id: str, message_id: int, model: ModelOption, prompt: Message | None = None
    ) -> None:
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.model = model
        self.prompt = prompt  # the person's message this reply answers, when it was just sent
        self.branched = False  # a new version (regenerated, or after an edit): pages show the new branch whole
        self.text = ""
        self.status = Status.STREAMING
        self.error: str | None = None
        self.failure: ProviderError | None = None  # what went wrong, when a provider said so
        self.notice: str | None = None  # e.g. a retry in progress: shown, not stored
        self.note: str | None = None  # e.g. older messages left out of the context: shown and stored
        self.finish_reason: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.stop_requested = False
        self.started_at = time.monotonic()
        self.first_token_at: float | None = None
        self.ended_at: float | None = None
        self.task: asyncio.Task | None = None
        self._listeners: Listeners[[Generation]] = Listeners(f"conversation {conversation_id}")

    @property
    def is_running(self) -> bool:
        return self.status == Status.STREAMING

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(generation)` on every change until the returned function is called."""
        return self._listeners.add(listener)

    def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.stop_requested = True
            self.task.cancel()

    async def wait(self) -> None:
        if self.task is not None:
            await asyncio.shield(self.task)

    def notify(self) -> None:
        self._listeners.notify(self)

    def apply(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            if self.first_token_at is None:
                self.first_token_at = time.monotonic()
            self.text += event.text
            self.notice = None
        elif isinstance(event, Usage):
            self.input_tokens = event.input_tokens if event.input_tokens is not None else self.input_tokens
            self.output_tokens = event.output_tokens if event.output_tokens is not None else self.output_tokens
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, Queued):
            self.notice = queued_notice(event.ahead)
        elif isinstance(event, ContextTrimmed):
            self.note = trimmed_note(event)
        self.notify()

    def stats(self) -> dict[str, object]:
        """What a reply's footer tells: its text and token counts, time to first token and duration."""
        fields = self.saved_fields()
        return {name: fields[name] for name in STATS_FIELDS}

    def saved_fields(self) -> dict[str, object]:
        return {
            "content": self.text,
            "status": self.status,
            "error": self.error,
            "finish_reason": self.finish_reason,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "note": self.note,
            "first_token_ms": _milliseconds(self.first_token_at, self.started_at),
            "duration_ms": _milliseconds(time.monotonic() if self.is_running else self.ended_at, self.started_at),
        }


def _milliseconds(end: float | None, start: float) -> int | None:
    return None if end is None else round((end - start) * 1000)


def queued_notice(ahead: int) -> str:
    if ahead == 0:
        return "Loading the model…"
    replies = "1 reply" if ahead == 1 else f"{ahead} replies"
    return f"Queued: this model writes one reply at a time; {replies} ahead of this one."


def trimmed_note(event: ContextTrimmed) -> str:
    messages = "message was" if event.dropped_turns == 1 else "messages were"
    return (
        f"The {event.dropped_turns} oldest {messages} left out: the conversation is longer than "
        f"the model's context window of {event.context_tokens:,} tokens."
    )


class GenerationRunner:
    """Streams a reply into a Generation with retries before the first token, saving at least once per interval."""

    def __init__(self, repository: ChatRepository, settings: Settings) -> None:
        self.repository = repository
        self.settings = settings

    async def run(self, generation: Generation, request: ChatRequest) -> None:
        saver = asyncio.create_task(self._save_periodically(generation))
        try:
            await self._stream_with_retries(generation, request)
            generation.status = Status.COMPLETE
        except asyncio.CancelledError:
            # Only Stop cancels on purpose; anything else (a shutdown) cut the reply off.
            generation.status = Status.STOPPED if generation.stop_requested else Status.INTERRUPTED
        except ProviderError as error:
            generation.status, generation.error, generation.failure = Status.ERROR, error.message, error
        except Exception as error:
            log.exception("Reply in conversation %s failed", generation.conversation_id)
            generation.status, generation.error = Status.ERROR, f"Unexpected error: {error}"
        finally:
            saver.cancel()
            generation.ended_at = time.monotonic()
            generation.notice = None
            self.repository.save_reply(generation.message_id, **generation.saved_fields())
            generation.notify()

    async def _stream_with_retries(self, generation: Generation, request: ChatRequest) -> None:
        settings = self.settings
        for attempt in count(1):
            try:
                async with aclosing(generation.model.provider.stream(request)) as events:
                    async for event in events:
                        generation.apply(event)
                return
            except ProviderError as error:
                # After the first token a retry would silently rewrite what the person already read.
                if generation.text or not error.transient or attempt > settings.retry_attempts:
                    raise
                delay = retry_delay(attempt, error.retry_after, settings.retry_base_delay, settings.retry_max_delay)
                if delay is None:
                    raise
                log.info("Retrying %s in %.1f s after: %s", generation.model.key, delay, error.message)
                generation.notice = f"{error.message} Retrying in {delay:.0f} s…"
                generation.notify()
                await asyncio.sleep(delay)

    async def _save_periodically(self, generation: Generation) -> None:
        saved_length = 0
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(self.settings.save_interval)
                if len(generation.text) != saved_length:
                    saved_length = len(generation.text)
                    self.repository.save_reply(generation.message_id, content=generation.text)
