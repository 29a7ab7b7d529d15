"""Providers connected from the app itself: kept (keys sealed) in the database, tested before they are saved, and
put in the model catalog at once. What the environment configures wins and is only reported."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.chat.refusals import InputRefused
from app.providers.base import Provider, ProviderError, Timeouts
from app.providers.catalog import ModelCatalog
from app.providers.connections import KINDS, ConnectionKind, set_by_environment
from app.security.key_box import KeyBox, key_hint
from app.settings import Settings
from app.storage.connection_store import ConnectionStore
from app.storage.models import ProviderConnection

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
        self, store: ConnectionStore, box: KeyBox, settings: Settings, catalog: ModelCatalog, timeouts: Timeouts
    ) -> None:
        self.store = store
        self.box = box
        self.settings = settings
        self.catalog = catalog
        self.timeouts = timeouts

    def states(self) -> list[ConnectionState]:
        saved = {row.kind: row for row in self.store.provider_connections()}
        states = []
        for kind in KINDS.values():
            row = saved.get(kind.kind)
            from_environment = set_by_environment(kind, self.settings)
            hint, base_url = (row.key_hint, row.base_url) if row else (None, None)
            states.append(ConnectionState(kind, from_environment, row is not None, hint, base_url))
        return states

    def providers(self) -> list[Provider]:
        """The saved connections the environment does not override, ready for the catalog."""
        made = []
        for row in self.store.provider_connections():
            kind = KINDS.get(row.kind)
            if kind is None or set_by_environment(kind, self.settings):
                continue
            made.append(kind.make(self._opened(row), row.base_url, self.timeouts))
        return made

    async def test(self, kind_name: str, key: str | None, base_url: str | None) -> list[str]:
        """The models the provider lists with this key and address; refused with the provider's own words."""
        kind = self._kind(kind_name)
        key, base_url = _typed(key), _typed(base_url)
        key = key or self._opened(self._saved(kind.kind))
        self._check(kind, key, base_url)
        provider = kind.make(key, base_url, self.timeouts)
        try:
            models = await asyncio.wait_for(provider.list_models(), TEST_SECONDS)
        except ProviderError as error:
            raise InputRefused(error.message) from None
        except TimeoutError:
            raise InputRefused(f"{kind.label} did not answer within {TEST_SECONDS:.0f} s.") from None
        finally:
            await provider.close()  # made for this test alone
        if not models:
            raise InputRefused(f"{kind.label} answered, but lists no chat model.")
        return models

    async def save(self, kind_name: str, key: str | None, base_url: str | None) -> None:
        """Keep the connection (an empty key keeps the one saved before) and offer its models at once."""
        kind = self._kind(kind_name)
        key, base_url = _typed(key), _typed(base_url)
        saved = self._saved(kind.kind)
        self._check(kind, key or self._opened(saved), base_url)
        if key:
            sealed, hint = self.box.seal(key), key_hint(key)
        else:
            sealed, hint = (saved.sealed_key, saved.key_hint) if saved else (None, None)
        row = ProviderConnection(kind=kind.kind, base_url=base_url, sealed_key=sealed, key_hint=hint)
        await asyncio.to_thread(self.store.save_provider_connection, row)
        await self.apply()

    async def remove(self, kind_name: str) -> None:
        await asyncio.to_thread(self.store.delete_provider_connection, self._kind(kind_name).kind)
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
        if kind.needs_url and not base_url:
            raise InputRefused(f"{kind.label} needs the server's address, e.g. {kind.url_hint}.")
        if base_url and not base_url.lower().startswith(("http://", "https://")):
            raise InputRefused("The address must start with http:// or https://.")

    def _saved(self, kind_name: str) -> ProviderConnection | None:
        return next((row for row in self.store.provider_connections() if row.kind == kind_name), None)

    def _opened(self, row: ProviderConnection | None) -> str | None:
        """The saved key, unsealed; None when there is none."""
        return self.box.open(row.sealed_key) if row is not None and row.sealed_key else None


def _typed(value: str | None) -> str | None:
    """What a field of the page holds, without the spaces a paste brings; None when empty."""
    return (value or "").strip() or None
