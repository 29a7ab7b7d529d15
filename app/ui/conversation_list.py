"""The drawer's list of conversations: search, open, rename, pin and delete; grouped by when they were last used,
and loaded page by page as the person scrolls."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from nicegui import ui

from app.chat.service import ChatService
from app.storage.models import Conversation
from app.ui.guard import REFUSED, Guard


@dataclass(frozen=True)
class RowLook:
    """What a row shows: a row is built again only when this changes, and otherwise at most moved."""

    title: str
    pinned: bool
    current: bool


@dataclass
class Row:
    element: ui.element
    look: RowLook | str  # a conversation's, or a heading's text
    writing: ui.element | None = None  # the mark shown while a reply is written there, toggled in place


def group_of(conversation: Conversation, today: date) -> str:
    """The heading a conversation is listed under: pinned ones first, then by the day it was last used."""
    if conversation.pinned_at is not None:
        return "Pinned"
    used = conversation.updated_at
    used = (used if used.tzinfo else used.replace(tzinfo=UTC)).astimezone().date()
    age = (today - used).days
    if age <= 0:
        return "Today"
    if age == 1:
        return "Yesterday"
    if age <= 7:
        return "Previous 7 days"
    if age <= 30:
        return "Previous 30 days"
    return "Older"


class ConversationList:
    def __init__(
        self,
        service: ChatService,
        page_size: int,
        current_id: Callable[[], str | None],
        guard: Guard,
    ) -> None:
        self.service = service
        self.page_size = page_size
        self.current_id = current_id  # the open conversation, which can change after the first message
        self.guard = guard  # the page's session check, run before every change
        self.search = ui.input(placeholder="Search").props('dense outlined clearable debounce=250 aria-label="Search"')
        self.search.classes("w-full mt-3").on_value_change(lambda _: self.render())
        self.nothing_found = ui.label("Nothing found.").classes("text-sm opacity-60 q-pa-sm")
        self.column = ui.column().classes("w-full gap-0 mt-2")
        page = page_size
        # Enough pages to include the open conversation, so opening one from far down keeps the drawer's place.
        place = service.conversations.place_in_list(current_id()) if current_id() else None
        self.shown = page * (1 + (place or 0) // page)
        with ui.element("div").classes("w-full") as self.more_slot:
            # Clicked by static/chat.js as soon as it scrolls into view; a button, so a keyboard can too.
            self.more = ui.button("Show more", on_click=self.show_more).props("flat no-caps dense")
            self.more.classes("load-more w-full").mark("load-more")
        # Dialogs live here, not in the row that opened them: a rename rebuilds that row while its dialog is open.
        self.dialogs = ui.element("div")
        self.rows: dict[str, Row] = {}
        self.render()

    def mark_writing(self, conversation_id: str, writing: bool) -> None:
        """Only the mark of one row changes: a reply starting in one tab must not redraw every tab's drawer."""
        row = self.rows.get(conversation_id)
        if row is not None and row.writing is not None:
            row.writing.set_visibility(writing)

    def show_more(self) -> None:
        self.shown += self.page_size
        self.render()

    def render(self) -> None:
        """Brings the list up to date by changing only what changed: it is redrawn after every message sent and
        every reply, and rebuilding a list of conversations each time would send thousands of elements."""
        wanted = self._wanted_rows(self._found())
        keys = {key for key, _, _ in wanted}
        for key in [shown for shown in self.rows if shown not in keys]:
            self.column.remove(self.rows.pop(key).element)
        for index, (key, look, conversation) in enumerate(wanted):
            row = self._row_showing(key, look, conversation)
            if conversation is not None and row.writing is not None:
                row.writing.set_visibility(self.service.replies.is_writing(conversation.id))
            if self.column.default_slot.children.index(row.element) != index:
                row.element.move(self.column, target_index=index)

    def _found(self) -> Sequence[Conversation]:
        """What the search finds, or the conversations shown so far (and whether more follow them)."""
        typed = (self.search.value or "").strip()
        conversations = self.service.conversations
        if typed:
            found = conversations.search(typed)
            self.more_slot.set_visibility(False)
        else:
            found = conversations.list(limit=self.shown + 1)
            self.more_slot.set_visibility(len(found) > self.shown)
            found = found[: self.shown]
        self.nothing_found.set_visibility(bool(typed) and not found)
        return found

    def _wanted_rows(self, found: Sequence[Conversation]) -> list[tuple[str, RowLook | str, Conversation | None]]:
        """Headings and rows in the order shown; the list's order (pinned, then by last use) keeps groups
        together."""
        today = datetime.now().astimezone().date()
        wanted: list[tuple[str, RowLook | str, Conversation | None]] = []
        last_group = None
        for conversation in found:
            if (group := group_of(conversation, today)) != last_group:
                wanted.append((f"group:{group}", group, None))
                last_group = group
            wanted.append((conversation.id, self._look(conversation), conversation))
        return wanted

    def _row_showing(self, key: str, look: RowLook | str, conversation: Conversation | None) -> Row:
        """The row for `key`, built again only when what it shows changed."""
        row = self.rows.get(key)
        if row is not None and row.look != look:
            self.column.remove(row.element)
            row = None
        if row is None:
            with self.column:
                row = self.rows[key] = self._row(conversation, look) if conversation else self._heading(look)
        return row

    def _heading(self, group: str) -> Row:
        return Row(ui.label(group).classes("conversation-group").mark("conversation-group"), group)

    def _look(self, conversation: Conversation) -> RowLook:
        title = conversation.title or "New conversation"
        return RowLook(title, conversation.pinned_at is not None, conversation.id == self.current_id())

    def _row(self, conversation: Conversation, look: RowLook) -> Row:
        with ui.row().classes("conversation-row w-full items-center no-wrap gap-0").mark("conversation") as row:
            if look.pinned:
                ui.icon("push_pin", size="xs").classes("opacity-60").props('aria-label="Pinned"')
            link = ui.link(look.title, f"/c/{conversation.id}")
            link.classes("conversation-link grow" + (" current" * look.current))
            link.props["title"] = look.title  # the whole title, when the row cuts it short
            if look.current:
                link.props["aria-current"] = "page"
            writing = ui.element("span").classes("writing-dot").props('role="img" aria-label="Writing a reply"')
            options = ui.button(icon="more_vert").props("flat round dense size=sm").mark("conversation-options")
            # Set as a value, never parsed from a props string: a title may hold quotes or NUL.
            options.props["aria-label"] = f"Options for {look.title}"
            with options, ui.menu():
                ui.menu_item("Rename", lambda c=conversation: self._ask_title(c)).mark("Rename")
                pin_label = "Unpin" if look.pinned else "Pin"
                ui.menu_item(pin_label, lambda c=conversation: self._toggle_pin(c)).mark(pin_label)
                ui.menu_item("Delete", lambda c=conversation: self._confirm_delete(c)).mark("Delete")
        return Row(row, look, writing)

    async def _toggle_pin(self, conversation: Conversation) -> None:
        pinned = conversation.pinned_at is None
        if await self.guard.run(self.service.conversations.pin, conversation.id, pinned) is not REFUSED:
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
                if (
                    await self.guard.run(self.service.conversations.rename, conversation.id, title.value or "")
                    is REFUSED
                ):
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
                dialog.close()
                if await self.guard.run(self.service.conversations.delete, conversation.id) is REFUSED:
                    return
                if conversation.id == self.current_id():
                    ui.navigate.to("/")
                else:
                    self.render()

            with ui.row().classes("self-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Delete", on_click=delete).props('unelevated no-caps color=negative aria-label="Delete"')
        dialog.open()
