"""The kinds of provider a person can connect from the Connections page, and the environment variables that set
each one instead (they take precedence: a server configured by its environment stays as configured)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.providers.anthropic_chat import AnthropicProvider
from app.providers.base import Provider, Timeouts
from app.providers.gemini_chat import GeminiProvider
from app.providers.openai_chat import OpenAIProvider
from app.providers.openai_compatible import compatible_provider, ollama_provider
from app.providers.together_chat import TogetherProvider
from app.settings import Settings


@dataclass(frozen=True)
class ConnectionKind:
    kind: str
    label: str
    needs_key: bool
    needs_url: bool
    url_hint: str  # the address when none is given, or an example of one
    variables: tuple[str, ...]  # the environment variables that configure it (the first sets it up)

    def make(self, key: str | None, base_url: str | None, timeouts: Timeouts) -> Provider:
        return MAKERS[self.kind](key or None, base_url or None, self.url_hint, timeouts)


Maker = Callable[[str | None, str | None, str, Timeouts], Provider]
# Each kind's provider from what the Connections page keeps: (key, base URL, the kind's usual address, timeouts).
MAKERS: dict[str, Maker] = {
    "openai": lambda key, url, _usual, timeouts: OpenAIProvider(key or "", url, timeouts),
    "anthropic": lambda key, url, _usual, timeouts: AnthropicProvider(key or "", url, timeouts),
    "together": lambda key, url, _usual, timeouts: TogetherProvider(key or "", url, timeouts),
    "gemini": lambda key, url, _usual, timeouts: GeminiProvider(key or "", url, timeouts),
    "ollama": lambda _key, url, usual, timeouts: ollama_provider(url or usual, timeouts),
    "compat": lambda key, url, _usual, timeouts: compatible_provider(url or "", key, timeouts),
}


KINDS = {
    kind.kind: kind
    for kind in (
        ConnectionKind("openai", "OpenAI", True, False, "https://api.openai.com/v1", ("OPENAI_API_KEY",)),
        ConnectionKind("anthropic", "Anthropic", True, False, "https://api.anthropic.com", ("ANTHROPIC_API_KEY",)),
        ConnectionKind("together", "Together", True, False, "https://api.together.xyz", ("TOGETHER_API_KEY",)),
        ConnectionKind(
            "gemini", "Google Gemini", True, False, "https://generativelanguage.googleapis.com", ("GEMINI_API_KEY",)
        ),
        ConnectionKind("ollama", "Ollama", False, False, "http://127.0.0.1:11434", ("OLLAMA_BASE_URL",)),
        ConnectionKind(
            "compat",
            "OpenAI-compatible server",
            False,
            True,
            "http://127.0.0.1:8000/v1",
            ("OPENAI_COMPAT_BASE_URL", "OPENAI_COMPAT_API_KEY"),
        ),
    )
}


def set_by_environment(kind: ConnectionKind, settings: Settings) -> list[str]:
    """The variables of this kind the server was started with (from the environment or `.env`). Ollama is
    looked for at its usual address without any: only an explicit OLLAMA_BASE_URL counts as set."""
    given = settings.model_fields_set
    named = [name for name in kind.variables if name.lower() in given and getattr(settings, name.lower())]
    return named if kind.variables[0] in named else []
