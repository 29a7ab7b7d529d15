"""The metrics after scripted replies: a reply that succeeds, one that fails before its first token and one after,
one stopped, one retried; values read back from the registry as Prometheus would see them."""

from __future__ import annotations

import asyncio

from app.providers.base import ErrorKind, Finish, Loading, ProviderError, Queued, TextDelta, Usage
from app.storage.models import Status
from tests.waiting import eventually, finished

MODEL = {"provider": "scripted", "model": "model"}


def value(service, name: str, **labels: str) -> float:
    return service.metrics.registry.get_sample_value(name, labels) or 0.0


def overloaded(status: int = 529) -> ProviderError:
    return ProviderError(ErrorKind.OVERLOADED, "Scripted", "Overloaded.", status_code=status, transient=True)


async def test_a_reply_that_succeeds_is_counted_with_its_timings_and_tokens(scripted_service):
    service, provider = await scripted_service()
    provider.script(0.05, TextDelta("Hello"), 0.02, TextDelta(" there"), Usage(10, 42), Finish("stop"))

    await finished(service.replies.send(None, "Hi", "scripted:model"))

    assert value(service, "chat_replies_started_total", **MODEL) == 1
    assert value(service, "chat_replies_ended_total", **MODEL, status="complete") == 1
    assert value(service, "chat_time_to_first_token_seconds_count", **MODEL) == 1
    assert 0.04 < value(service, "chat_time_to_first_token_seconds_sum", **MODEL) < 1.0
    assert value(service, "chat_inter_token_gap_seconds_count", provider="scripted") == 1
    assert value(service, "chat_output_tokens_total", **MODEL) == 42
    assert value(service, "chat_output_tokens_per_second_count", **MODEL) == 1


async def test_errors_before_and_after_the_first_token_are_counted_by_kind_and_status(scripted_service):
    service, provider = await scripted_service(retry_attempts=0)
    provider.script(overloaded())
    provider.script(TextDelta("Half"), overloaded(500))

    for _ in range(2):
        generation = await finished(service.replies.send(None, "Hi", "scripted:model"))
        assert generation.status == Status.ERROR

    assert value(service, "chat_replies_ended_total", **MODEL, status="error") == 2
    labels = {"provider": "scripted", "kind": "OVERLOADED"}
    assert value(service, "chat_provider_errors_total", **labels, status="529") == 1
    assert value(service, "chat_provider_errors_total", **labels, status="500") == 1
    assert value(service, "chat_time_to_first_token_seconds_count", **MODEL) == 1  # only the one that had one


async def test_a_retry_and_a_stop_are_counted(scripted_service):
    service, provider = await scripted_service()
    provider.script(overloaded())
    provider.script(TextDelta("Slowly"), 30.0)

    generation = await service.replies.send(None, "Hi", "scripted:model")
    await eventually(lambda: generation.text == "Slowly")
    service.replies.stop(generation.conversation_id)
    await finished(generation)

    assert value(service, "chat_retries_total", provider="scripted") == 1
    assert value(service, "chat_replies_ended_total", **MODEL, status="stopped") == 1


async def test_label_values_are_bounded_no_conversation_is_named(scripted_service):
    service, _ = await scripted_service()
    generations = [await finished(service.replies.send(None, f"Q{n}", "scripted:model")) for n in range(3)]
    await asyncio.sleep(0)

    exposition = service.metrics.exposition().decode()
    assert all(g.conversation_id not in exposition for g in generations)
    assert "chat_replies_started_total" in exposition and 'status="complete"' in exposition


async def test_the_wait_in_the_embedded_models_queue_is_measured(scripted_service):
    service, provider = await scripted_service()
    provider.script(Queued(1), 0.1, Queued(0), 0.05, Loading(), TextDelta("Hi"), Finish("stop"))

    await finished(service.replies.send(None, "Hi", "scripted:model"))

    assert value(service, "chat_local_model_queue_wait_seconds_count") == 1
    assert 0.14 < value(service, "chat_local_model_queue_wait_seconds_sum") < 1.0
