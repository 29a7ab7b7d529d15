"""Providers that go silent, stop halfway, send garbage or a web page: each is an error in words, with the
provider's name and a documented code, and the text that came before it is kept."""

from __future__ import annotations

import time

import pytest

from app.providers.base import ErrorKind
from app.storage.models import Status
from tests.chat.test_service import OPENAI, reply_row
from tests.fakes.provider_server import Reply, WebPage
from tests.waiting import finished

ANTHROPIC = "anthropic:claude-haiku-4-5"
TOGETHER = "together:Qwen/Qwen2.5-72B-Instruct-Turbo"
TOKENS = ["Half ", "of ", "an ", "answer"]


async def test_a_provider_that_never_sends_a_token_times_out_with_a_clear_error(service_with, fakes):
    service = await service_with(first_token_timeout=0.4, retry_attempts=1)
    fakes["openai"].play(Reply(tokens=TOKENS, silent_after=0), Reply(tokens=TOKENS, silent_after=0))
    started = time.monotonic()

    generation = await finished(service.replies.send(None, "Hello?", OPENAI))

    assert generation.status == Status.ERROR and generation.failure.kind == ErrorKind.TIMEOUT
    assert "OpenAI" in generation.error and "FIRST_TOKEN_TIMEOUT" in generation.error
    assert len(fakes["openai"].chat_requests) == 2, "a silent start is retried like any transient failure"
    assert time.monotonic() - started < 5
    assert fakes["openai"].hung_up.is_set(), "the silent connection was closed"


async def test_a_provider_that_goes_silent_midway_keeps_the_text_and_is_not_retried(service_with, fakes):
    service = await service_with(between_tokens_timeout=0.4)
    fakes["anthropic"].play(Reply(tokens=TOKENS, silent_after=2))

    generation = await finished(service.replies.send(None, "Hello?", ANTHROPIC))

    row = reply_row(service, generation.conversation_id)
    assert (row.status, row.content) == (Status.ERROR, "Half of ")
    assert "Anthropic" in row.error and "BETWEEN_TOKENS_TIMEOUT" in row.error and "kept" in row.error
    assert generation.failure.kind == ErrorKind.TIMEOUT
    assert len(fakes["anthropic"].chat_requests) == 1


@pytest.mark.parametrize("model", [OPENAI, ANTHROPIC, TOGETHER])
async def test_a_stream_that_ends_without_finishing_is_marked_truncated_not_complete(service, fakes, model):
    dialect = model.split(":")[0]
    fakes[dialect].play(Reply(tokens=TOKENS, truncate_after=3))

    generation = await finished(service.replies.send(None, "Hello?", model))

    row = reply_row(service, generation.conversation_id)
    assert (row.status, row.content) == (Status.ERROR, "Half of an ")
    assert generation.failure.kind == ErrorKind.UPSTREAM
    assert generation.failure.provider in row.error and "ended before the reply was finished" in row.error


@pytest.mark.parametrize(
    ("garbage", "what"),
    [
        (b"data: {not json\n\n", "JSONDecodeError"),
        (b'data: {"choices": [{"index": 0, "delta": {"content": "\xff\xfe"}}]}\n\n', "UnicodeDecodeError"),
    ],
)
@pytest.mark.parametrize("model", [OPENAI, ANTHROPIC])
async def test_a_stream_with_garbage_midway_is_an_upstream_error_naming_the_provider(
    service, fakes, model, garbage, what
):
    dialect = model.split(":")[0]
    event = b"event: content_block_delta\n" if dialect == "anthropic" else b""
    fakes[dialect].play(Reply(tokens=TOKENS, garbage_after=2, garbage=event + garbage))

    generation = await finished(service.replies.send(None, "Hello?", model))

    row = reply_row(service, generation.conversation_id)
    assert (row.status, row.content) == (Status.ERROR, "Half of ")
    assert generation.failure.kind == ErrorKind.UPSTREAM
    assert row.error.startswith(generation.failure.provider) and what in row.error


@pytest.mark.parametrize("model", [OPENAI, ANTHROPIC, TOGETHER])
async def test_a_web_page_instead_of_a_stream_is_an_error_not_an_empty_reply(service_with, fakes, model):
    service = await service_with(retry_attempts=0)
    fakes[model.split(":")[0]].play(WebPage())

    generation = await finished(service.replies.send(None, "Hello?", model))

    row = reply_row(service, generation.conversation_id)
    assert row.status == Status.ERROR and generation.failure.kind == ErrorKind.UPSTREAM
    assert "web page" in row.error and generation.failure.provider in row.error
