"""Fixtures at the network boundary: fake providers on 127.0.0.1 and a real SQLite file per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from app.chat.service import ChatService
from app.providers.catalog import ModelCatalog, build_providers
from app.settings import Settings
from app.storage.database import create_database
from app.storage.repository import ChatRepository
from tests.fakes.provider_server import FakeProviderServer

DIALECTS = ("openai", "anthropic", "together")
# Fast enough for tests, slow enough to show the behaviour.
TEST_TUNING = {"retry_base_delay": 0.05, "retry_max_delay": 5.0, "save_interval": 0.1, "model_discovery_timeout": 2.0}


@pytest.fixture
def fakes() -> Iterator[dict[str, FakeProviderServer]]:
    servers = {dialect: FakeProviderServer(dialect).start() for dialect in DIALECTS}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'chat.db'}"


@pytest.fixture
def settings(fakes, database_url) -> Settings:
    keys = {}
    for dialect, server in fakes.items():
        keys[f"{dialect}_api_key"] = server.api_key
        keys[f"{dialect}_base_url"] = server.base_url
    return Settings(_env_file=None, database_url=database_url, **keys, **TEST_TUNING)


@pytest.fixture
async def service(settings) -> ChatService:
    catalog = ModelCatalog(build_providers(settings), settings.model_discovery_timeout)
    await catalog.refresh()
    chat = ChatService(ChatRepository(create_database(settings.database_url)), catalog, settings)
    yield chat
    await chat.shutdown()


@pytest.fixture
def app_env(fakes, database_url, tmp_path, monkeypatch) -> dict[str, FakeProviderServer]:
    """The environment `python main.py` gets in UI tests: the fakes' URLs and keys, a fresh database, no .env."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["main.py"])
    monkeypatch.setenv("DATABASE_URL", database_url)
    for dialect, server in fakes.items():
        monkeypatch.setenv(f"{dialect.upper()}_API_KEY", server.api_key)
        monkeypatch.setenv(f"{dialect.upper()}_BASE_URL", server.base_url)
        monkeypatch.delenv(f"{dialect.upper()}_MODELS", raising=False)
    for name, value in TEST_TUNING.items():
        monkeypatch.setenv(name.upper(), str(value))
    return fakes
