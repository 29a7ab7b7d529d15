"""Providers connected from the Connections page (their keys sealed before they get here)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col

from app.storage.models import ProviderConnection
from app.storage.store import Store


class ConnectionStore(Store):
    """One row per kind of provider."""

    def provider_connections(self) -> Sequence[ProviderConnection]:
        return self._all(ProviderConnection, col(ProviderConnection.kind))

    def save_provider_connection(self, connection: ProviderConnection) -> None:
        self._keep(connection)

    def delete_provider_connection(self, kind: str) -> None:
        self._forget(ProviderConnection, col(ProviderConnection.kind) == kind)
