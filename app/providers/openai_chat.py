"""OpenAI Chat Completions, also the shape of most OpenAI-compatible servers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import httpx2
import openai

from app.providers.base import (
    Capabilities,
    ChatRequest,
    ChatTurn,
    Finish,
    Provider,
    StreamEvent,
    TextDelta,
    Timeouts,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallReady,
    ToolCallStarted,
    ToolResult,
    ToolSpec,
    Usage,
    parsed_arguments,
)
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
    capabilities = Capabilities(streams_tool_calls=True)
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
        calls = ToolCallJoiner()
        with translated_errors(self.label, openai, httpx2):
            stream = await self.client.post(
                "/chat/completions", body=body, cast_to=object, stream=True, stream_cls=openai.AsyncStream[object]
            )
            async with stream:  # closes the HTTP response at once on Stop, so generation and billing end
                require_event_stream(self.label, stream.response)
                async for chunk in stream:
                    for event in events_from_chunk(chunk, calls):
                        yield event


def streaming_body(request: ChatRequest, token_limit_field: str) -> dict:
    """A streamed Chat Completions request, as OpenAI and the servers that copy its API take it."""
    body = {
        "model": request.model,
        "messages": chat_messages(request),
        "stream": True,
        token_limit_field: request.max_output_tokens,
        **request.sampling,
    }
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {"name": t.name, "description": t.description, "parameters": t.input_schema},
            }
            for t in request.tools
        ]
    return body


def chat_messages(request: ChatRequest) -> list[dict]:
    """The conversation in the OpenAI shape, the system prompt first; a tool turn is one `tool` message per result,
    after the assistant message that made the calls."""
    system = [{"role": "system", "content": request.system}] if request.system else []
    return system + [message for turn in request.turns for message in _messages_of(turn)]


def _messages_of(turn: ChatTurn) -> list[dict]:
    if turn.role == "tool":
        return [
            {"role": "tool", "tool_call_id": result.call_id, "content": _result_text(result)}
            for result in turn.tool_results
        ]
    message: dict = {"role": turn.role, "content": turn.content}
    if turn.tool_calls:
        message["content"] = turn.content or None
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in turn.tool_calls
        ]
    return [message]


def _function_of(tool: ToolSpec) -> dict:
    return {"name": tool.name, "description": tool.description, "parameters": tool.input_schema}


def _call_of(call: ToolCall) -> dict:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": json.dumps(call.arguments)}}


def _result_text(result: ToolResult) -> str:
    # The format has no error flag: the words say it.
    return f"Error: {result.content}" if result.is_error else result.content


def events_from_chunk(chunk: object, calls: ToolCallJoiner) -> list[StreamEvent]:
    """One OpenAI-style chunk as app events. `choices` is empty on the usage chunk and on some servers' keep-alives.

    Chunks stay the decoded JSON the SDK read (`cast_to=object`): building the SDK's typed chunk takes ~75 µs each,
    a sixth of a core at 2,000 tokens/s, for objects read once and dropped."""
    if not isinstance(chunk, dict):
        return []
    events: list[StreamEvent] = []
    for choice in chunk.get("choices") or ():
        if isinstance(choice, dict) and choice.get("index", 0) == 0:
            events += _choice_events(choice, calls)
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        events.append(Usage(usage.get("prompt_tokens"), usage.get("completion_tokens")))
    return events


def _choice_events(choice: dict, calls: ToolCallJoiner) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    delta = choice.get("delta") or {}
    if content := delta.get("content"):
        events.append(TextDelta(content))
    for fragment in delta.get("tool_calls") or ():
        events += calls.add(fragment)
    if choice.get("finish_reason"):
        events += calls.finish()
        events.append(Finish(normalized_finish_reason(choice["finish_reason"])))
    return events


class ToolCallJoiner:
    """`delta.tool_calls` fragments joined into whole calls. The first fragment of a call carries its id and name,
    later ones only more argument text under the same index. Some compatible servers leave the index out, and
    Ollama sends parallel calls all at index 0, told apart by their ids: a fragment with a new id is a new call."""

    def __init__(self) -> None:
        self._calls: list[_PartialCall] = []
        self._current: dict[object, _PartialCall] = {}  # by index (None where the server sends none)

    def add(self, fragment: object) -> list[StreamEvent]:
        if not isinstance(fragment, dict):
            return []
        index, call_id = fragment.get("index"), fragment.get("id")
        function = fragment.get("function") or {}
        events: list[StreamEvent] = []
        call = self._current.get(index)
        if call is None or (call_id and call_id != call.id):
            call = _PartialCall(call_id or f"call_{len(self._calls) + 1}", function.get("name") or "")
            self._calls.append(call)
            self._current[index] = call
            events.append(ToolCallStarted(call.id, call.name))
        if (more := function.get("arguments")) and isinstance(more, str):
            call.arguments += more
            events.append(ToolCallArgumentsDelta(call.id, more))
        return events

    def finish(self) -> list[StreamEvent]:
        """Every call the reply made, whole, once its stream says it is finished."""
        ready: list[StreamEvent] = [
            ToolCallReady(call.id, call.name, parsed_arguments(call.arguments), call.arguments) for call in self._calls
        ]
        self._calls, self._current = [], {}
        return ready


@dataclass
class _PartialCall:
    id: str
    name: str
    arguments: str = ""


def normalized_finish_reason(reason: str) -> str:
    return {"eos": "stop", "stop_sequence": "stop"}.get(reason, reason)
