"""The server's own secrets, kept between restarts."""

from __future__ import annotations

from app.storage.models import AppSecret
from app.storage.store import Store


class SecretStore(Store):
    """The session-signing key and a generated password's hash, by name."""

    def secret(self, name: str) -> str | None:
        with self._session() as session:
            row = session.get(AppSecret, name)
            return row.value if row else None

    def keep_secret(self, name: str, value: str) -> None:
        self._keep(AppSecret(name=name, value=value))
