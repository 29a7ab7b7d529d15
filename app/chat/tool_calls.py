"""A reply's tool calls: which tools it may call, asking the person before one runs (Allow once, Always allow,
Deny), running the calls of a round side by side, and what goes back to the model. Each change of a call is a
new snapshot of its step, stored before any page shows it (the reply's writer stores it with the text)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from app.providers.base import ChatTurn, ToolCall, ToolResult, ToolSpec, parsed_arguments
from app.settings import Settings
from app.storage.models import ToolStatus, ToolStepBase, ToolStepPublic
from app.tools.base import ToolOutput, failed
from app.tools.registry import OfferedTool, ToolRegistry

if TYPE_CHECKING:
    from app.chat.tool_steps import ReplyCalls

DENIED = "The person chose not to run this call (denied). Do not call it again unless they ask you to."
NOT_ASKABLE = (
    "Not run: over the HTTP API a tool runs only when it is approved in advance (TOOLS_AUTO_APPROVE=true, or "
    "Always allow on the chat page)."
)


Step = TypeVar("Step", bound=ToolStepBase)


class Decision(StrEnum):
    ALLOW_ONCE = "allow-once"
    ALWAYS = "always"
    DENY = "deny"


class Permissions:
    """The tools the person always allows, kept in the database and read once."""

    def __init__(self, store) -> None:
        self.store = store
        self._allowed: set[str] | None = None

    def allows(self, key: str) -> bool:
        return key in self._loaded()

    async def allow(self, key: str) -> None:
        await asyncio.to_thread(self.store.allow, key)
        if self._allowed is not None:
            self._allowed.add(key)

    def keys(self) -> list[str]:
        """The tools always allowed (`<source>/<tool>`), in order."""
        return sorted(self._loaded())

    async def forget(self, key: str) -> None:
        """Ask again before this tool runs."""
        await asyncio.to_thread(self.store.forget, key)
        if self._allowed is not None:
            self._allowed.discard(key)

    def _loaded(self) -> set[str]:
        if self._allowed is None:
            self._allowed = self.store.allowed()
        return self._allowed


@dataclass
class ToolBox:
    """The tools one reply may call (`offered`, by the name the model sees) and how their calls are approved."""

    registry: ToolRegistry
    offered: dict[str, OfferedTool]
    permissions: Permissions
    auto_approve: bool  # TOOLS_AUTO_APPROVE
    can_ask: bool = True  # False over the HTTP API: nobody is there to answer

    @property
    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(tool.spec for tool in self.offered.values())

    def where(self, name: str) -> tuple[str, str]:
        """The tool's own name and its source, for a name the model called (the name itself if it is unknown)."""
        tool = self.offered.get(name)
        return (tool.tool, tool.source) if tool is not None else (name, "")

    def runs_unasked(self, tool: OfferedTool) -> bool:
        return self.auto_approve or tool.read_only or self.permissions.allows(tool.key)


class ToolChoice:
    """Which tools a reply may call: those of the conversation's chosen sources, for a model that can call tools."""

    def __init__(self, registry: ToolRegistry, permissions: Permissions, settings: Settings) -> None:
        self.registry = registry
        self.permissions = permissions
        self.auto_approve = settings.tools_auto_approve

    def sources(self) -> dict[str, list[str]]:
        """Each source a conversation can choose (a server turned on, the built-in tools if any is on) and the
        names of its tools (none yet while a server starts)."""
        return {source.name: [spec.name for spec in source.tools()] for source in self.registry.choosable()}

    def box_for(self, takes_tools: bool, sources: set[str] | None, can_ask: bool) -> ToolBox | None:
        if not takes_tools:
            return None
        offered = {tool.spec.name: tool for tool in self.registry.offered(sources)}
        if not offered:
            return None
        return ToolBox(self.registry, offered, self.permissions, self.auto_approve, can_ask)


