"""The routes the Model selector offers: those of MODEL_ROUTES, and those made in the app (stored). A change is
offered at once; pages show it when they are next opened."""

from __future__ import annotations

from collections.abc import Sequence

from app.chat.refusals import InputRefused, written
from app.providers.catalog import ModelCatalog
from app.providers.routes import ModelRoute, check_route
from app.storage.route_store import RouteStore


class ModelRoutes:
    def __init__(self, store: RouteStore, models: ModelCatalog, from_environment: Sequence[ModelRoute]) -> None:
        self.store = store
        self.models = models
        self._from_environment = list(from_environment)
        self._offer(store.routes())

    def all(self) -> list[ModelRoute]:
        return list(self.models.routes)

    async def keep(self, name: str, models: Sequence[str], switch_at_once: bool) -> ModelRoute:
        """Add a route, or change the one of this name (made in the app: those of MODEL_ROUTES stay as set)."""
        name, keys = name.strip(), tuple(key.strip() for key in models if key.strip())
        try:
            check_route(name, keys)
        except ValueError as problem:
            raise InputRefused(str(problem)) from None
        self._check_not_from_environment(name, "change")
        route = ModelRoute(name, keys, switch_at_once)
        await written(self.store.keep, route)
        self._offer(await written(self.store.routes))
        return route

    async def remove(self, name: str) -> None:
        self._check_not_from_environment(name, "remove")
        await written(self.store.forget, name)
        self._offer(await written(self.store.routes))

    def _offer(self, saved: list[ModelRoute]) -> None:
        taken = {route.name for route in self._from_environment}
        self.models.routes = self._from_environment + [route for route in saved if route.name not in taken]

    def _check_not_from_environment(self, name: str, verb: str) -> None:
        if any(route.name == name for route in self._from_environment):
            raise InputRefused(f"The route {name!r} is set by MODEL_ROUTES where the app starts; {verb} it there.")
