"""A reply's tool calls as they happen. Each call is a step, a snapshot (ToolStepPublic) replaced on every change;
the steps stored are the only ones a page or an API client is shown. A round is one request to the model and the
calls it made; the calls of a round come after that round's text."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from app.providers.base import ToolCall, ToolCallArgumentsDelta, ToolCallReady, ToolCallStarted
from app.storage.models import TOOL_STATUSES_UNDER_WAY, Status, ToolStatus, ToolStepPublic

if TYPE_CHECKING:
    from app.chat.tool_calls import Decision, ToolBox

TOOL_EVENTS = (ToolCallStarted, ToolCallArgumentsDelta, ToolCallReady)
ToolEvent = ToolCallStarted | ToolCallArgumentsDelta | ToolCallReady
# How the calls still under way end when their reply does.
ENDED_WITH = {Status.STOPPED: ToolStatus.STOPPED, Status.INTERRUPTED: ToolStatus.INTERRUPTED}


def nothing() -> None:
    pass


class ReplyCalls:
    def __init__(self, box: ToolBox | None = None) -> None:
        self.box = box  # the tools the reply may call; None: it is offered none
        self.steps: list[ToolStepPublic] = []  # as they are now
        self.shown: tuple[ToolStepPublic, ...] = ()  # as stored: what pages and API clients are shown
        self.parsed_arguments: dict[int, dict | None] = {}  # by position; None: not a JSON object
        self.approvals: dict[int, asyncio.Future[Decision]] = {}  # the calls waiting for the person's answer
        self.started: dict[int, float] = {}  # when each call began running (for "running · 3 s")
        self.round = 0
        self.round_start = 0  # where this round's text begins in the reply's text
        self.changed: Callable[[], None] = nothing  # the reply's runner stores them

    @classmethod
    def continuing(cls, steps: Sequence[ToolStepPublic], text_length: int) -> ReplyCalls:
        """The calls of a reply that writes on from another's `steps` and first `text_length` characters: those
        are done, and the next request is a round of its own."""
        calls = cls()
        calls.steps = sorted(steps, key=lambda step: step.position)
        calls.round = max((step.round for step in steps), default=-1) + 1
        calls.round_start = text_length
        return calls

    def apply(self, event: ToolEvent, text_length: int) -> None:
        """A piece of a call from the model's stream; `text_length` is how much text the reply has so far."""
        position = self._position(event.id, getattr(event, "name", ""), text_length)
        step = self.steps[position]
        if isinstance(event, ToolCallArgumentsDelta):
            self.steps[position] = step.model_copy(update={"arguments": step.arguments + event.fragment})
        elif isinstance(event, ToolCallReady):
            self.parsed_arguments[position] = event.arguments
            update = {"arguments": event.raw_arguments, "name": event.name or step.name}
            self.steps[position] = step.model_copy(update=update)
        self.changed()

    def change(self, position: int, **changes: object) -> None:
        if changes.get("status") == ToolStatus.RUNNING:
            self.started[position] = time.monotonic()
        self.steps[position] = self.steps[position].model_copy(update=changes)
        self.changed()

    def has_output(self, text_length: int) -> bool:
        """This round's request has produced something (text, or a call): retrying it would rewrite that."""
        return text_length > self.round_start or bool(self.of_round())

    def of_round(self) -> list[int]:
        """The positions of this round's calls."""
        return [step.position for step in self.steps if step.round == self.round]

    def tool_calls(self) -> tuple[ToolCall, ...]:
        """This round's calls, as the model is told it made them."""
        return tuple(
            ToolCall(self.steps[i].call_id, self.steps[i].name, self.parsed_arguments.get(i) or {})
            for i in self.of_round()
        )

    def next_round(self, text_length: int) -> None:
        self.round += 1
        self.round_start = text_length

    def end(self, status: Status) -> None:
        """The reply ended: calls still under way end with it (stopped, cut off, or failed with it)."""
        for step in self.steps:
            if step.status in TOOL_STATUSES_UNDER_WAY:
                ended = ENDED_WITH.get(status, ToolStatus.ERROR)
                self.steps[step.position] = step.model_copy(update={"status": ended})

    def _position(self, call_id: str, name: str, text_length: int) -> int:
        """The position of this round's call `call_id`, added as a new step if the model had not named it yet."""
        for step in self.steps:
            if step.round == self.round and step.call_id == call_id:
                return step.position
        tool, source = self.box.where(name) if self.box is not None else (name, "")
        position = len(self.steps)
        self.steps.append(
            ToolStepPublic(
                round=self.round,
                position=position,
                text_offset=text_length,
                call_id=call_id,
                name=name,
                tool=tool,
                source=source,
            )
        )
        return position
