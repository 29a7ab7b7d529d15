"""Tool calls as each provider streams them, through the real SDKs: the call's name as soon as the model names it,
its arguments in pieces, the whole call once the stream says so; and the results sent back in each API's shape."""

from __future__ import annotations

import json

import pytest

from app.providers.base import (
    ChatRequest,
    ChatTurn,
    Finish,
    TextDelta,
    Timeouts,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallReady,
    ToolCallStarted,
    ToolResult,
    ToolSpec,
)
from app.providers.catalog import build_providers
from app.providers.openai_compatible import ollama_provider
from tests.conftest import DIALECTS
from tests.fakes.provider_server import FakeProviderServer, FakeToolCall, Reply

WEATHER = ToolSpec(
    "get_weather",
    "The weather in a city now.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = ToolSpec("get_time", "The time in a timezone.", {"type": "object", "properties": {"tz": {"type": "string"}}})
ASKING = ChatRequest(
    model="some-model", turns=[ChatTurn("user", "Weather in Paris, and the time?")], max_output_tokens=256,
    tools=(WEATHER, TIME),
)  # fmt: skip
TWO_CALLS = [
    FakeToolCall("get_weather", '{"city": "Paris"}', id="call_weather", pieces=4),
    FakeToolCall("get_time", '{"tz": "Europe/Paris"}', id="call_time", pieces=3),
]


@pytest.fixture
def ollama():
    server = FakeProviderServer("ollama").start()
    yield server
    server.stop()


@pytest.fixture(params=[*DIALECTS, "ollama"])
def wire(request, settings, fakes, ollama):
    """(the provider, its fake server) for each wire format."""
    if request.param == "ollama":
        return ollama_provider(ollama.base_url, Timeouts()), ollama
    return next(p for p in build_providers(settings) if p.id == request.param), fakes[request.param]


async def events_of(provider, request=ASKING) -> list:
    return [event async for event in provider.stream(request)]


async def test_parallel_calls_stream_their_names_first_then_arguments_then_whole_calls(wire):
    provider, server = wire
    server.play(Reply(tokens=["Let me ", "check."], tool_calls=TWO_CALLS))

    events = await events_of(provider)

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Let me check."
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert started == [ToolCallStarted("call_weather", "get_weather"), ToolCallStarted("call_time", "get_time")]
    for call in TWO_CALLS:
        pieces = [e.fragment for e in events if isinstance(e, ToolCallArgumentsDelta) and e.id == call.id]
        assert "".join(pieces) == call.arguments
    ready = [e for e in events if isinstance(e, ToolCallReady)]
    assert ready == [
        ToolCallReady("call_weather", "get_weather", {"city": "Paris"}, '{"city": "Paris"}'),
        ToolCallReady("call_time", "get_time", {"tz": "Europe/Paris"}, '{"tz": "Europe/Paris"}'),
    ]
    assert events.index(started[0]) < events.index(ready[0]), "the name shows before the arguments are whole"
    assert Finish("tool_calls") in events


async def test_arguments_that_are_not_a_json_object_still_make_a_call_marked_unusable(wire):
    provider, server = wire
    server.play(Reply(tokens=[], tool_calls=[FakeToolCall("get_weather", '{"city": "Par', id="call_broken")]))

    events = await events_of(provider)

    (ready,) = [e for e in events if isinstance(e, ToolCallReady)]
    assert (ready.arguments, ready.raw_arguments) == (None, '{"city": "Par')


async def test_a_call_with_no_arguments_has_empty_ones(wire):
    provider, server = wire
    server.play(Reply(tokens=[], tool_calls=[FakeToolCall("get_time", "", id="call_now")]))

    (ready,) = [e for e in await events_of(provider) if isinstance(e, ToolCallReady)]

    assert ready.arguments == {}


async def test_tools_are_offered_in_each_apis_own_shape(wire):
    provider, server = wire
    server.play(Reply(tokens=["ok"]))

    await events_of(provider)

    offered = server.chat_requests[-1].body["tools"]
    if server.dialect == "anthropic":
        assert offered[0] == {
            "name": WEATHER.name,
            "description": WEATHER.description,
            "input_schema": WEATHER.input_schema,
        }
    else:
        function = {"name": WEATHER.name, "description": WEATHER.description, "parameters": WEATHER.input_schema}
        assert offered[0] == {"type": "function", "function": function}
    assert len(offered) == 2


async def test_results_go_back_after_the_calls_an_error_said_as_one(wire):
    provider, server = wire
    server.play(Reply(tokens=["It is sunny."]))
    calls = (ToolCall("call_weather", "get_weather", {"city": "Paris"}), ToolCall("call_time", "get_time", {}))
    results = (ToolResult("call_weather", "Sunny, 21 °C"), ToolResult("call_time", "no such timezone", is_error=True))
    request = ChatRequest(
        model="some-model",
        turns=[
            ChatTurn("user", "Weather in Paris, and the time?"),
            ChatTurn("assistant", "Let me check.", tool_calls=calls),
            ChatTurn("tool", "", tool_results=results),
        ],
        max_output_tokens=256,
        tools=(WEATHER, TIME),
    )

    assert "".join(e.text for e in await events_of(provider, request) if isinstance(e, TextDelta)) == "It is sunny."

    sent = server.chat_requests[-1].body["messages"]
    if server.dialect == "anthropic":
        assert sent[1] == {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "call_weather", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_time", "name": "get_time", "input": {}},
            ],
        }
        assert sent[2] == {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_weather", "content": "Sunny, 21 °C", "is_error": False},
                {"type": "tool_result", "tool_use_id": "call_time", "content": "no such timezone", "is_error": True},
            ],
        }
    else:
        assert sent[-3]["role"] == "assistant" and sent[-3]["content"] == "Let me check."
        assert [
            (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])) for c in sent[-3]["tool_calls"]
        ] == [
            ("call_weather", "get_weather", {"city": "Paris"}),
            ("call_time", "get_time", {}),
        ]
        assert sent[-2:] == [
            {"role": "tool", "tool_call_id": "call_weather", "content": "Sunny, 21 °C"},
            {"role": "tool", "tool_call_id": "call_time", "content": "Error: no such timezone"},
        ]
