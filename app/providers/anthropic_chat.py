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
    Usage,
)
from app.providers.errors import require_event_stream, translated_errors

FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "refusal": "content_filter"}


class AnthropicProvider(Provider):
    id = "anthropic"
    label = "Anthropic"
    fallback_models = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1")
    # This Messages API takes no sampling arguments (`output_config` replaced them): no temperature is offered.
    capabilities = Capabilities(temperature=None)

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
        optional = {"system": request.system} if request.system else {}
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
                input_tokens = None
                async for event in stream:
                    if event.type == "message_start":
                        input_tokens = event.message.usage.input_tokens
                    elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                        yield TextDelta(event.delta.text)
                    elif event.type == "message_delta":
                        # Output tokens here are cumulative, so the last one is the total.
                        yield Usage(input_tokens, event.usage.output_tokens)
                        if event.delta.stop_reason:
                            yield Finish(FINISH_REASONS.get(event.delta.stop_reason, event.delta.stop_reason))


def alternating_messages(turns: list[ChatTurn]) -> list[dict]:
    """Anthropic wants user first and roles alternating: merge neighbours of one role, drop a leading reply."""
    messages: list[dict] = []
    for turn in turns:
        if messages and messages[-1]["role"] == turn.role:
            messages[-1]["content"] += "\n\n" + turn.content
        elif messages or turn.role == "user":
            messages.append({"role": turn.role, "content": turn.content})
    return messages
