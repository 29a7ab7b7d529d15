"""OpenAI Chat Completions, also the shape of most OpenAI-compatible servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import httpx2
import openai

from app.providers.base import ChatRequest, Finish, Provider, StreamEvent, TextDelta, Timeouts, Usage
from app.providers.errors import require_event_stream, translated_errors

# Listing endpoints return embeddings, audio and image models too; these ids are the ones that chat.
CHAT_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-")
NOT_CHAT = ("audio", "realtime", "tts", "transcribe", "search", "image", "embedding", "instruct", "codex")


def is_chat_model(model_id: str) -> bool:
    return model_id.startswith(CHAT_PREFIXES) and not any(word in model_id for word in NOT_CHAT)


class OpenAIProvider(Provider):
    id = "openai"
    label = "OpenAI"
    fallback_models = ("gpt-4.1-mini", "gpt-4.1", "gpt-4o-mini", "gpt-4o", "o4-mini")
    # OpenAI deprecated `max_tokens` for this; servers that copy its API often know only the old name.
    token_limit_field = "max_completion_tokens"

    def __init__(
        self, api_key: str, base_url: str | None, timeouts: Timeouts, pinned_models: Sequence[str] = ()
    ) -> None:
        super().__init__(pinned_models)
        # Retries belong to the chat service, which can tell "before the first token" from "after".
        self.client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeouts.for_sdk(httpx2), max_retries=0
        )

    async def close(self) -> None:
        await self.client.close()

    async def list_models(self) -> list[str]:
        with translated_errors(self.label, openai, httpx2):
            models = [model.id async for model in self.client.models.list()]
        return sorted(model for model in models if self.is_chat_model(model))

    def is_chat_model(self, model_id: str) -> bool:
        return is_chat_model(model_id)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        body = streaming_body(request, self.token_limit_field) | {"stream_options": {"include_usage": True}}
        with translated_errors(self.label, openai, httpx2):
            stream = await self.client.post(
                "/chat/completions", body=body, cast_to=object, stream=True, stream_cls=openai.AsyncStream[object]
            )
            async with stream:  # closes the HTTP response at once on Stop, so generation and billing end
                require_event_stream(self.label, stream.response)
                async for chunk in stream:
                    for event in events_from_chunk(chunk):
                        yield event


def streaming_body(request: ChatRequest, token_limit_field: str) -> dict:
    """A streamed Chat Completions request, as OpenAI and the servers that copy its API take it."""
    return {
        "model": request.model,
        "messages": chat_messages(request),
        "stream": True,
        token_limit_field: request.max_output_tokens,
        **request.sampling,
    }


def chat_messages(request: ChatRequest) -> list[dict]:
    """The conversation in the OpenAI shape, the system prompt first."""
    system = [{"role": "system", "content": request.system}] if request.system else []
    return system + [{"role": turn.role, "content": turn.content} for turn in request.turns]


def events_from_chunk(chunk: object) -> list[StreamEvent]:
    """One OpenAI-style chunk as app events. `choices` is empty on the usage chunk and on some servers' keep-alives.

    Chunks stay the decoded JSON the SDK read (`cast_to=object`): building the SDK's typed chunk takes ~75 µs each,
    a sixth of a core at 2,000 tokens/s, for objects read once and dropped."""
    if not isinstance(chunk, dict):
        return []
    events: list[StreamEvent] = []
    for choice in chunk.get("choices") or ():
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            continue
        content = (choice.get("delta") or {}).get("content")
        if content:
            events.append(TextDelta(content))
        if choice.get("finish_reason"):
            events.append(Finish(normalized_finish_reason(choice["finish_reason"])))
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        events.append(Usage(usage.get("prompt_tokens"), usage.get("completion_tokens")))
    return events


def normalized_finish_reason(reason: str) -> str:
    return {"eos": "stop", "stop_sequence": "stop"}.get(reason, reason)
