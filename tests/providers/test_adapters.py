"""What every provider adapter must do, checked against each provider's real wire format."""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing

import pytest
from pydantic import SecretStr

from app.providers.base import ChatRequest, ChatTurn, ErrorKind, Finish, ProviderError, TextDelta, Usage
from app.providers.catalog import build_providers
from tests.conftest import DIALECTS
from tests.fakes.provider_server import HttpError, Reply

pytestmark = pytest.mark.parametrize("dialect", DIALECTS)

REQUEST = ChatRequest(model="some-model", turns=[ChatTurn("user", "Hi")], max_output_tokens=256, system="Be brief.")


@pytest.fixture
def provider(settings, dialect):
    return next(p for p in build_providers(settings) if p.id == dialect)


async def collect(provider, request=REQUEST):
    events = []
    with pytest.raises(ProviderError) as raised:
        async for event in provider.stream(request):
            events.append(event)
    return events, raised.value


def text_of(events) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_a_normal_stream_yields_text_then_usage_and_finish(provider, fakes, dialect):
    fakes[dialect].play(Reply(tokens=["Hel", "lo", " there", ",", " friend", "!"], input_tokens=7))

    events = [event async for event in provider.stream(REQUEST)]

    assert text_of(events) == "Hello there, friend!"
    assert Finish("stop") in events
    assert Usage(7, 6) in events
    assert all(e.text for e in events if isinstance(e, TextDelta)), "no empty deltas from keep-alive chunks"


async def test_a_reply_cut_by_the_token_limit_finishes_with_length(provider, fakes, dialect):
    fakes[dialect].play(Reply(tokens=["a", "b"], finish="length"))

    events = [event async for event in provider.stream(REQUEST)]

    assert Finish("length") in events


async def test_the_request_carries_the_model_the_turns_the_system_prompt_and_sampling(provider, fakes, dialect):
    request = ChatRequest(
        "m-1",
        [ChatTurn("user", "One"), ChatTurn("assistant", "Two"), ChatTurn("user", "Three")],
        max_output_tokens=100,
        system="Be brief.",
        temperature=0.3,
    )
    [_ async for _ in provider.stream(request)]

    body = fakes[dialect].chat_requests[-1].body
    assert body["model"] == "m-1"
    assert body["stream"] is True
    # Anthropic's current Messages API has no sampling parameters; the others take the temperature.
    assert body.get("temperature") == (None if dialect == "anthropic" else 0.3)
    contents = [m["content"] for m in body["messages"]]
    if dialect == "anthropic":
        assert body["system"] == "Be brief." and contents == ["One", "Two", "Three"]
    else:
        assert contents == ["Be brief.", "One", "Two", "Three"]


async def test_rate_limit_before_the_first_token_carries_retry_after(provider, fakes, dialect):
    fakes[dialect].play(HttpError(429, "Rate limit reached for requests", "rate_limit_error", {"retry-after": "7"}))

    events, error = await collect(provider)

    assert events == []
    assert error.kind == ErrorKind.RATE_LIMIT and error.transient
    assert error.retry_after == 7
    assert "Rate limit reached for requests" in error.message and "429" in error.message


async def test_a_server_error_before_the_first_token_is_transient(provider, fakes, dialect):
    fakes[dialect].play(HttpError(500, "The server had an error", "server_error"))

    _, error = await collect(provider)

    assert error.kind == ErrorKind.UPSTREAM and error.transient and error.status_code == 500


async def test_an_overloaded_529_is_transient(provider, fakes, dialect):
    fakes[dialect].play(HttpError(529, "Overloaded", "overloaded_error"))

    _, error = await collect(provider)

    assert error.kind == ErrorKind.OVERLOADED and error.transient


async def test_a_bad_key_is_reported_and_not_retried(settings, fakes, dialect):
    settings = settings.model_copy(update={f"{dialect}_api_key": SecretStr("wrong")})
    provider = next(p for p in build_providers(settings) if p.id == dialect)

    _, error = await collect(provider)

    assert error.kind == ErrorKind.AUTH and not error.transient
    assert "API key" in error.message


async def test_an_error_event_mid_stream_keeps_the_text_before_it(provider, fakes, dialect):
    fakes[dialect].play(Reply(tokens=["one ", "two ", "three"], fail_after=2))

    events, error = await collect(provider)

    assert text_of(events) == "one two "
    assert error.kind == ErrorKind.OVERLOADED and "Overloaded" in error.message


async def test_a_dropped_connection_mid_stream_is_a_connection_error(provider, fakes, dialect):
    fakes[dialect].play(Reply(tokens=["one ", "two ", "three"], drop_after=2))

    events, error = await collect(provider)

    assert text_of(events) == "one two "
    assert error.kind == ErrorKind.CONNECTION and error.transient


async def test_closing_the_stream_hangs_up_on_the_provider_at_once(provider, fakes, dialect):
    fake = fakes[dialect]
    fake.play(Reply(tokens=["tick "] * 200, delay=0.05))

    async with aclosing(provider.stream(REQUEST)) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                break
    closed_at = time.monotonic()

    assert await asyncio.to_thread(fake.hung_up.wait, 2.0), "the provider never saw the connection close"
    assert fake.hangups[0] - closed_at < 1.0


async def test_model_discovery_lists_chat_models(provider, fakes, dialect):
    models = await provider.list_models()

    expected = {
        "openai": ["gpt-4.1", "gpt-4o-mini"],  # not the embedding or speech models the endpoint also lists
        "anthropic": ["claude-sonnet-4-5", "claude-haiku-4-5"],
        "together": ["Qwen/Qwen2.5-72B-Instruct-Turbo", "meta-llama/Llama-3.3-70B-Instruct-Turbo"],
    }
    assert models == expected[dialect]
