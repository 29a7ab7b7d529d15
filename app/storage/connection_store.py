"""Providers connected from the Connections page (their keys sealed before they get here)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, delete, select

from app.storage.models import ProviderConnection
from app.storage.store import Store


class ConnectionStore(Store):
    """One row per kind of provider."""

    def provider_connections(self) -> Sequence[ProviderConnection]:
        with self._session() as session:
            return session.exec(select(ProviderConnection).order_by(col(ProviderConnection.kind))).all()

    def save_provider_connection(self, connection: ProviderConnection) -> None:
        with self._session() as session:
            session.merge(connection)
            session.commit()

    def delete_provider_connection(self, kind: str) -> None:
        with self._session() as session:
            session.exec(delete(ProviderConnection).where(col(ProviderConnection.kind) == kind))
            session.commit()
