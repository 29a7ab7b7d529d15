"""Fixtures at the network boundary: fake providers on 127.0.0.1, and a real database per test (a SQLite file;
for the storage, service and API tests also a database on a throwaway PostgreSQL server)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.chat.service import ChatService
from app.providers.base import Capabilities, Provider
from app.providers.catalog import ModelCatalog, build_providers
from app.settings import Settings
from app.storage.database import create_database
from app.storage.stores import Storage
from app.tools.registry import ToolRegistry
from tests.fakes.postgres import PostgresServer
from tests.fakes.provider_server import FakeProviderServer
from tests.scripted_provider import AS_USUAL, ScriptedProvider

DIALECTS = ("openai", "anthropic", "together")
# Fast enough for tests, slow enough to show the behaviour.
TEST_TUNING = {
    "retry_base_delay": 0.05,
    "retry_max_delay": 5.0,
    "model_discovery_timeout": 2.0,
    "auto_title": False,  # its extra request would take replies scripted for the tests; tested on its own
}
# NiceGUI's `user` fixture talks to the app as http://test: a name of its own, as a reverse proxy's would be.
USER_FIXTURE_HOST = "test"
# Tests of the cloud providers leave the local ones out: no Ollama lookup, no embedded model to load.
WITHOUT_LOCAL_MODELS = {"ollama_base_url": "", "local_model_enabled": "false"}


@pytest.fixture
def fakes() -> Iterator[dict[str, FakeProviderServer]]:
    servers = {dialect: FakeProviderServer(dialect).start() for dialect in DIALECTS}
    yield servers
    for server in servers.values():
        server.stop()


# The storage, service and API tests run on both; the rest on SQLite, the default.
ON_BOTH_DATABASES = ("storage", "chat", "api")
DATABASE_KINDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    folder = metafunc.definition.path.parent.name
    if "database_kind" in metafunc.fixturenames and folder in ON_BOTH_DATABASES:
        kinds = ["sqlite"] if metafunc.definition.get_closest_marker("sqlite_only") else DATABASE_KINDS
        metafunc.parametrize("database_kind", kinds, indirect=True)


@pytest.fixture
def database_kind(request) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One server for the whole run; each test gets a database of its own, copied from one already migrated."""
    server = PostgresServer().start()
    template = server.new_database()
    create_database(template).dispose()
    server.template = make_url(template).database
    yield server
    server.stop()


@contextmanager
def fresh_database(kind: str, folder: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of an empty database (its schema made): a SQLite file in `folder`, or a PostgreSQL database."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'chat.db'}"
        return
    server = request.getfixturevalue("postgres")
    url = server.new_database(server.template)
    yield url
    server.drop_database(url)


@pytest.fixture
def database_url(database_kind, tmp_path, request) -> Iterator[str]:
    with fresh_database(database_kind, tmp_path, request) as url:
        yield url


@pytest.fixture
def settings(fakes, database_url, tmp_path) -> Settings:
    keys = {"mcp_config": tmp_path / "mcp.json"}  # on PostgreSQL too: never the project's own servers file
    for dialect, server in fakes.items():
        keys[f"{dialect}_api_key"] = server.api_key
        keys[f"{dialect}_base_url"] = server.base_url
    return Settings(_env_file=None, database_url=database_url, **keys, **TEST_TUNING, **WITHOUT_LOCAL_MODELS)


async def start_service(
    settings: Settings, providers: list[Provider] | None = None, tools: ToolRegistry | None = None
) -> ChatService:
    """A chat service on the settings' database, with the providers and tools they configure unless others are
    given (its tool servers started)."""
    catalog = ModelCatalog(
        build_providers(settings) if providers is None else providers, settings.model_discovery_timeout
    )
    await catalog.refresh()
    database = create_database(settings.database_url, settings.database_busy_timeout)
    registry = tools or ToolRegistry.from_files(settings.mcp_config_file, settings.builtin_tools)
    registry.start()
    return ChatService(Storage.on(database), catalog, settings, registry)


@pytest.fixture
async def service(settings) -> ChatService:
    chat = await start_service(settings)
    yield chat
    await chat.shutdown()


@pytest.fixture
async def service_with(settings):
    """A chat service with some settings changed: `await service_with(first_token_timeout=0.5)`."""
    started: list[ChatService] = []

    async def make(**changes: object) -> ChatService:
        started.append(await start_service(settings.model_copy(update=changes)))
        return started[-1]

    yield make
    for chat in started:
        await chat.shutdown()


@pytest.fixture
async def scripted_service(settings):
    """A chat service whose one provider is scripted in-process: `service, provider = await scripted_service()`,
    with its declared capabilities and settings changes if given."""
    started: list[ChatService] = []

    async def make(capabilities: Capabilities = AS_USUAL, tools: ToolRegistry | None = None, **changes: object):
        provider = ScriptedProvider(capabilities)
        started.append(await start_service(settings.model_copy(update=changes), [provider], tools))
        return started[-1], provider

    yield make
    for chat in started:
        await chat.shutdown()


@pytest.fixture
def app_env(fakes, database_url, tmp_path, monkeypatch) -> dict[str, FakeProviderServer]:
    """The environment `python main.py` gets in UI tests: the fakes' URLs and keys, a fresh database, no .env."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["main.py"])
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ALLOWED_HOSTS", USER_FIXTURE_HOST)
    monkeypatch.setenv("MCP_CONFIG", str(tmp_path / "mcp.json"))  # never the project's own servers file
    for dialect, server in fakes.items():
        monkeypatch.setenv(f"{dialect.upper()}_API_KEY", server.api_key)
        monkeypatch.setenv(f"{dialect.upper()}_BASE_URL", server.base_url)
        monkeypatch.delenv(f"{dialect.upper()}_MODELS", raising=False)
    for name, value in {**TEST_TUNING, **WITHOUT_LOCAL_MODELS}.items():
        monkeypatch.setenv(name.upper(), str(value))
    return fakes


@pytest.fixture
def offline_env(database_url, tmp_path, monkeypatch) -> None:
    """A fresh machine with no key, no model server and no network: only the embedded model."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["main.py"])
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ALLOWED_HOSTS", USER_FIXTURE_HOST)
    monkeypatch.setenv("MCP_CONFIG", str(tmp_path / "mcp.json"))
    for dialect in DIALECTS:
        monkeypatch.delenv(f"{dialect.upper()}_API_KEY", raising=False)
    monkeypatch.setenv("OLLAMA_BASE_URL", "")  # a developer's own Ollama must not join the test
    monkeypatch.delenv("OPENAI_COMPAT_BASE_URL", raising=False)
    monkeypatch.setenv("LOCAL_MODEL_ENABLED", "true")
    monkeypatch.setenv("MAX_OUTPUT_TOKENS", "40")  # enough to see it answer, short enough for a test
    for name, value in TEST_TUNING.items():
        monkeypatch.setenv(name.upper(), str(value))
