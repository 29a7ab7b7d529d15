"""Gemini through the official google-genai SDK against a fake server speaking its streaming format
(`:streamGenerateContent?alt=sse`): text, usage and finish reasons; the request as Gemini takes it; calls, which
come whole, and their results sent back; its errors, with the wait its RetryInfo asks for; broken streams."""

from __future__ import annotations

import pytest

from app.providers.base import (
    ChatRequest,
    ChatTurn,
    ErrorKind,
    Finish,
    ProviderError,
    TextDelta,
    Timeouts,
    ToolCall,
    ToolCallReady,
    ToolCallStarted,
    ToolResult,
    ToolSpec,
    Usage,
)
from app.providers.catalog import build_providers
from app.providers.gemini_chat import GeminiProvider
from app.settings import Settings
from tests.fakes.provider_server import FakeProviderServer, FakeToolCall, HttpError, Reply, WebPage

ASKING = ChatRequest(model="gemini-2.5-flash", turns=[ChatTurn("user", "Hi")], max_output_tokens=256)
WEATHER = ToolSpec("get_weather", "The weather now.", {"type": "object", "properties": {"city": {"type": "string"}}})


@pytest.fixture
async def gemini():
    server = FakeProviderServer("gemini").start()
    provider = GeminiProvider(server.api_key, server.base_url, Timeouts(connect=2, read=5))
    yield provider, server
    await provider.close()
    server.stop()


async def events_of(provider, request=ASKING) -> list:
    return [event async for event in provider.stream(request)]


async def test_models_are_discovered_from_the_list_endpoint_chat_models_only(gemini):
    provider, _ = gemini
    assert await provider.list_models() == ["gemini-2.5-flash", "gemini-2.5-pro"]


def test_it_is_configured_by_its_key_and_base_url(tmp_path):
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'chat.db'}",
        gemini_api_key="key",
        gemini_base_url="http://127.0.0.1:9",
        gemini_models="gemini-2.5-pro",
        ollama_base_url="",
        local_model_enabled=False,
    )
    [provider] = [p for p in build_providers(settings) if p.id == "gemini"]
    assert list(provider.pinned_models) == ["gemini-2.5-pro"] and provider.label == "Gemini"


async def test_a_reply_streams_as_text_then_usage_and_its_finish(gemini):
    provider, server = gemini
    server.play(Reply(tokens=["Hel", "lo", "!"], input_tokens=9))

    events = await events_of(provider)

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello!"
    assert [e for e in events if isinstance(e, Usage)][-1] == Usage(9, 3)
    assert events[-1] == Finish("stop")
    assert server.chat_requests[-1].path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"


async def test_the_request_carries_the_system_prompt_temperature_and_length_as_gemini_takes_them(gemini):
    provider, server = gemini
    turns = [ChatTurn("user", "Hi"), ChatTurn("assistant", "Hello."), ChatTurn("user", "More")]
    request = ChatRequest("gemini-2.5-flash", turns, 123, system="Be brief.", temperature=0.3)

    await events_of(provider, request)

    body = server.chat_requests[-1].body
    assert [(c["role"], c["parts"][0]["text"]) for c in body["contents"]] == [
        ("user", "Hi"),
        ("model", "Hello."),
        ("user", "More"),
    ]
    assert body["systemInstruction"]["parts"][0]["text"] == "Be brief."
    assert body["generationConfig"] == {"temperature": 0.3, "maxOutputTokens": 123}


async def test_calls_come_whole_and_end_the_reply_as_tool_calls(gemini):
    provider, server = gemini
    calls = [FakeToolCall("get_weather", '{"city": "Paris"}', id="c1"), FakeToolCall("get_weather", "{}", id="c2")]
    server.play(Reply(tokens=["Checking."], tool_calls=calls))

    events = await events_of(provider, ChatRequest("gemini-2.5-flash", ASKING.turns, 256, tools=(WEATHER,)))

    assert [e for e in events if isinstance(e, ToolCallStarted | ToolCallReady)] == [
        ToolCallStarted("c1", "get_weather"),
        ToolCallReady("c1", "get_weather", {"city": "Paris"}, '{"city": "Paris"}'),
        ToolCallStarted("c2", "get_weather"),
        ToolCallReady("c2", "get_weather", {}, "{}"),
    ]
    assert events[-1] == Finish("tool_calls")
    declared = server.chat_requests[-1].body["tools"][0]["functionDeclarations"][0]
    assert declared["name"] == "get_weather" and declared["description"] == "The weather now."


