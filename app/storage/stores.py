"""Every store on one database, by what it keeps: what main.py hands to the parts that need them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from app.storage.api_key_store import ApiKeyStore
from app.storage.connection_store import ConnectionStore
from app.storage.presets import PresetStore
from app.storage.repository import ChatRepository
from app.storage.route_store import RouteStore
from app.storage.secrets import SecretStore
from app.storage.tool_permissions import ToolPermissionStore


@dataclass(frozen=True)
class Storage:
    chats: ChatRepository
    presets: PresetStore
    secrets: SecretStore
    api_keys: ApiKeyStore
    connections: ConnectionStore
    tool_permissions: ToolPermissionStore
    routes: RouteStore

    @classmethod
    def on(cls, engine: Engine) -> Storage:
        return cls(
            ChatRepository(engine),
            PresetStore(engine),
            SecretStore(engine),
            ApiKeyStore(engine),
            ConnectionStore(engine),
            ToolPermissionStore(engine),
            RouteStore(engine),
        )
