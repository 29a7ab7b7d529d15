"""Keys for the HTTP API: made in the UI and shown once, kept as SHA-256 hashes; or one given in CHAT_API_KEY."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from app.storage.api_key_store import ApiKeyStore
from app.storage.models import ApiKey

PREFIX = "chat-"


def key_hash(key: str) -> str:
    # The keys are 192 random bits: a fast hash is enough, nothing to guess from it.
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


class ApiKeys:
    def __init__(self, store: ApiKeyStore, environment_key: str | None) -> None:
        self.store = store
        self._environment_hash = key_hash(environment_key) if environment_key else None

    def create(self, name: str) -> tuple[ApiKey, str]:
        """A new key: its row, and the key itself, which is never shown again."""
        key = PREFIX + secrets.token_urlsafe(24)
        row = self.store.add_api_key(name.strip() or "Unnamed key", key_hash(key), key[: len(PREFIX) + 4])
        return row, key

    def revoke(self, key_id: int) -> None:
        self.store.revoke_api_key(key_id)

    def listed(self) -> Sequence[ApiKey]:
        return self.store.api_keys()

    def accepts(self, authorization: str | None) -> bool:
        """Whether an `Authorization: Bearer <key>` header names a live key."""
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return False
        hashed = key_hash(key.strip())
        if self._environment_hash is not None and hmac.compare_digest(hashed, self._environment_hash):
            return True
        return self.store.find_api_key(hashed) is not None
