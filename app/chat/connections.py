"""Providers connected from the app itself: kept (keys sealed) in the database, tested before they are saved, and
put in the model catalog at once. What the environment configures wins and is only reported."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.chat.service import InputRefused
from app.providers.base import Provider, ProviderError, Timeouts
from app.providers.catalog import ModelCatalog
from app.providers.connections import KINDS, ConnectionKind, set_by_environment
from app.security.key_box import KeyBox, key_hint
from app.settings import Settings
from app.storage.models import ProviderConnection
from app.storage.repository import ChatRepository

TEST_SECONDS = 15.0


@dataclass(frozen=True)
class ConnectionState:
    """What the Connections page shows of one kind: never the key itself."""

    kind: ConnectionKind
    from_environment: list[str]  # the variables that configure it, when the environment does
    saved: bool
    key_hint: str | None
    base_url: str | None


class Connections:
    def __init__(
        self, repository: ChatRepository, box: KeyBox, settings: Settings, catalog: ModelCatalog, timeouts: Timeouts
    ) -> None:
        self.repository = repository
        self.box = box
        self.settings = settings
        self.catalog = catalog
        self.timeouts = timeouts

    def states(self) -> list[ConnectionState]:
        saved = {row.kind: row for row in self.repository.provider_connections()}
        return [
            ConnectionState(
                kind,
                set_by_environment(kind, self.settings),
                kind.kind in saved,
                saved[kind.kind].key_hint if kind.kind in saved else None,
                saved[kind.kind].base_url if kind.kind in saved else None,
            )
            for kind in KINDS.values()
        ]

    def providers(self) -> list[tuple[Provider, list[str]]]:
        """The saved connections the environment does not override, ready for the catalog."""
        made = []
        for row in self.repository.provider_connections():
            kind = KINDS.get(row.kind)
            if kind is None or set_by_environment(kind, self.settings):
                continue
            key = self.box.open(row.sealed_key) if row.sealed_key else None
            made.append((kind.make(key, row.base_url, self.timeouts), []))
        return made

    async def test(self, kind_name: str, key: str | None, base_url: str | None) -> list[str]:
        """The models the provider lists with this key and address; refused with the provider's own words."""
        kind = self._kind(kind_name)
        key = key or self._saved_key(kind_name)
        self._check(kind, key, base_url)
        provider = kind.make(key, base_url, self.timeouts)
        try:
            models = await asyncio.wait_for(provider.list_models(), TEST_SECONDS)
        except ProviderError as error:
            raise InputRefused(error.message) from None
        except TimeoutError:
            raise InputRefused(f"{kind.label} did not answer within {TEST_SECONDS:.0f} s.") from None
        if not models:
            raise InputRefused(f"{kind.label} answered, but lists no chat model.")
        return models

    async def save(self, kind_name: str, key: str | None, base_url: str | None) -> None:
        """Keep the connection (an empty key keeps the one saved before) and offer its models at once."""
        kind = self._kind(kind_name)
        key = (key or "").strip() or None
        sealed, hint = (self.box.seal(key), key_hint(key)) if key else self._saved_sealed(kind_name)
        self._check(kind, key or self._saved_key(kind_name), base_url)
        row = ProviderConnection(kind=kind.kind, base_url=(base_url or "").strip() or None, sealed_key=sealed)
        row.key_hint = hint
        await asyncio.to_thread(self.repository.save_provider_connection, row)
        await self.apply()

    async def remove(self, kind_name: str) -> None:
        await asyncio.to_thread(self.repository.delete_provider_connection, self._kind(kind_name).kind)
        await self.apply()

    async def apply(self) -> None:
        await self.catalog.connect(self.providers())

    def _kind(self, name: str) -> ConnectionKind:
        if name not in KINDS:
            raise InputRefused("There is no such kind of provider.")
        return KINDS[name]

    def _check(self, kind: ConnectionKind, key: str | None, base_url: str | None) -> None:
        if kind.needs_key and not key:
            raise InputRefused(f"{kind.label} needs an API key.")
        if kind.needs_url and not (base_url or "").strip():
            raise InputRefused(f"{kind.label} needs the server's address, e.g. {kind.url_hint}.")
        if base_url and not base_url.strip().lower().startswith(("http://", "https://")):
            raise InputRefused("The address must start with http:// or https://.")

    def _saved_sealed(self, kind_name: str) -> tuple[str | None, str | None]:
        row = next((r for r in self.repository.provider_connections() if r.kind == kind_name), None)
        return (row.sealed_key, row.key_hint) if row else (None, None)

    def _saved_key(self, kind_name: str) -> str | None:
        sealed, _ = self._saved_sealed(kind_name)
        return self.box.open(sealed) if sealed else None
