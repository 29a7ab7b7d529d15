"""The routes made in the app: ordered lists of models across providers, kept by name."""

from __future__ import annotations

import json

from sqlmodel import col

from app.providers.routes import ModelRoute
from app.storage.models import SavedRoute
from app.storage.store import Store


class RouteStore(Store):
    def routes(self) -> list[ModelRoute]:
        rows = self._all(SavedRoute, col(SavedRoute.created_at))
        return [ModelRoute(row.name, tuple(json.loads(row.models)), row.switch_at_once) for row in rows]

    def keep(self, route: ModelRoute) -> None:
        """Add the route, or replace the one of its name (which keeps its place in the list)."""
        with self._session() as session:
            row = session.get(SavedRoute, route.name) or SavedRoute(name=route.name)
            row.models, row.switch_at_once = json.dumps(list(route.models)), route.switch_at_once
            session.add(row)
            session.commit()

    def forget(self, name: str) -> None:
        self._forget(SavedRoute, col(SavedRoute.name) == name)
