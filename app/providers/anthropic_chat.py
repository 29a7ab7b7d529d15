"""Anthropic Messages: typed stream events, a separate `system` argument, and strictly alternating roles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import anthropic
import httpx2

from app.providers.base import (
    Capabilities,
    ChatRequest,
    ChatTurn,
    Finish,
    Provider,
    StreamEvent,
    TextDelta,
    Timeouts,
    ToolCallArgumentsDelta,
    ToolCallReady,
    ToolCallStarted,
    Usage,
    parsed_arguments,
)
from app.providers.errors import require_event_stream, translated_errors

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "refusal": "content_filter",
    "tool_use": "tool_calls",  # as OpenAI names it: the reply ends with calls to run
}


class AnthropicProvider(Provider):
    id = "anthropic"
    label = "Anthropic"
    fallback_models = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1")
    # This Messages API takes no sampling arguments (`output_config` replaced them): no temperature is offered.
    capabilities = Capabilities(temperature=None, streams_tool_calls=True)

    def __init__(
        self, api_key: str, base_url: str | None, timeouts: Timeouts, pinned_models: Sequence[str] = ()
    ) -> None:
        super().__init__(pinned_models)
        self.client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeouts.for_sdk(httpx2), max_retries=0
        )

    async def close(self) -> None:
        await self.client.close()

    async def list_models(self) -> list[str]:
        with translated_errors(self.label, anthropic, httpx2):
            return [model.id async for model in self.client.models.list(limit=100)]

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        optional: dict = {"system": request.system} if request.system else {}
        if request.tools:
            optional["tools"] = [
                {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}
                for tool in request.tools
            ]
        with translated_errors(self.label, anthropic, httpx2):
            stream = await self.client.messages.create(
                model=request.model,
                messages=alternating_messages(request.turns),
                max_tokens=request.max_output_tokens,
                stream=True,
                **optional,  # no sampling arguments: see `capabilities`
            )
            async with stream:
                require_event_stream(self.label, stream.response)
                reader = EventReader()
                async for event in stream:
                    for translated in reader.read(event):
                        yield translated


class EventReader:
    """The Messages stream's events as app events: text deltas; tool calls from a `tool_use` block's start, its
    `input_json_delta` pieces and its stop; usage (output tokens are cumulative, so the last is the total); the
    stop reason."""

    def __init__(self) -> None:
        self.input_tokens: int | None = None
        self._calls: dict[int, tuple[str, str, list[str]]] = {}  # block index → id, name, argument pieces

    def read(self, event) -> list[StreamEvent]:
        if event.type == "message_start":
            self.input_tokens = event.message.usage.input_tokens
        elif event.type == "content_block_start" and event.content_block.type == "tool_use":
            block = event.content_block
            self._calls[event.index] = (block.id, block.name, [])
            return [ToolCallStarted(block.id, block.name)]
        elif event.type == "content_block_delta":
            return self._delta(event)
        elif event.type == "content_block_stop" and event.index in self._calls:
            call_id, name, pieces = self._calls.pop(event.index)
            raw = "".join(pieces)
            return [ToolCallReady(call_id, name, parsed_arguments(raw), raw)]
        elif event.type == "message_delta":
            usage: list[StreamEvent] = [Usage(self.input_tokens, event.usage.output_tokens)]
            reason = event.delta.stop_reason
            return usage + ([Finish(FINISH_REASONS.get(reason, reason))] if reason else [])
        return []

    def _delta(self, event) -> list[StreamEvent]:
        if event.delta.type == "text_delta":
            return [TextDelta(event.delta.text)]
        if event.delta.type == "input_json_delta" and event.index in self._calls and event.delta.partial_json:
            self._calls[event.index][2].append(event.delta.partial_json)
            return [ToolCallArgumentsDelta(self._calls[event.index][0], event.delta.partial_json)]
        return []


def alternating_messages(turns: list[ChatTurn]) -> list[dict]:
    """Anthropic wants user first and roles alternating: merge neighbours of one role, drop a leading reply. Tool
    calls are `tool_use` blocks of the assistant's message; their results `tool_result` blocks of the next user
    message."""
    messages: list[dict] = []
    for turn in turns:
        role = "user" if turn.role == "tool" else turn.role
        content = _blocks_of(turn)
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"] = _merged(messages[-1]["content"], content)
        elif messages or role == "user":
            messages.append({"role": role, "content": content})
    return messages


def _blocks_of(turn: ChatTurn) -> str | list[dict]:
    """A plain turn stays a string (what most requests are); one with tools becomes a list of blocks."""
    if not turn.tool_calls and not turn.tool_results:
        return turn.content
    blocks: list[dict] = [{"type": "text", "text": turn.content}] if turn.content else []
    blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in turn.tool_calls]
    blocks += [
        {"type": "tool_result", "tool_use_id": r.call_id, "content": r.content, "is_error": r.is_error}
        for r in turn.tool_results
    ]
    return blocks


def _merged(earlier: str | list[dict], later: str | list[dict]) -> str | list[dict]:
    if isinstance(earlier, str) and isinstance(later, str):
        return earlier + "\n\n" + later

    def as_blocks(content: str | list[dict]) -> list[dict]:
        if isinstance(content, str):
            return [{"type": "text", "text": content}] if content else []  # the API refuses an empty text block
        return content

    return as_blocks(earlier) + as_blocks(later)
