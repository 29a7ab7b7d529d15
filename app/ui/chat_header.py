"""The bar above the chat: the drawer's button, the Model selector, the conversation's title, its settings,
export and the theme."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from app.chat.conversations import ConversationOptions
from app.chat.service import ChatService
from app.providers.catalog import ModelCatalog, ModelOption
from app.ui.exchange_controls import export_button
from app.ui.guard import Guard
from app.ui.settings_dialog import SettingsDialog
from app.ui.theme import theme_toggle


class ChatHeader:
    def __init__(
        self,
        service: ChatService,
        models: ModelCatalog,
        current_id: Callable[[], str | None],
        guard: Guard,
        toggle_drawer: Callable[[], None],
        keep_options: Callable[[ConversationOptions], None],
        show_system_prompt: Callable[[ConversationOptions], None],
    ) -> None:
        self.service = service
        self.models = models
        self.current_id = current_id
        chosen = service.conversations.model_for(current_id())
        with ui.header().classes("chat-bar items-center gap-2 py-1 shadow-sm"):
            ui.button(icon="menu", on_click=toggle_drawer).props("flat round aria-label=Conversations")
            self.model_select = ui.select(models.choices(), value=chosen.key if chosen else None, label="Model")
            self.model_select.props("dense options-dense outlined").classes("min-w-64")
            self.title = ui.label("").classes("chat-title grow").mark("conversation-title")
            self.show_title()
            self.settings = SettingsDialog(
                service, current_id, guard, self.chosen_model, keep_options, show_system_prompt
            )
            settings_button = ui.button("Settings", icon="tune", on_click=self.settings.open)
            settings_button.props('flat no-caps aria-label="Conversation settings"')
            export_button(service, current_id, guard.signed_in)
            theme_toggle()

    @property
    def model_key(self) -> str | None:
        return self.model_select.value

    def chosen_model(self) -> ModelOption | None:
        """The model chosen, or the first of the route chosen: what the settings dialog offers is what it takes."""
        lineup = self.models.lineup(self.model_select.value or "")
        return lineup.first if lineup else None

    def show_title(self) -> None:
        """The conversation's title in the header and in the browser tab."""
        conversation_id = self.current_id()
        conversation = self.service.conversations.get(conversation_id) if conversation_id else None
        title = (conversation.title or "New conversation") if conversation else "New chat"
        if self.title.text != title:
            self.title.set_text(title)
            self.title.props["title"] = title  # the whole of it, as a tooltip, when the header cuts it short
            with self.title:  # the page's own context: this also runs from the service, after a title is written
                ui.page_title(f"{title} · Chat" if conversation else "Chat")
