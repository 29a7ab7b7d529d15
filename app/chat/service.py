"""The chat service: what pages and routes talk to. `conversations` reads and manages them; `replies` writes the
answers. Both share the registry of replies in flight."""

from __future__ import annotations

from app.chat.conversations import Conversations
from app.chat.in_flight import RepliesInFlight
from app.chat.model_routes import ModelRoutes
from app.chat.replies import Replies
from app.chat.tool_calls import Permissions, ToolChoice
from app.metrics import ChatMetrics
from app.providers.catalog import ModelCatalog
from app.settings import Settings
from app.storage.stores import Storage
from app.tools.builtin import BuiltinTools
from app.tools.registry import ToolRegistry


class ChatService:
    def __init__(
        self,
        storage: Storage,
        models: ModelCatalog,
        settings: Settings,
        tools: ToolRegistry | None = None,
        metrics: ChatMetrics | None = None,
    ) -> None:
        in_flight = RepliesInFlight()
        self.routes = ModelRoutes(storage.routes, models, settings.routes)
        self.conversations = Conversations(storage, in_flight, models, settings.history_page_size)
        self.tools = tools or ToolRegistry([], BuiltinTools(set()))
        self.metrics = metrics or ChatMetrics()
        self.permissions = Permissions(storage.tool_permissions)  # the tools always allowed
        choice = ToolChoice(self.tools, self.permissions, settings)
        self.replies = Replies(self.conversations, in_flight, settings, choice, self.metrics)

    async def shutdown(self) -> None:
        await self.replies.shutdown()  # first: a reply cut off stops its tool calls
        await self.tools.close()
