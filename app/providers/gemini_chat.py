"""Google Gemini through the official google-genai SDK: `generate_content_stream` chunks as app events, the
conversation as Gemini's `contents` (roles user and model; calls as function_call parts, their results as
function_response parts), and its errors (with the retry delay its RetryInfo gives) as ProviderError."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import count

import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from app.providers.base import (
    Capabilities,
    ChatRequest,
    ChatTurn,
    Finish,
    Provider,
    StreamEvent,
    TextDelta,
    Timeouts,
    ToolCallReady,
    ToolCallStarted,
    Usage,
    error_from_status,
)
from app.providers.errors import transport_errors

FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}
# "retryDelay": "7s" (or "1.5s") in a google.rpc.RetryInfo detail of a 429.
RETRY_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")


class GeminiProvider(Provider):
    id = "gemini"
    label = "Gemini"
    fallback_models = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite")
    capabilities = Capabilities(streams_tool_calls=True)

    def __init__(
        self, api_key: str, base_url: str | None, timeouts: Timeouts, pinned_models: Sequence[str] = ()
    ) -> None:
        super().__init__(pinned_models)
        # Our own httpx client: the SDK would otherwise stream with aiohttp where it is installed, whose errors and
        # limits differ from every other adapter's.
        self.http = httpx.AsyncClient(timeout=timeouts.for_sdk(httpx))
        options = types.HttpOptions(
            base_url=base_url,
            api_version="v1beta",
            timeout=int(timeouts.read * 1000),  # milliseconds, as this SDK takes it
            retry_options=types.HttpRetryOptions(attempts=1),  # the chat service retries, and says so
            httpx_async_client=self.http,
        )
        self.client = genai.Client(api_key=api_key, http_options=options)

    async def close(self) -> None:
        await self.client.aio.aclose()
        await self.http.aclose()

    async def list_models(self) -> list[str]:
        with gemini_errors(self.label):
            listed = await self.client.aio.models.list(config={"page_size": 100})
            return [
                model.name.removeprefix("models/")
                async for model in listed
                if model.name and "generateContent" in (model.supported_actions or [])
            ]

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        config = types.GenerateContentConfig(
            system_instruction=request.system or None,
            temperature=request.temperature,
            max_output_tokens=request.max_output_tokens,
            tools=[_tools(request)] if request.tools else None,
            # The chat service runs the calls (with approval): the SDK must not call anything itself.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        with gemini_errors(self.label):
            chunks = await self.client.aio.models.generate_content_stream(
                model=request.model, contents=contents_of(request.turns), config=config
            )
            reader = ChunkReader()
            async for chunk in chunks:
                for event in reader.read(chunk):
                    yield event


def _tools(request: ChatRequest) -> types.Tool:
    return types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name=tool.name, description=tool.description, parameters_json_schema=tool.input_schema
            )
            for tool in request.tools
        ]
    )


class ChunkReader:
    """Gemini's chunks as app events: text parts (not the model's thoughts); function calls, which come whole; the
    usage, cumulative in every chunk (so the last is the total); the finish reason."""

    def __init__(self) -> None:
        self._ids = count(1)
        self.called = False

    def read(self, chunk: types.GenerateContentResponse) -> list[StreamEvent]:
        candidate = chunk.candidates[0] if chunk.candidates else None
        events = [event for part in _parts(candidate) for event in self._part(part)]
        if (usage := chunk.usage_metadata) is not None:
            output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
            events.append(Usage(usage.prompt_token_count, output or None))
        if candidate is not None and candidate.finish_reason is not None:
            events.append(Finish(self._finish(candidate.finish_reason)))
        return events

    def _finish(self, reason: object) -> str:
        name = str(getattr(reason, "value", reason))
        return "tool_calls" if self.called and name == "STOP" else FINISH_REASONS.get(name, name.lower())

    def _part(self, part: types.Part) -> list[StreamEvent]:
        if part.function_call is not None:
            call = part.function_call
            call_id = call.id or f"call_{next(self._ids)}"
            arguments = dict(call.args or {})
            self.called = True
            name = call.name or ""
            return [ToolCallStarted(call_id, name), ToolCallReady(call_id, name, arguments, json.dumps(arguments))]
        if part.text and not part.thought:
            return [TextDelta(part.text)]
        return []


def _parts(candidate: types.Candidate | None) -> list[types.Part]:
    if candidate is None or candidate.content is None:
        return []
    return candidate.content.parts or []


def contents_of(turns: list[ChatTurn]) -> list[types.Content]:
    """The turns as Gemini's contents: the assistant is `model`; a tool turn is the user's function_response parts,
    each named after the call it answers (Gemini matches them by name, and by id where it gave one)."""
    names: dict[str, str] = {}
    contents = []
    for turn in turns:
        if turn.role == "tool":
            parts = [_result_part(result, names.get(result.call_id, "")) for result in turn.tool_results]
            contents.append(types.Content(role="user", parts=parts))
            continue
        parts = [types.Part(text=turn.content)] if turn.content else []
        for call in turn.tool_calls:
            names[call.id] = call.name
            parts.append(types.Part(function_call=types.FunctionCall(id=call.id, name=call.name, args=call.arguments)))
        if parts:
            contents.append(types.Content(role="model" if turn.role == "assistant" else "user", parts=parts))
    return contents


def _result_part(result, name: str) -> types.Part:
    response = {"error": result.content} if result.is_error else {"result": result.content}
    return types.Part(function_response=types.FunctionResponse(id=result.call_id, name=name, response=response))


@contextmanager
def gemini_errors(provider: str) -> Iterator[None]:
    """This SDK's errors, and those of the httpx client it streams with, as ProviderError."""
    try:
        with transport_errors(provider, httpx):
            yield
    except genai_errors.APIError as error:
        headers = dict(getattr(error.response, "headers", None) or {})
        if (delay := retry_delay(error.details)) is not None and "retry-after" not in headers:
            headers["retry-after"] = delay
        # Google's own status (RESOURCE_EXHAUSTED, UNAVAILABLE…), or the reason a bad key gives, is the error's type.
        error_type = "API_KEY_INVALID" if "API_KEY_INVALID" in str(error.details) else error.status
        body = {"error": {"type": error_type, "message": error.message}}
        raise error_from_status(provider, error.code or 502, body, headers, str(error)) from error


def retry_delay(details: object) -> str | None:
    """The seconds a RetryInfo detail asks to wait (`"retryDelay": "7s"`), as a Retry-After value."""
    inner = details.get("error", details) if isinstance(details, Mapping) else None
    for detail in (inner or {}).get("details", []) if isinstance(inner, Mapping) else []:
        if isinstance(detail, Mapping) and (found := RETRY_DELAY.match(str(detail.get("retryDelay", "")))):
            return found[1]
    return None
