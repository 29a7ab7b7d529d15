"""One assistant reply in flight: owned by the server, watched by any number of pages, saved as it grows."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import aclosing
from dataclasses import replace
from functools import partial
from itertools import count

from app.chat.retry import retry_delay
from app.chat.tool_calls import ToolBox, run_round
from app.chat.tool_steps import TOOL_EVENTS, ReplyCalls, nothing
from app.listeners import Listeners
from app.metrics import ChatMetrics, ReplyLabels
from app.providers.base import (
    WAITING_EVENTS,
    ChatRequest,
    ChatTurn,
    ContextTrimmed,
    ErrorKind,
    Finish,
    Loading,
    ProviderError,
    Queued,
    StreamEvent,
    TextDelta,
    Usage,
)
from app.providers.catalog import ModelOption
from app.providers.routes import FELL_BACK, Lineup, answered_note, failed_too_note, falls_back, why_it_moved
from app.settings import Settings
from app.storage.models import Message, ReplyEnd, Status, ToolStatus, ToolStepPublic, tokens_per_second
from app.storage.reply_writer import ReplyRecord, ReplyWriter

log = logging.getLogger(__name__)

Listener = Callable[["Generation"], None]
# What the next model of a route is sent, and for which tools: made for each model (app/chat/replies.py).
Prepare = Callable[[ModelOption], tuple[ChatRequest, ToolBox | None]]
# What a reply's footer is made from, on a reply in flight as on a stored one.
STATS_FIELDS = ("content", "input_tokens", "output_tokens", "first_token_ms", "duration_ms", "tools_ms")
SAVE_WARNING = (
    "Saving is failing: {reason}. The text is kept in memory and will be saved, and shown, when the database is "
    "writable again."
)


class Generation:
    def __init__(
        self,
        conversation_id: str,
        message_id: int,
        model: ModelOption,
        prompt: Message | None = None,
        branched: bool = False,
        lineup: Lineup | None = None,
        continues: str = "",
        continued_steps: Sequence[ToolStepPublic] = (),
    ) -> None:
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.model = model  # the model writing it: the next one of its route, once one fails before the first token
        self.lineup = lineup or Lineup((model,))
        self.prompt = prompt  # the person's message this reply answers, when it was just sent
        self.branched = branched  # a new version (regenerated, or after an edit): pages show the new branch whole
        # Everything the provider sent so far; a reply that continues where another model failed starts with that
        # one's text and tool calls (stored again, in this reply, before they are shown).
        self.received = continues
        self.carried = len(continues)  # how much of the text is another reply's (not sent again as tokens)
        self.text = ""  # the part of it that is stored: only this is ever shown, to a page or an API client
        # Where each piece of text the provider sent ends, in `received`.
        self.token_ends: list[int] = [len(continues)] if continues else []
        self.save_warning: str | None = None  # while writes to the database fail
        self.provider_done = False  # the provider's stream has ended (its final state may still be being saved)
        self.status = Status.STREAMING
        self.error: str | None = None
        self.failure: ProviderError | None = None  # what went wrong, when a provider said so
        self.notice: str | None = None  # e.g. a retry in progress: shown, not stored
        self.note: str | None = None  # e.g. older messages left out of the context: shown and stored
        self.route_note: str | None = None  # which model answered instead, and why: shown and stored
        self.fell_back_from: list[str] = []  # the keys of the route's models that failed before this one answered
        self.finish_reason: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.stop_requested = False
        self.started_at = time.monotonic()
        self.first_token_at: float | None = None
        self.ended_at: float | None = None
        self.task: asyncio.Task | None = None
        self._listeners: Listeners[[Generation]] = Listeners(f"conversation {conversation_id}")
        self.calls = ReplyCalls.continuing(continued_steps, len(continues))  # its tool calls (app/chat/tool_steps.py)
        self._first_round = self.calls.round
        self.observe_gap: Callable[[float], None] = nothing  # the metrics' inter-token gaps (app/metrics.py)
        self.last_token_at: float | None = None
        self.tools_seconds = 0.0  # from a round's calls to the next round's first token: not writing
        self._tools_since: float | None = None
        self.queued_seconds = 0.0  # waiting for the embedded model
        self._queued_at: float | None = None
        self._earlier_usage = (0, 0)  # the tokens of the rounds of calls before this one (in, out)

    def start(self, work: Callable[[Generation], object]) -> None:
        """Run `work(self)`, the coroutine that writes this reply, as the reply's own task."""
        self.task = asyncio.get_running_loop().create_task(work(self), name=f"reply-{self.conversation_id}")

    @property
    def is_running(self) -> bool:
        return self.status == Status.STREAMING

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(generation)` on every change until the returned function is called."""
        return self._listeners.add(listener)

    def stop(self) -> None:
        # Once the provider is done there is nothing to stop: what is left is storing the end, which must finish.
        if self.task is not None and not self.task.done() and not self.provider_done:
            self.stop_requested = True
            self.task.cancel()

    async def wait(self) -> None:
        if self.task is not None:
            await asyncio.shield(self.task)

    @property
    def end_waits_for_storage(self) -> bool:
        """The provider is done, but the reply's end cannot be stored yet (the database is failing)."""
        return self.provider_done and self.save_warning is not None

    @property
    def shown_notice(self) -> str | None:
        """What the reply's notice line says: trouble saving first, then a retry or a queue."""
        return self.save_warning or self.notice

    def notify(self) -> None:
        self._listeners.notify(self)

    def stored(self, length: int, steps: tuple[ToolStepPublic, ...] | None = None) -> None:
        """The first `length` characters received (and `steps`, if given) are in the database now: they may be
        shown."""
        if length > len(self.text):
            self.text = self.received[:length]
        if steps is not None:
            self.calls.shown = steps
        self.save_warning = None

    @property
    def stored_note(self) -> str | None:
        """What the reader should know about how the reply was made, as shown and stored."""
        return " ".join(note for note in (self.route_note, self.note) if note) or None

    @property
    def has_answered(self) -> bool:
        """The model wrote something (text, or a call): from here on nothing moves to another model silently."""
        return self.calls.round > self._first_round or self.round_has_output

    @property
    def next_model(self) -> ModelOption | None:
        """The model of its route that can continue this reply, once it has failed with text written."""
        return self.lineup.after(self.model) if self.status == Status.ERROR and self.text else None

    @property
    def steps_made(self) -> list[ToolStepPublic]:
        """The tool calls this reply made (not those of the reply it continues)."""
        return [step for step in self.calls.steps if step.round >= self._first_round]

    @property
    def steps_carried(self) -> list[ToolStepPublic]:
        """The tool calls of the reply it continues."""
        return [step for step in self.calls.steps if step.round < self._first_round]

    def hand_to(self, model: ModelOption, why: str) -> None:
        """The model failed before writing anything: the next one of the route writes the reply."""
        self.fell_back_from.append(self.model.key)
        self.model, self.route_note = model, why
        self.note = None  # what the other model's request said (its context trimmed) is not this one's
        self.notice = None
        self.notify()

    @property
    def round_has_output(self) -> bool:
        """This round's request has produced something (text, or a call): retrying it would rewrite that."""
        return self.calls.has_output(len(self.received))

    def calls_begin(self) -> None:
        """The model made calls: until it writes again, the time goes to them, not to writing."""
        self._tools_since = self._tools_since or time.monotonic()

    def next_round(self) -> None:
        """The calls' results go back to the model: a new request, whose tokens add to those before."""
        self.calls.next_round(len(self.received))
        self._earlier_usage = (self.input_tokens or 0, self.output_tokens or 0)
        self.last_token_at = None  # the time the tools took is not a gap between tokens

    def apply(self, event: StreamEvent) -> None:
        """An event from the provider. Text is not shown yet: it is, once stored (`stored`)."""
        if isinstance(event, TextDelta):
            self._take_text(event.text)
            return  # shown once stored: the writer's callback tells the pages
        if isinstance(event, Usage):
            self._count(event)
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, Queued):
            self.notice = queued_notice(event.ahead)
            self._queued_at = self._queued_at or time.monotonic()
        elif isinstance(event, Loading):
            self.notice = LOADING_NOTICE
            self._left_queue(time.monotonic())
        elif isinstance(event, ContextTrimmed):
            self.note = trimmed_note(event)
        elif isinstance(event, TOOL_EVENTS):
            self.calls.apply(event, len(self.received))
        self.notify()

    def _take_text(self, text: str) -> None:
        now = time.monotonic()
        if self.first_token_at is None:
            self.first_token_at = now
        if self.last_token_at is not None:
            self.observe_gap(now - self.last_token_at)
        self.last_token_at = now
        if self._queued_at is not None:
            self._left_queue(now)
        self._writing_again(now)
        self.received += text
        self.token_ends.append(len(self.received))
        self.notice = None

    def _writing_again(self, now: float) -> None:
        if self._tools_since is not None:
            self.tools_seconds += now - self._tools_since
            self._tools_since = None

    def _left_queue(self, now: float) -> None:
        if self._queued_at is not None:
            self.queued_seconds += now - self._queued_at
            self._queued_at = None

    def _count(self, usage: Usage) -> None:
        # A reply that called tools made one request a round: its tokens are all of theirs.
        earlier_input, earlier_output = self._earlier_usage
        if usage.input_tokens is not None:
            self.input_tokens = earlier_input + usage.input_tokens
        if usage.output_tokens is not None:
            self.output_tokens = earlier_output + usage.output_tokens

    def stats(self) -> dict[str, object]:
        """What a reply's footer tells: its text and token counts, time to first token and duration."""
        fields = {"content": self.text, **self.end(self.status, self.error).model_dump()}
        return {name: fields[name] for name in STATS_FIELDS}

    def end(self, status: Status, error: str | None) -> ReplyEnd:
        """Everything stored about the reply but its text, were it to end with `status`."""
        return ReplyEnd(
            status=status,
            error=error,
            finish_reason=self.finish_reason,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            note=self.stored_note,
            fell_back_from=json.dumps(self.fell_back_from) if self.fell_back_from else None,
            first_token_ms=_milliseconds(self.first_token_at, self.started_at),
            duration_ms=_milliseconds(self.ended_at or time.monotonic(), self.started_at),
            tools_ms=self._tools_ms(),
        )

    def _tools_ms(self) -> int | None:
        """The time its calls took so far (a reply that ends on its calls: up to its end)."""
        open_since = self._tools_since
        ongoing = (self.ended_at or time.monotonic()) - open_since if open_since is not None else 0.0
        return round((self.tools_seconds + ongoing) * 1000) if self.calls.steps else None


def _milliseconds(end: float | None, start: float) -> int | None:
    return None if end is None else round((end - start) * 1000)


LOADING_NOTICE = "Loading the model…"
ROUNDS_NOTE = "Stopped calling tools: this reply reached its limit of rounds of tool calls (TOOL_ROUNDS)."


def queued_notice(ahead: int) -> str:
    replies = "1 reply" if ahead == 1 else f"{ahead} replies"
    return f"Queued: this model writes one reply at a time; {replies} ahead of this one."


def trimmed_note(event: ContextTrimmed) -> str:
    messages = "message was" if event.dropped_turns == 1 else "messages were"
    return (
        f"The {event.dropped_turns} oldest {messages} left out: the conversation is longer than "
        f"the model's context window of {event.context_tokens:,} tokens."
    )


class GenerationRunner:
    """Streams a reply into a Generation, with retries before the first token and limits on silence. Every piece of
    text is stored (by the ReplyWriter) before it is shown, and the reply ends once its final state is stored."""

    def __init__(self, writer: ReplyWriter, settings: Settings, metrics: ChatMetrics) -> None:
        self.writer = writer
        self.settings = settings
        self.metrics = metrics

    async def run(self, generation: Generation, request: ChatRequest, prepare: Prepare) -> None:
        """Write the reply, from `request`; `prepare` makes the request for the next model of its route."""
        final_stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        record = ReplyRecord(
            generation.message_id,
            on_written=partial(self._stored, generation, final_stored),
            on_failing=partial(self._failing, generation),
        )
        generation.calls.changed = partial(self._save_steps, generation, record)
        if generation.received or generation.calls.steps:  # it continues another's reply: that is stored first
            record.text, record.steps = generation.received, tuple(generation.calls.steps)
            self.writer.save(record)
        generation.observe_gap = self.metrics.reply_started(labels_of(generation.model))
        status, error, failure = Status.ERROR, None, None
        try:
            await self._answer(generation, request, prepare, record)
            status = Status.COMPLETE
        except asyncio.CancelledError:
            # Only Stop cancels on purpose; anything else (a shutdown) cut the reply off.
            status = Status.STOPPED if generation.stop_requested else Status.INTERRUPTED
        except ProviderError as provider_error:
            error, failure = provider_error.message, provider_error
        except Exception as unexpected:
            log.exception("Reply in conversation %s failed", generation.conversation_id)
            error = f"Unexpected error: {unexpected}"
        finally:
            generation.ended_at = time.monotonic()
            generation.notice = None
            generation.provider_done = True
            generation.calls.end(status)
            record.steps = tuple(generation.calls.steps)
            final = {**generation.end(status, error).model_dump(), "model": generation.model.key}
            record.text, record.final = generation.received, final
            self.writer.save(record)
            await asyncio.shield(final_stored)  # however long the database takes: the end must be stored
            generation.calls.changed = nothing  # no cycle through the record: an ended reply is freed at once
            generation.status, generation.error, generation.failure = status, error, failure
            self._count_end(generation)
            generation.notify()

    def _stored(
        self, generation: Generation, final_stored: asyncio.Future, length: int, steps: tuple | None, final: bool
    ) -> None:
        generation.stored(length, steps)
        if final:
            if not final_stored.done():
                final_stored.set_result(None)
        else:
            generation.notify()

    def _count_end(self, generation: Generation) -> None:
        end = generation.end(generation.status, generation.error)  # what is stored: the footer's figures
        self.metrics.reply_ended(
            labels_of(generation.model),
            generation.status.value,
            end.first_token_ms / 1000 if end.first_token_ms is not None else None,
            tokens_per_second(end.output_tokens, end.first_token_ms, end.duration_ms, end.tools_ms),
            end.output_tokens,
        )
        if generation.queued_seconds:
            self.metrics.queue_wait.observe(generation.queued_seconds)
        for step in generation.steps_made:
            self.metrics.tool_call_ended(step.status.value)

    async def _answer(
        self, generation: Generation, request: ChatRequest, prepare: Prepare, record: ReplyRecord
    ) -> None:
        """Write the reply with its first model; while a model fails before writing anything, with the next one of
        its route, the reply saying which one answered and why."""
        moved: list[str] = []
        while True:
            try:
                return await self._all_rounds(generation, request, record)
            except ProviderError as error:
                following = generation.lineup.after(generation.model)
                if following is None or generation.has_answered or not falls_back(error):
                    if moved:  # not "answered by" this one after all
                        generation.route_note = failed_too_note(moved, generation.model)
                    raise
                log.info(
                    "%s failed before its first token (%s); %s answers", generation.model.key, error, following.key
                )
                moved.append(why_it_moved(generation.model, error))
                request, generation.calls.box = prepare(following)
                self._count_hand_over(generation, following)
                generation.hand_to(following, answered_note(moved, following))

    def _count_hand_over(self, generation: Generation, following: ModelOption) -> None:
        self.metrics.reply_ended(labels_of(generation.model), FELL_BACK, None, None, None)
        self.metrics.fell_back(generation.model.provider.id, following.provider.id)
        generation.observe_gap = self.metrics.reply_started(labels_of(following))

    def _save_steps(self, generation: Generation, record: ReplyRecord) -> None:
        record.steps = tuple(generation.calls.steps)
        self.writer.save(record)

    async def _all_rounds(self, generation: Generation, request: ChatRequest, record: ReplyRecord) -> None:
        """Stream the reply; while the model calls tools, run the calls and stream again with their results, for
        up to TOOL_ROUNDS rounds of calls."""
        calls = generation.calls
        while True:
            await self._stream_with_retries(generation, request, record)
            positions = calls.of_round()
            if not positions or calls.box is None:
                return
            generation.calls_begin()
            for position in positions:  # the calls show after all of this round's text
                calls.change(position, text_offset=len(generation.received))
            if calls.round >= self.settings.tool_rounds:
                for position in positions:
                    calls.change(position, status=ToolStatus.ERROR, result=ROUNDS_NOTE, is_error=True)
                generation.note = ROUNDS_NOTE
                return
            results = await run_round(calls.box, calls, positions)
            said = ChatTurn("assistant", generation.received[calls.round_start :], calls.tool_calls())
            request = replace(request, turns=[*request.turns, said, ChatTurn("tool", "", tool_results=tuple(results))])
            generation.next_round()

    def _failing(self, generation: Generation, reason: str) -> None:
        generation.save_warning = SAVE_WARNING.format(reason=reason)
        generation.notify()

    async def _stream_with_retries(self, generation: Generation, request: ChatRequest, record: ReplyRecord) -> None:
        settings = self.settings
        for attempt in count(1):
            try:
                return await self._stream_once(generation, request, record)
            except ProviderError as error:
                self.metrics.provider_error(generation.model.provider.id, error.kind.value, error.status_code)
                # After the first token a retry would silently rewrite what the person already read.
                if generation.round_has_output or not error.transient or attempt > settings.retry_attempts:
                    raise
                if generation.lineup.switches_at_once(error) and generation.lineup.after(generation.model):
                    raise  # the route's next model answers now, instead of this one later
                delay = retry_delay(attempt, error.retry_after, settings.retry_base_delay, settings.retry_max_delay)
                if delay is None:
                    raise
                log.info("Retrying %s in %.1f s after: %s", generation.model.key, delay, error.message)
                self.metrics.retried(generation.model.provider.id)
                generation.notice = f"{error.message} Retrying in {delay:.0f} s…"
                generation.notify()
                await asyncio.sleep(delay)

    def _patience(self, generation: Generation) -> float:
        settings = self.settings
        return settings.between_tokens_timeout if generation.round_has_output else settings.first_token_timeout

    async def _stream_once(self, generation: Generation, request: ChatRequest, record: ReplyRecord) -> None:
        """One request. Silence is bounded: the first token must come within FIRST_TOKEN_TIMEOUT, each next event
        within BETWEEN_TOKENS_TIMEOUT (not while the embedded model's queue holds the reply). A stream that ends
        without saying it is finished was cut short, and says so."""
        provider, settings = generation.model.provider, self.settings
        loop = asyncio.get_running_loop()
        generation.finish_reason = None
        async with aclosing(provider.stream(request)) as events:
            try:
                async with asyncio.timeout(settings.first_token_timeout) as deadline:
                    async for event in events:
                        generation.apply(event)
                        if isinstance(event, TextDelta):
                            record.text = generation.received
                            self.writer.save(record)  # (tool steps are saved as they change)
                        # Waiting in the embedded model's queue is not silence.
                        waiting = isinstance(event, WAITING_EVENTS)
                        deadline.reschedule(None if waiting else loop.time() + self._patience(generation))
            except TimeoutError:
                if not deadline.expired():
                    raise
                raise silence(provider.label, generation.received, settings) from None
        if generation.finish_reason is None:
            raise ProviderError(
                ErrorKind.UPSTREAM,
                provider.label,
                "The stream ended before the reply was finished; the text so far is kept.",
                transient=True,
            )


def labels_of(model: ModelOption) -> ReplyLabels:
    return ReplyLabels(model.provider.id, model.model_id)


def silence(provider: str, received: str, settings: Settings) -> ProviderError:
    if received:
        seconds = settings.between_tokens_timeout
        detail = f"Nothing more came for {seconds:g} s (BETWEEN_TOKENS_TIMEOUT); the text so far is kept."
    else:
        detail = f"No answer came within {settings.first_token_timeout:g} s (FIRST_TOKEN_TIMEOUT)."
    return ProviderError(ErrorKind.TIMEOUT, provider, detail, transient=True)
