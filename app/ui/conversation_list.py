"""The drawer's list of conversations: search, open, rename, pin and delete."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from app.chat.service import ChatService, InputRefused
from app.storage.models import Conversation


class ConversationList:
    def __init__(self, service: ChatService, current_id: Callable[[], str | None], allowed: Callable[[], bool]) -> None:
        self.service = service
        self.current_id = current_id  # the open conversation, which can change after the first message
        self.allowed = allowed  # the page's session check, run before every change
        self.search = ui.input(placeholder="Search").props('dense outlined clearable debounce=250 aria-label="Search"')
        self.search.classes("w-full mt-3").on_value_change(lambda _: self.render())
        self.column = ui.column().classes("w-full gap-0 mt-2")
        self.render()

    def render(self) -> None:
        typed = (self.search.value or "").strip()
        found = self.service.search(typed) if typed else self.service.conversations()
        self.column.clear()
        with self.column:
            if typed and not found:
                ui.label("Nothing found.").classes("text-sm opacity-60 q-pa-sm")
            for conversation in found:
                self._row(conversation)

    def _row(self, conversation: Conversation) -> None:
        current = " current" if conversation.id == self.current_id() else ""
        with ui.row().classes("conversation-row w-full items-center no-wrap gap-0").mark("conversation"):
            if conversation.pinned_at is not None:
                ui.icon("push_pin", size="xs").classes("opacity-60").props('aria-label="Pinned"')
            title = conversation.title or "New conversation"
            ui.link(title, f"/c/{conversation.id}").classes("conversation-link grow" + current)
            options = ui.button(icon="more_vert").props("flat round dense size=sm").mark("conversation-options")
            # Set as a value, never parsed from a props string: a title may hold quotes or NUL.
            options.props["aria-label"] = f"Options for {title}"
            with options, ui.menu():
                ui.menu_item("Rename", lambda c=conversation: self._ask_title(c)).mark("Rename")
                pin_label = "Unpin" if conversation.pinned_at is not None else "Pin"
                ui.menu_item(pin_label, lambda c=conversation: self._toggle_pin(c)).mark(pin_label)
                ui.menu_item("Delete", lambda c=conversation: self._confirm_delete(c)).mark("Delete")

    def _toggle_pin(self, conversation: Conversation) -> None:
        if self.allowed():
            self.service.pin(conversation.id, conversation.pinned_at is None)
            self.render()

    def _ask_title(self, conversation: Conversation) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96 gap-3"):
            ui.label("Rename conversation").classes("text-h6")
            title = ui.input("Title", value=conversation.title).props("outlined autofocus").classes("w-full")

            def save() -> None:
                if not self.allowed():
                    return
                try:
                    self.service.rename(conversation.id, title.value or "")
                except InputRefused as refusal:
                    ui.notify(str(refusal), type="warning")
                    return
                dialog.close()
                self.render()

            title.on("keydown.enter", save)
            with ui.row().classes("self-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Save", on_click=save).props("unelevated no-caps").mark("rename-save")
        dialog.open()

    def _confirm_delete(self, conversation: Conversation) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96 gap-3"):
            ui.label("Delete this conversation?").classes("text-h6")
            ui.label(f"“{conversation.title or 'New conversation'}” and all its messages will be gone for good.")

            async def delete() -> None:
                if not self.allowed():
                    return
                dialog.close()
                await self.service.delete(conversation.id)
                if conversation.id == self.current_id():
                    ui.navigate.to("/")
                else:
                    self.render()

            with ui.row().classes("self-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Delete", on_click=delete).props('unelevated no-caps color=negative aria-label="Delete"')
        dialog.open()
