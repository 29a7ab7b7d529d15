"""Which providers are configured and which of their models the Model selector offers."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from app.providers.anthropic_chat import AnthropicProvider
from app.providers.base import Provider, Timeouts
from app.providers.gemini_chat import GeminiProvider
from app.providers.local_model import LocalModelProvider
from app.providers.openai_chat import OpenAIProvider
from app.providers.openai_compatible import compatible_provider, ollama_provider
from app.providers.routes import ROUTE_PREFIX, Lineup, ModelRoute
from app.providers.together_chat import TogetherProvider
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelOption:
    provider: Provider
    model_id: str

    @property
    def key(self) -> str:
        return f"{self.provider.id}:{self.model_id}"

    @property
    def label(self) -> str:
        note = f" ({self.provider.model_note})" if self.provider.model_note else ""
        return f"{self.provider.label} · {self.model_id}{note}"


def provider_timeouts(settings: Settings) -> Timeouts:
    return Timeouts(connect=settings.connect_timeout, read=settings.first_token_timeout + settings.connect_timeout)


def build_providers(settings: Settings) -> list[Provider]:
    """Every configured provider, with the models the settings pin for it (none: discover them). Cloud providers
    need a key; local servers only an address. The first one listed gives the default model, so the embedded model
    comes last: it is the default only when nothing else is set up."""
    timeout = provider_timeouts(settings)
    cloud = [
        (OpenAIProvider, settings.openai_api_key, settings.openai_base_url, settings.openai_models),
        (AnthropicProvider, settings.anthropic_api_key, settings.anthropic_base_url, settings.anthropic_models),
        (TogetherProvider, settings.together_api_key, settings.together_base_url, settings.together_models),
        (GeminiProvider, settings.gemini_api_key, settings.gemini_base_url, settings.gemini_models),
    ]
    providers: list[Provider] = [
        cls(key.get_secret_value(), base_url, timeout, models)
        for cls, key, base_url, models in cloud
        if key is not None
    ]
    if settings.openai_compat_base_url:
        key = settings.openai_compat_api_key.get_secret_value() if settings.openai_compat_api_key else None
        providers.append(
            compatible_provider(settings.openai_compat_base_url, key, timeout, settings.openai_compat_models)
        )
    if settings.ollama_base_url:
        providers.append(ollama_provider(settings.ollama_base_url, timeout, settings.ollama_models))
    if local := LocalModelProvider.from_settings(settings):
        providers.append(local)
    return providers


class ModelCatalog:
    def __init__(self, providers: list[Provider], discovery_timeout: float) -> None:
        self._configured = providers  # by the environment: these stay as they are
        self._providers = providers
        self._discovery_timeout = discovery_timeout
        self.options: list[ModelOption] = [
            ModelOption(provider, model)
            for provider in providers
            for model in provider.pinned_models or provider.fallback_models
        ]
        self.routes: list[ModelRoute] = []  # the environment's and the app's (app/chat/model_routes.py)
        self.ready = asyncio.Event()

    async def refresh(self) -> None:
        """Ask every provider without pinned models for its list, all at once; keep the fallback where that fails."""
        found = await asyncio.gather(*(self._models_of(provider) for provider in self._providers))
        self.options = [
            ModelOption(provider, model)
            for provider, models in zip(self._providers, found, strict=True)
            for model in models
        ]
        self.ready.set()

    async def connect(self, connected: list[Provider]) -> None:
        """Offer these providers (from the Connections page) beside the configured ones, instead of the ones
        connected before; a model running here stays last, the default only when nothing else is there."""
        remote = [provider for provider in self._configured if not provider.runs_here]
        here = [provider for provider in self._configured if provider.runs_here]
        replaced = [provider for provider in self._providers if provider not in self._configured]
        self._providers = remote + connected + here
        await self.refresh()
        await asyncio.gather(*(provider.close() for provider in replaced))

    def warm_up(self) -> None:
        """Start loading the models that run in this process; replies wait for them, pages do not."""
        for provider in self._providers:
            provider.warm_up()

    async def close(self) -> None:
        await asyncio.gather(*(provider.close() for provider in self._providers), return_exceptions=True)

    async def _models_of(self, provider: Provider) -> list[str]:
        if provider.pinned_models:
            return list(provider.pinned_models)
        try:
            models = await asyncio.wait_for(provider.list_models(), self._discovery_timeout)
        except Exception as error:  # any failure here only means "use the curated list", if there is one
            if provider.fallback_models:
                log.warning("Could not list %s models (%s); offering the usual ones", provider.label, error)
            elif provider.quiet_when_absent:
                log.info("%s is not running (%s)", provider.label, error)
            else:
                log.warning("Could not list %s models (%s); it is left out", provider.label, error)
            return list(provider.fallback_models)
        return models or list(provider.fallback_models)

    def find(self, key: str) -> ModelOption | None:
        return next((option for option in self.options if option.key == key), None)

    def named(self, name: str) -> ModelOption | None:
        """A model by its key (`openai:gpt-4o`) or, failing that, its id alone (`gpt-4o`)."""
        return self.find(name) or next((option for option in self.options if option.model_id == name), None)

    def offered_routes(self) -> list[ModelRoute]:
        """The routes that can answer now: those with at least one of their models offered."""
        return [route for route in self.routes if self.lineup(route.key)]

    def choices(self) -> dict[str, str]:
        """What the Model selector offers, by key: the routes that can answer, then every model."""
        routes = {route.key: route.label for route in self.offered_routes()}
        return routes | {option.key: option.label for option in self.options}

    def lineup(self, key: str) -> Lineup | None:
        """Who writes a reply for this choice: a model (by its key), or a route's models that are offered now."""
        if key.startswith(ROUTE_PREFIX):
            route = next((route for route in self.routes if route.key == key), None)
            models = tuple(option for k in route.models if (option := self.find(k))) if route else ()
            return Lineup(models, route) if models else None
        option = self.find(key)
        return Lineup((option,)) if option else None

    def resolve(
        self, requested: str | None, conversation_model: str | None = None, last_used: str | None = None
    ) -> Lineup | None:
        """Who writes the next reply: the choice asked for (a model's or a route's key or name; None if it is not
        offered); else the conversation's own, else the one used last, else the first model offered, each only while
        it is offered."""
        if requested:
            if found := self.lineup(requested) or self.lineup(ROUTE_PREFIX + requested):
                return found
            option = self.named(requested)
            return Lineup((option,)) if option else None
        for key in (conversation_model, last_used):
            if key and (found := self.lineup(key)):
                return found
        return Lineup((self.options[0],)) if self.options else None

    @property
    def default_key(self) -> str | None:
        return self.options[0].key if self.options else None
