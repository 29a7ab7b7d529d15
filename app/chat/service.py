"""The chat service: what pages and routes talk to. `conversations` reads and manages them; `replies` writes the
answers. Both share the registry of replies in flight."""

from __future__ import annotations

from app.chat.conversations import Conversations
from app.chat.in_flight import RepliesInFlight
from app.chat.replies import Replies
from app.providers.catalog import ModelCatalog
from app.settings import Settings
from app.storage.stores import Storage


class ChatService:
    def __init__(self, storage: Storage, models: ModelCatalog, settings: Settings) -> None:
        in_flight = RepliesInFlight()
        self.conversations = Conversations(storage, in_flight, models, settings.history_page_size)
        self.replies = Replies(self.conversations, in_flight, settings)

    async def shutdown(self) -> None:
        await self.replies.shutdown()
