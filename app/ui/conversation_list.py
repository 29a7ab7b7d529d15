"""The drawer's list of conversations: search, open, rename, pin and delete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nicegui import ui

from app.chat.service import ChatService, InputRefused
from app.storage.models import Conversation


@dataclass(frozen=True)
class RowLook:
    """What a row shows: a row is built again only when this changes, and otherwise at most moved."""

    title: str
    pinned: bool
    current: bool


@dataclass
class Row:
    element: ui.row
    look: RowLook


class ConversationList:
    def __init__(self, service: ChatService, current_id: Callable[[], str | None], allowed: Callable[[], bool]) -> None:
        self.service = service
        self.current_id = current_id  # the open conversation, which can change after the first message
        self.allowed = allowed  # the page's session check, run before every change
        self.search = ui.input(placeholder="Search").props('dense outlined clearable debounce=250 aria-label="Search"')
        self.search.classes("w-full mt-3").on_value_change(lambda _: self.render())
        self.nothing_found = ui.label("Nothing found.").classes("text-sm opacity-60 q-pa-sm")
        self.column = ui.column().classes("w-full gap-0 mt-2")
        # Dialogs live here, not in the row that opened them: a rename rebuilds that row while its dialog is open.
        self.dialogs = ui.element("div")
        self.rows: dict[str, Row] = {}
        self.render()

    def render(self) -> None:
        """Brings the list up to date by changing only what changed: it is redrawn after every message sent and
        every reply, and rebuilding a list of 200 conversations each time would send thousands of elements."""
        typed = (self.search.value or "").strip()
        found = self.service.search(typed) if typed else self.service.conversations()
        self.nothing_found.set_visibility(bool(typed) and not found)
        wanted = {conversation.id for conversation in found}
        for conversation_id in [shown for shown in self.rows if shown not in wanted]:
            self.column.remove(self.rows.pop(conversation_id).element)
        for index, conversation in enumerate(found):
            look = self._look(conversation)
            row = self.rows.get(conversation.id)
            if row is not None and row.look != look:
                self.column.remove(row.element)
                row = None
            if row is None:
                with self.column:
                    row = self.rows[conversation.id] = Row(self._row(conversation, look), look)
            if self.column.default_slot.children.index(row.element) != index:
                row.element.move(self.column, target_index=index)

    def _look(self, conversation: Conversation) -> RowLook:
        title = conversation.title or "New conversation"
        return RowLook(title, conversation.pinned_at is not None, conversation.id == self.current_id())

    def _row(self, conversation: Conversation, look: RowLook) -> ui.row:
        with ui.row().classes("conversation-row w-full items-center no-wrap gap-0").mark("conversation") as row:
            if look.pinned:
                ui.icon("push_pin", size="xs").classes("opacity-60").props('aria-label="Pinned"')
            ui.link(look.title, f"/c/{conversation.id}").classes("conversation-link grow" + (" current" * look.current))
            options = ui.button(icon="more_vert").props("flat round dense size=sm").mark("conversation-options")
            # Set as a value, never parsed from a props string: a title may hold quotes or NUL.
            options.props["aria-label"] = f"Options for {look.title}"
            with options, ui.menu():
                ui.menu_item("Rename", lambda c=conversation: self._ask_title(c)).mark("Rename")
                pin_label = "Unpin" if look.pinned else "Pin"
                ui.menu_item(pin_label, lambda c=conversation: self._toggle_pin(c)).mark(pin_label)
                ui.menu_item("Delete", lambda c=conversation: self._confirm_delete(c)).mark("Delete")
        return row

    async def _toggle_pin(self, conversation: Conversation) -> None:
        if not self.allowed():
            return
        try:
            await self.service.pin(conversation.id, conversation.pinned_at is None)
        except InputRefused as refusal:
            ui.notify(str(refusal), type="warning")
            return
        self.render()

    def _dialog(self) -> ui.dialog:
        with self.dialogs:
            dialog = ui.dialog()
        dialog.on_value_change(lambda event: event.value or dialog.delete())
        return dialog

    def _ask_title(self, conversation: Conversation) -> None:
        with self._dialog() as dialog, ui.card().classes("w-96 gap-3"):
            ui.label("Rename conversation").classes("text-h6")
            title = ui.input("Title", value=conversation.title).props("outlined autofocus").classes("w-full")

            async def save() -> None:
                if not self.allowed():
                    return
                try:
                    await self.service.rename(conversation.id, title.value or "")
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
        with self._dialog() as dialog, ui.card().classes("w-96 gap-3"):
            ui.label("Delete this conversation?").classes("text-h6")
            ui.label(f"“{conversation.title or 'New conversation'}” and all its messages will be gone for good.")

            async def delete() -> None:
                if not self.allowed():
                    return
                dialog.close()
                try:
                    await self.service.delete(conversation.id)
                except InputRefused as refusal:
                    ui.notify(str(refusal), type="warning")
                    return
                if conversation.id == self.current_id():
                    ui.navigate.to("/")
                else:
                    self.render()

            with ui.row().classes("self-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Delete", on_click=delete).props('unelevated no-caps color=negative aria-label="Delete"')
        dialog.open()
