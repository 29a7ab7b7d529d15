"""Routes: one entry of the Model selector that is an ordered list of models across providers. A reply goes to the
first one offered; a model that fails before the first token hands the reply to the next (app/chat/generation.py),
and the reply says which model answered and why it moved."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.providers.base import ErrorKind, ProviderError

if TYPE_CHECKING:
    from app.providers.catalog import ModelOption

ROUTE_PREFIX = "route:"
# How a model's part of a reply ends when the next one of its route answers instead (the metrics, the Stats page).
FELL_BACK = "fell_back"
ROUTE_NAME = re.compile(r"[\w.-]{1,40}")
# A model that cannot answer at all now (not the request's fault): the next model may. A refused request
# (BAD_REQUEST) would most likely be refused by the next one too, so it ends the reply instead.
FALLS_BACK = {
    ErrorKind.RATE_LIMIT,
    ErrorKind.OVERLOADED,
    ErrorKind.TIMEOUT,
    ErrorKind.CONNECTION,
    ErrorKind.UPSTREAM,
    ErrorKind.AUTH,
    ErrorKind.NOT_FOUND,
    ErrorKind.UNAVAILABLE,
}
# Server errors (5xx, Anthropic's 529) and connections that fail: with "switch at once", no retry first.
AT_ONCE = {ErrorKind.OVERLOADED, ErrorKind.UPSTREAM, ErrorKind.CONNECTION}
WHY_IT_MOVED = {
    ErrorKind.RATE_LIMIT: "rate-limited",
    ErrorKind.OVERLOADED: "overloaded",
    ErrorKind.TIMEOUT: "timed out",
    ErrorKind.CONNECTION: "unreachable",
    ErrorKind.UPSTREAM: "failed",
    ErrorKind.AUTH: "refused the API key",
    ErrorKind.NOT_FOUND: "has no such model",
    ErrorKind.UNAVAILABLE: "unavailable",
}


@dataclass(frozen=True)
class ModelRoute:
    name: str
    models: tuple[str, ...]  # model keys (`anthropic:claude-x`), in the order they are tried
    switch_at_once: bool = False  # on a server or connection error, move on without this model's own retries
    from_environment: bool = False  # MODEL_ROUTES: shown, not editable in the app

    @property
    def key(self) -> str:
        return ROUTE_PREFIX + self.name

    @property
    def label(self) -> str:
        return f"Route · {self.name}"


def check_route(name: str, models: Sequence[str]) -> None:
    """A route's name and models as a person may write them; ValueError says what is wrong."""
    if not ROUTE_NAME.fullmatch(name):
        raise ValueError(f"A route's name is 1 to 40 letters, digits, '.', '_' or '-'; {name[:40]!r} is not.")
    if not models:
        raise ValueError(f"The route {name!r} names no model.")
    if len(set(models)) != len(models):
        raise ValueError(f"The route {name!r} names a model twice.")
    for key in models:
        provider, _, model = key.partition(":")
        if not provider or not model:
            raise ValueError(f"{key!r} in the route {name!r} is not a model's key, e.g. anthropic:claude-sonnet-4-5.")


def parse_routes(text: str, switch_at_once: bool = False) -> list[ModelRoute]:
    """MODEL_ROUTES: `fast=anthropic:claude-x,openai:gpt-y;cheap=together:m`. ValueError says what is wrong."""
    routes: list[ModelRoute] = []
    for part in (part.strip() for part in text.split(";")):
        if not part:
            continue
        name, equals, models = part.partition("=")
        if not equals:
            raise ValueError(f"MODEL_ROUTES: {part[:60]!r} has no '=': write name=provider:model,provider:model.")
        keys = tuple(key.strip() for key in models.split(",") if key.strip())
        check_route(name.strip(), keys)
        if any(route.name == name.strip() for route in routes):
            raise ValueError(f"MODEL_ROUTES names the route {name.strip()!r} twice.")
        routes.append(ModelRoute(name.strip(), keys, switch_at_once, from_environment=True))
    return routes


@dataclass(frozen=True)
class Lineup:
    """Who writes a reply: the models to try, in order (one, unless it is a route), and the route if it is one."""

    models: tuple[ModelOption, ...]
    route: ModelRoute | None = None

    @property
    def key(self) -> str:
        return self.route.key if self.route else self.models[0].key

    @property
    def label(self) -> str:
        return self.route.label if self.route else self.models[0].label

    @property
    def first(self) -> ModelOption:
        return self.models[0]

    def after(self, model: ModelOption) -> ModelOption | None:
        """The model tried when `model` fails, if any."""
        keys = [option.key for option in self.models]
        at = keys.index(model.key) if model.key in keys else len(keys)
        return self.models[at + 1] if at + 1 < len(self.models) else None

    def switches_at_once(self, error: ProviderError) -> bool:
        return self.route is not None and self.route.switch_at_once and error.kind in AT_ONCE


def falls_back(error: ProviderError) -> bool:
    return error.kind in FALLS_BACK


def why_it_moved(model: ModelOption, error: ProviderError) -> str:
    """`Anthropic overloaded`: one model's part of a reply's note."""
    return f"{model.provider.label} {WHY_IT_MOVED.get(error.kind, 'failed')}"


def answered_note(reasons: Sequence[str], model: ModelOption) -> str:
    """`Anthropic overloaded; answered by OpenAI · gpt-4.1-mini.`"""
    return f"{', '.join(reasons)}; answered by {model.label}."


def failed_too_note(reasons: Sequence[str], model: ModelOption) -> str:
    """The route's last model failed as well: `Anthropic overloaded; OpenAI · gpt-4.1-mini failed too.`"""
    return f"{', '.join(reasons)}; {model.label} failed too."


def continued_note(model: ModelOption, failed: ModelOption) -> str:
    """What a reply continued by another model says: `Continued by OpenAI · gpt-4.1-mini where Anthropic ·
    claude-x failed.`"""
    return f"Continued by {model.label} where {failed.label} failed."