async def run_round(box: ToolBox, calls: ReplyCalls, positions: list[int]) -> list[ToolResult]:
    """Run the calls of one round side by side (each asked for first, where it must be); the results in order.
    Cancelling this (Stop) cancels every call at once."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(_run_call(box, calls, position)) for position in positions]
    return [task.result() for task in tasks]


async def _run_call(box: ToolBox, calls: ReplyCalls, position: int) -> ToolResult:
    step = calls.steps[position]
    tool = box.offered.get(step.name)
    arguments = calls.parsed_arguments.get(position)
    if tool is None or arguments is None:
        return _finish(calls, position, _unusable(box, step))
    if (refused := await _refused(box, calls, position, tool)) is not None:
        return _finish(calls, position, refused, ToolStatus.DENIED)
    calls.change(position, status=ToolStatus.RUNNING)
    started = time.monotonic()
    try:
        output = await box.registry.call(tool, arguments)
    except Exception as error:  # a tool's failure goes to the model as its result, never ends the reply
        output = failed(f"The tool failed: {type(error).__name__}: {error}")
    return _finish(calls, position, output, duration_ms=round((time.monotonic() - started) * 1000))


def _unusable(box: ToolBox, step: ToolStepPublic) -> ToolOutput:
    """What the model is told of a call of a tool it was not offered, or with arguments that are not JSON."""
    if step.name not in box.offered:
        known = ", ".join(sorted(box.offered)) or "none"
        return failed(f"There is no tool called {step.name!r} here (offered: {known}).")
    return failed(f"The arguments are not a JSON object: {step.arguments[:200]!r}.")


async def _refused(box: ToolBox, calls: ReplyCalls, position: int, tool: OfferedTool) -> ToolOutput | None:
    """None if the call may run (allowed already, or now by the person); else what the model is told."""
    if box.runs_unasked(tool):
        return None
    if not box.can_ask:
        return failed(NOT_ASKABLE)
    decision = await _ask(calls, position)
    if decision == Decision.DENY:
        return failed(DENIED)
    if decision == Decision.ALWAYS:
        await box.permissions.allow(tool.key)
    return None


async def _ask(calls: ReplyCalls, position: int) -> Decision:
    answer: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
    calls.approvals[position] = answer
    calls.change(position, status=ToolStatus.AWAITING_APPROVAL)
    try:
        return await answer
    finally:
        calls.approvals.pop(position, None)


def _finish(
    calls: ReplyCalls,
    position: int,
    output: ToolOutput,
    status: ToolStatus | None = None,
    duration_ms: int | None = None,
) -> ToolResult:
    calls.change(
        position,
        status=status or (ToolStatus.ERROR if output.is_error else ToolStatus.COMPLETE),
        result=output.text,
        images=json.dumps(list(output.images)) if output.images else None,
        is_error=output.is_error,
        duration_ms=duration_ms,
    )
    return ToolResult(calls.steps[position].call_id, output.for_model(), output.is_error)


def results_of(steps: Sequence[ToolStepBase]) -> list[ToolResult]:
    """What the model was told of stored calls (a call that never finished is said to have failed)."""
    return [
        ToolResult(
            step.call_id,
            ToolOutput(step.result, step.is_error).for_model()
            if step.result is not None
            else f"The call did not finish ({step.status.value}).",
            step.is_error or step.result is None,
        )
        for step in steps
    ]


def turns_with_calls(content: str, steps: Sequence[ToolStepBase]) -> list[ChatTurn]:
    """A stored reply that called tools, as the model saw it: each round's text and calls, then their results,
    and the text after the last round."""
    turns: list[ChatTurn] = []
    start = 0
    for round_steps in rounds_of(steps):
        offset = calls_begin(round_steps, start, len(content))
        calls = tuple(ToolCall(step.call_id, step.name, parsed_arguments(step.arguments) or {}) for step in round_steps)
        turns.append(ChatTurn("assistant", content[start:offset], tool_calls=calls))
        turns.append(ChatTurn("tool", "", tool_results=tuple(results_of(round_steps))))
        start = offset
    if content[start:]:
        turns.append(ChatTurn("assistant", content[start:]))
    return turns


def rounds_of(steps: Sequence[Step]) -> list[list[Step]]:
    """A reply's calls by round, in order."""
    rounds: dict[int, list[Step]] = {}
    for step in sorted(steps, key=lambda s: s.position):
        rounds.setdefault(step.round, []).append(step)
    return [rounds[number] for number in sorted(rounds)]


def calls_begin(round_steps: Sequence[ToolStepBase], start: int, text_length: int) -> int:
    """Where a round's calls sit in the reply's text: at its first call's offset, never before the round's own text
    begins (`start`) nor past the text's end."""
    return max(start, min(round_steps[0].text_offset, text_length))
