"""Together: OpenAI-shaped chunks through its own SDK, with `eos` finish reasons and usage on the last chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import httpx
import together

from app.providers.base import Capabilities, ChatRequest, Provider, StreamEvent, Timeouts
from app.providers.errors import require_event_stream, translated_errors
from app.providers.openai_chat import ToolCallJoiner, events_from_chunk, streaming_body


class TogetherProvider(Provider):
    id = "together"
    label = "Together"
    capabilities = Capabilities(streams_tool_calls=True)
    fallback_models = (
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "deepseek-ai/DeepSeek-V3",
        "Qwen/Qwen2.5-72B-Instruct-Turbo",
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
    )

    def __init__(
        self, api_key: str, base_url: str | None, timeouts: Timeouts, pinned_models: Sequence[str] = ()
    ) -> None:
        super().__init__(pinned_models)
        self.client = together.AsyncTogether(
            api_key=api_key, base_url=base_url, timeout=timeouts.for_sdk(httpx), max_retries=0
        )

    async def close(self) -> None:
        await self.client.close()

    async def list_models(self) -> list[str]:
        # The serverless catalogue is served OpenAI-style at /v1/models, as a bare JSON list.
        with translated_errors(self.label, together, httpx):
            listing = await self.client.get("/v1/models", cast_to=object)
        entries = listing if isinstance(listing, list) else listing.get("data", [])
        return sorted(
            entry["id"] for entry in entries if isinstance(entry, dict) and entry.get("type", "chat") == "chat"
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        body = streaming_body(request, "max_tokens")
        calls = ToolCallJoiner()
        with translated_errors(self.label, together, httpx):
            # Plain decoded chunks, as for OpenAI (see events_from_chunk).
            stream = await self.client.post(
                "/v1/chat/completions", body=body, cast_to=object, stream=True, stream_cls=together.AsyncStream[object]
            )
            async with stream:
                require_event_stream(self.label, stream.response)
                async for chunk in stream:
                    for event in events_from_chunk(chunk, calls):
                        yield event
