"""Keys for the HTTP API: only their hashes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from app.storage.models import ApiKey, utc_now
from app.storage.store import Store


class ApiKeyStore(Store):
    """Keys made in the UI; a revoked key stays, marked, so its name still reads in a log."""

    def add_api_key(self, name: str, key_hash: str, hint: str) -> ApiKey:
        key = ApiKey(name=name, key_hash=key_hash, hint=hint)
        with self._session() as session:
            session.add(key)
            session.commit()
        return key

    def api_keys(self) -> Sequence[ApiKey]:
        with self._session() as session:
            return session.exec(select(ApiKey).where(col(ApiKey.revoked_at).is_(None)).order_by(ApiKey.id)).all()

    def find_api_key(self, key_hash: str) -> ApiKey | None:
        with self._session() as session:
            query = select(ApiKey).where(ApiKey.key_hash == key_hash, col(ApiKey.revoked_at).is_(None))
            return session.exec(query).first()

    def revoke_api_key(self, key_id: int) -> None:
        with self._session() as session:
            key = session.get(ApiKey, key_id)
            if key is not None and key.revoked_at is None:
                key.revoked_at = utc_now()
                session.commit()
