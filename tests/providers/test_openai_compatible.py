"""Ollama and other OpenAI-compatible servers, against a fake that answers the way Ollama does."""

from __future__ import annotations

import logging
import socket

import pytest

from app.providers import openai_compatible
from app.providers.base import ChatRequest, ChatTurn, ErrorKind, Finish, ProviderError, TextDelta, Usage
from app.providers.catalog import ModelCatalog, build_providers
from app.settings import Settings
from tests.conftest import WITHOUT_LOCAL_MODELS
from tests.fakes.provider_server import FakeProviderServer, HttpError, Reply

REQUEST = ChatRequest(model="llama3.2:latest", turns=[ChatTurn("user", "Hi")], max_output_tokens=128, system="Brief.")


@pytest.fixture
def ollama():
    server = FakeProviderServer("ollama").start()
    yield server
    server.stop()


def local_settings(database_url: str, **overrides) -> Settings:
    """No cloud key: only what runs on this machine."""
    return Settings(_env_file=None, database_url=database_url, **{**WITHOUT_LOCAL_MODELS, **overrides})


async def catalog_for(settings: Settings) -> ModelCatalog:
    catalog = ModelCatalog(build_providers(settings), discovery_timeout=2.0)
    await catalog.refresh()
    return catalog


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_ollama_models_are_listed_without_its_embedding_models(ollama, database_url):
    catalog = await catalog_for(local_settings(database_url, ollama_base_url=ollama.base_url))

    assert [(o.key, o.label) for o in catalog.options] == [
        ("ollama:llama3.2:latest", "Ollama · llama3.2:latest"),
        ("ollama:qwen2.5:0.5b", "Ollama · qwen2.5:0.5b"),
    ]
    assert ollama.requests[0].path == "/v1/models"


async def test_a_reply_streams_from_ollama_through_its_openai_endpoint(ollama, database_url):
    ollama.play(Reply(tokens=["Hi", " there", "!"], input_tokens=11))
    catalog = await catalog_for(local_settings(database_url, ollama_base_url=ollama.base_url + "/"))

    events = [event async for event in catalog.options[0].provider.stream(REQUEST)]

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hi there!"
    assert Usage(11, 3) in events and Finish("stop") in events
    sent = ollama.chat_requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.body["model"] == "llama3.2:latest" and sent.body["messages"][0] == {
        "role": "system",
        "content": "Brief.",
    }
    # Ollama reads `max_tokens`; OpenAI's newer `max_completion_tokens` it would ignore.
    assert sent.body["max_tokens"] == 128 and "max_completion_tokens" not in sent.body


async def test_a_model_ollama_has_not_pulled_is_reported_as_not_found(ollama, database_url):
    ollama.play(HttpError(404, 'model "llama9" not found, try pulling it first', "api_error"))
    catalog = await catalog_for(local_settings(database_url, ollama_base_url=ollama.base_url))

    with pytest.raises(ProviderError) as failed:
        [event async for event in catalog.options[0].provider.stream(REQUEST)]

    assert failed.value.kind == ErrorKind.NOT_FOUND and not failed.value.transient
    assert "try pulling it first" in failed.value.message


async def test_ollama_not_running_at_its_usual_address_is_left_out_quietly(database_url, caplog, monkeypatch):
    usual_address = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setattr(openai_compatible, "OLLAMA_DEFAULT_URL", usual_address)

    with caplog.at_level(logging.INFO):
        catalog = await catalog_for(local_settings(database_url, ollama_base_url=usual_address))

    assert catalog.options == []
    assert "Ollama is not running" in caplog.text
    assert not [r for r in caplog.records if r.name.startswith("app.") and r.levelno >= logging.WARNING]


async def test_an_ollama_address_that_was_set_but_does_not_answer_is_a_warning(database_url, caplog):
    settings = local_settings(database_url, ollama_base_url=f"http://127.0.0.1:{closed_port()}")

    catalog = await catalog_for(settings)

    assert catalog.options == []
    assert "Could not list Ollama models" in caplog.text


async def test_an_openai_compatible_server_is_a_provider_named_after_its_host(ollama, database_url):
    ollama.play(Reply(tokens=["Hello"]))
    base_url = ollama.base_url + "/v1"
    settings = local_settings(
        database_url, openai_compat_base_url=base_url, openai_compat_api_key="local-secret", openai_compat_models="m1"
    )

    catalog = await catalog_for(settings)
    events = [event async for event in catalog.options[0].provider.stream(REQUEST)]

    host = f"127.0.0.1:{ollama.port}"
    assert [(o.key, o.label) for o in catalog.options] == [("compat:m1", f"{host} · m1")]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello"
    assert ollama.chat_requests[0].headers["authorization"] == "Bearer local-secret"
    assert not [r for r in ollama.requests if r.path == "/v1/models"]  # pinned models are not looked up


async def test_an_openai_compatible_server_needs_no_key(ollama, database_url):
    catalog = await catalog_for(local_settings(database_url, openai_compat_base_url=ollama.base_url + "/v1"))

    assert [o.model_id for o in catalog.options] == ["llama3.2:latest", "qwen2.5:0.5b"]
    assert ollama.requests[0].headers["authorization"] == "Bearer not-needed"


def test_chunks_of_an_unexpected_shape_from_a_compatible_server_are_skipped_not_fatal():
    from app.providers.openai_chat import ToolCallJoiner, events_from_chunk

    assert events_from_chunk("keep-alive", ToolCallJoiner()) == []
    assert events_from_chunk({"choices": None, "usage": None}, ToolCallJoiner()) == []
    assert events_from_chunk({"choices": [{"index": 0, "delta": None, "finish_reason": None}]}, ToolCallJoiner()) == []
    assert events_from_chunk({"choices": [{"index": 1, "delta": {"content": "second choice"}}]}, ToolCallJoiner()) == []
