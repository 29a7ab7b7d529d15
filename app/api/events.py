"""The API's event format: one reply in flight as server-sent events, or as one JSON body when it is done."""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime

from app.chat.generation import Generation
from app.storage.models import TOOL_STATUSES_UNDER_WAY, Status, ToolStatus, ToolStepPublic

KEEP_ALIVE_SECONDS = 15.0
# A reply whose end cannot be stored (the database locked or full) still ends the stream, after this long, with a
# STORAGE error: the client has every token that was stored, and the rest is saved when the database recovers.
STORAGE_PATIENCE_SECONDS = 10.0
FINISHED = object()


def sse(event: dict) -> str:
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n"


def tool_input(step: ToolStepPublic) -> object:
    """The call's arguments as JSON, or as the model wrote them when they are not JSON."""
    try:
        return json.loads(step.arguments) if step.arguments else {}
    except ValueError:
        return step.arguments


def tool_event(step: ToolStepPublic) -> dict:
    """A tool call: once its arguments are whole (no `tool_result` yet), then with its result or its error."""
    event = {
        "token": "",
        "tool_name": step.tool,
        "tool_input": tool_input(step),
        "tool_server": step.source,
        "tool_call_id": step.call_id,
        "tool_status": step.status.value,
        "done": False,
    }
    if step.status == ToolStatus.COMPLETE:
        event["tool_result"] = step.result or ""
    elif step.status not in TOOL_STATUSES_UNDER_WAY:
        event["tool_error"] = step.result or f"The call ended {step.status.value}."
    return event


class ToolEvents:
    """Which tool events a stream has sent: a call's start once its arguments are whole, its end once it has one."""

    def __init__(self, sent: Iterable[int] = ()) -> None:
        """`sent`: the positions of calls whose events are not to be sent (those of the reply this one continues)."""
        self._started: set[int] = set(sent)
        self._ended: set[int] = set(self._started)

    def new(self, steps: tuple[ToolStepPublic, ...]) -> list[tuple[int, dict]]:
        """The events due for these (stored) steps, each with where it goes in the reply's text."""
        due = []
        for step in steps:
            if step.status == ToolStatus.STREAMING:
                continue
            if step.position not in self._started:
                self._started.add(step.position)
                due.append((step.text_offset, tool_event(step.model_copy(update={"status": ToolStatus.RUNNING}))))
            if step.status not in TOOL_STATUSES_UNDER_WAY and step.position not in self._ended:
                self._ended.add(step.position)
                due.append((step.text_offset, tool_event(step)))
        return due


def token_event(text: str, model_id: str) -> dict:
    timestamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"token": text, "done": False, "model": model_id, "timestamp": timestamp}


def final_event(generation: Generation) -> dict:
    """The last event: the completion, or the error that ended the reply."""
    if generation.status == Status.ERROR:
        failure = generation.failure
        return {
            "error": generation.error or "The reply failed.",
            "error_code": failure.kind.value if failure else "INTERNAL",
            "done": True,
            "retry_after": failure.retry_after if failure else None,
            "conversation_id": generation.conversation_id,
            **answered_by(generation),
            "continue_with": next_model.key if (next_model := generation.next_model) else None,
        }
    return {
        "done": True,
        "total_tokens": total_tokens(generation),
        "input_tokens": generation.input_tokens,
        "output_tokens": generation.output_tokens,
        "finish_reason": finish_reason(generation),
        "response_time": round(time.monotonic() - generation.started_at, 3),
        "conversation_id": generation.conversation_id,
        **answered_by(generation),
    }


def answered_by(generation: Generation) -> dict:
    """The model that wrote the reply (on a route, the one that answered), and the route."""
    route = generation.lineup.route
    return {
        "model": generation.model.model_id,
        "provider": generation.model.provider.id,
        "route": route.name if route else None,
        "note": generation.stored_note,
    }


def storage_event(generation: Generation) -> dict:
    return {
        "error": generation.save_warning or "Saving is failing.",
        "error_code": "STORAGE",
        "done": True,
        "retry_after": None,
        "conversation_id": generation.conversation_id,
    }


async def reply_ended(generation: Generation, patience: float = STORAGE_PATIENCE_SECONDS) -> bool:
    """Wait for the reply to end; False if, `patience` seconds after the provider finished, its end still could not
    be stored (it will be, once the database is writable)."""
    while True:
        try:
            await asyncio.wait_for(generation.wait(), 1.0)
            return True
        except TimeoutError:
            if storage_gave_out(generation, patience):
                return False


def storage_gave_out(generation: Generation, patience: float) -> bool:
    waited = time.monotonic() - (generation.ended_at or 0.0)
    return generation.end_waits_for_storage and waited > patience


def reply_body(generation: Generation) -> dict:
    """The whole reply, for `stream: false`."""
    body = final_event(generation)
    if "error" not in body:
        body["text"] = generation.text
        body["usage"] = {"input_tokens": generation.input_tokens, "output_tokens": generation.output_tokens}
    body["tool_calls"] = [tool_event(step) for step in generation.calls.shown]
    return body


def total_tokens(generation: Generation) -> int | None:
    if generation.input_tokens is None and generation.output_tokens is None:
        return None
    return (generation.input_tokens or 0) + (generation.output_tokens or 0)


def finish_reason(generation: Generation) -> str:
    if generation.status in (Status.STOPPED, Status.INTERRUPTED):
        return generation.status.value
    return generation.finish_reason or "stop"


async def reply_events(
    generation: Generation, keep_alive: float = KEEP_ALIVE_SECONDS, patience: float = STORAGE_PATIENCE_SECONDS
) -> AsyncIterator[str]:
    """Every piece of text as it arrives, then the final event. A client that goes away stops the reply: the
    server cancels this generator, and the reply is saved as stopped."""
    pieces: asyncio.Queue[object] = asyncio.Queue()
    # A reply that continues another's starts with its text and calls: the client has those already.
    tools = ToolEvents(step.position for step in generation.steps_carried)
    shown = generation.carried

    def tokens_up_to(stored: int) -> None:
        # Text is stored a few tokens at a time; each token the provider sent still becomes an event of its own.
        nonlocal shown
        ends = generation.token_ends
        for end in ends[bisect.bisect_right(ends, shown) : bisect.bisect_right(ends, stored)]:
            pieces.put_nowait(token_event(generation.text[shown:end], generation.model.model_id))
            shown = end

    def on_change(changed: Generation) -> None:
        # A tool call's events go where it happened in the text: after what came before it, before what followed.
        for offset, event in sorted(tools.new(changed.calls.shown), key=lambda due: due[0]):
            tokens_up_to(min(offset, len(changed.text)))
            pieces.put_nowait(event)
        tokens_up_to(len(changed.text))
        if not changed.is_running:
            pieces.put_nowait(FINISHED)

    on_change(generation)  # what is stored already

    unsubscribe = generation.subscribe(on_change)
    try:
        while True:
            wait = min(keep_alive, 1.0) if generation.end_waits_for_storage else keep_alive
            try:
                piece = await asyncio.wait_for(pieces.get(), wait)
            except TimeoutError:
                if storage_gave_out(generation, patience):
                    yield sse(storage_event(generation))
                    return
                yield ": keep-alive\n\n"  # a comment line: proxies keep the connection, clients ignore it
                continue
            if piece is FINISHED:
                yield sse(final_event(generation))
                return
            yield sse(piece)
    finally:
        unsubscribe()
        if generation.is_running:
            generation.stop()
