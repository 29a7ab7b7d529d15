"""Servers that copy OpenAI's Chat Completions API (Ollama, llama.cpp server, vLLM, LM Studio): the OpenAI adapter
pointed at them, with no key required and every listed model offered."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from app.providers.base import Timeouts
from app.providers.openai_chat import OpenAIProvider

# Local servers list whatever was pulled, embedding and speech models included; these cannot chat.
NOT_CHAT_WORDS = ("embed", "rerank", "whisper", "tts", "clip")
OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434"
# The OpenAI SDK refuses to start without a key; these servers ignore it.
PLACEHOLDER_KEY = "not-needed"


class OpenAICompatibleProvider(OpenAIProvider):
    fallback_models: tuple[str, ...] = ()  # nothing to guess: a server that does not answer offers nothing
    token_limit_field = "max_tokens"

    def __init__(
        self,
        provider_id: str,
        label: str,
        base_url: str,
        api_key: str | None,
        timeouts: Timeouts,
        pinned_models: Sequence[str] = (),
        quiet_when_absent: bool = False,
    ) -> None:
        super().__init__(api_key or PLACEHOLDER_KEY, base_url, timeouts, pinned_models)
        self.id = provider_id
        self.label = label
        self.quiet_when_absent = quiet_when_absent

    def is_chat_model(self, model_id: str) -> bool:
        return not any(word in model_id.lower() for word in NOT_CHAT_WORDS)


def ollama_provider(base_url: str, timeouts: Timeouts, pinned_models: Sequence[str] = ()) -> OpenAICompatibleProvider:
    """Ollama at `base_url` (its own root, as OLLAMA_BASE_URL is written; its OpenAI API lives under /v1)."""
    root = base_url.rstrip("/").removesuffix("/v1")
    return OpenAICompatibleProvider(
        "ollama", "Ollama", root + "/v1", None, timeouts, pinned_models, quiet_when_absent=root == OLLAMA_DEFAULT_URL
    )


def compatible_provider(
    base_url: str, api_key: str | None, timeouts: Timeouts, pinned_models: Sequence[str] = ()
) -> OpenAICompatibleProvider:
    """Any other OpenAI-compatible server, named after its host (e.g. `localhost:8000`)."""
    label = urlsplit(base_url).netloc or base_url
    return OpenAICompatibleProvider("compat", label, base_url, api_key, timeouts, pinned_models)