async def test_results_go_back_as_function_responses_named_after_their_calls(gemini):
    provider, server = gemini
    turns = [
        ChatTurn("user", "Weather?"),
        ChatTurn("assistant", "Let me check.", tool_calls=(ToolCall("c1", "get_weather", {"city": "Paris"}),)),
        ChatTurn("tool", "", tool_results=(ToolResult("c1", "Sunny"), ToolResult("c1", "late", is_error=True))),
    ]

    await events_of(provider, ChatRequest("gemini-2.5-flash", turns, 256, tools=(WEATHER,)))

    said, answered = server.chat_requests[-1].body["contents"][1:]
    assert said["role"] == "model" and said["parts"][1]["functionCall"]["name"] == "get_weather"
    responses = [part["functionResponse"] for part in answered["parts"]]
    assert [(r["name"], r["id"], r["response"]) for r in responses] == [
        ("get_weather", "c1", {"result": "Sunny"}),
        ("get_weather", "c1", {"error": "late"}),
    ]


@pytest.mark.parametrize(
    "failure,kind,transient,retry_after",
    [
        (HttpError(429, "Quota exceeded.", headers={"retry-after": "7"}), ErrorKind.RATE_LIMIT, True, 7.0),
        (HttpError(503, "The model is overloaded."), ErrorKind.OVERLOADED, True, None),
        (HttpError(404, "models/nope is not found."), ErrorKind.NOT_FOUND, False, None),
        (HttpError(403, "Permission denied."), ErrorKind.AUTH, False, None),
    ],
)
async def test_errors_are_said_with_their_kind_and_the_wait_gemini_asks_for(
    gemini, failure, kind, transient, retry_after
):
    provider, server = gemini
    server.play(failure)

    with pytest.raises(ProviderError) as raised:
        await events_of(provider)

    error = raised.value
    assert (error.kind, error.transient, error.retry_after) == (kind, transient, retry_after)
    assert failure.message in error.message and error.provider == "Gemini"


async def test_a_wrong_key_is_an_auth_error(gemini):
    _, server = gemini
    wrong = GeminiProvider("not-the-key", server.base_url, Timeouts(connect=2, read=5))
    try:
        with pytest.raises(ProviderError) as raised:
            await events_of(wrong)
    finally:
        await wrong.close()
    assert raised.value.kind == ErrorKind.AUTH and not raised.value.transient


async def test_broken_streams_are_errors_or_an_unfinished_reply_never_a_hang(gemini):
    provider, server = gemini
    server.play(Reply(tokens=["a", "b", "c"], drop_after=2))
    with pytest.raises(ProviderError) as dropped:
        await events_of(provider)
    assert dropped.value.kind in (ErrorKind.CONNECTION, ErrorKind.UPSTREAM)

    server.play(Reply(tokens=["a", "b", "c"], truncate_after=2))
    assert not any(isinstance(e, Finish) for e in await events_of(provider)), "the service says it was cut short"

    server.play(Reply(tokens=["a", "b"], garbage_after=1))
    with pytest.raises(ProviderError) as garbled:
        await events_of(provider)
    assert garbled.value.kind in (ErrorKind.UPSTREAM, ErrorKind.CONNECTION)  # the SDK may meet the end first

    server.play(WebPage())
    with pytest.raises(ProviderError):
        await events_of(provider)


async def test_a_conversation_with_gemini_through_the_chat_service_calls_a_tool_and_answers(gemini, settings):
    from pydantic import SecretStr

    from tests.conftest import start_service
    from tests.waiting import finished

    _, server = gemini
    with_gemini = settings.model_copy(
        update={
            "gemini_api_key": SecretStr(server.api_key),
            "gemini_base_url": server.base_url,
            "builtin_tools": ["calculator"],
        }
    )
    service = await start_service(with_gemini)
    try:
        server.play(
            Reply(tokens=["Working. "], tool_calls=[FakeToolCall("calculator", '{"expression": "6*7"}', id="c1")]),
            Reply(tokens=["It is 42."]),
        )
        generation = await finished(service.replies.send(None, "6*7?", "gemini:gemini-2.5-flash"))
    finally:
        await service.shutdown()

    assert generation.status.value == "complete" and generation.text == "Working. It is 42."
    [answer] = server.chat_requests[-1].body["contents"][-1]["parts"]
    assert answer["functionResponse"] == {"id": "c1", "name": "calculator", "response": {"result": "42"}}
