"""Export (a conversation or all of them, as Markdown or JSON) and import of our own JSON exports or ChatGPT's."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import events, ui

from app.chat.service import ChatService
from app.ui.guard import REFUSED, Guard


def export_button(service: ChatService, current_id: Callable[[], str | None], allowed: Callable[[], bool]) -> None:
    def download_current(as_markdown: bool) -> None:
        if current_id() is None:
            ui.notify("This conversation is empty: send a message first.")
        else:
            download(current_id(), as_markdown)

    def download(conversation_id: str | None, as_markdown: bool) -> None:
        if not allowed():
            return
        name = f"chat-{conversation_id}" if conversation_id else "chats"
        media_type = "text/markdown" if as_markdown else "application/json"
        extension = "md" if as_markdown else "json"
        exported = service.conversations.export(conversation_id, as_markdown).encode()
        ui.download.content(exported, f"{name}.{extension}", media_type)

    button = ui.button("Export", icon="download").props('flat no-caps aria-label="Export"')
    with button, ui.menu():
        ui.menu_item("This conversation as Markdown", lambda: download_current(True)).mark("export-this-md")
        ui.menu_item("This conversation as JSON", lambda: download_current(False)).mark("export-this-json")
        ui.menu_item("All conversations as Markdown", lambda: download(None, True)).mark("export-all-md")
        ui.menu_item("All conversations as JSON", lambda: download(None, False)).mark("export-all-json")


class ImportDialog:
    def __init__(self, service: ChatService, guard: Guard, on_imported: Callable[[], None]) -> None:
        self.service = service
        self.guard = guard
        self.on_imported = on_imported
        with ui.dialog() as self.dialog, ui.card().classes("w-96 gap-3"):
            ui.label("Import conversations").classes("text-h6")
            ui.label(
                "A JSON export of this app, or ChatGPT's conversations.json (from its data export). Conversations "
                "already here are skipped."
            ).classes("text-sm opacity-70")
            self.upload = ui.upload(label="JSON export", auto_upload=True, on_upload=self.receive)
            self.upload.props('accept=".json"').classes("w-full")
            ui.button("Close", on_click=self.dialog.close).props("flat no-caps").classes("self-end")

    def open(self) -> None:
        self.dialog.open()

    async def receive(self, upload: events.UploadEventArguments) -> None:
        imported = await self.guard.run(self.service.conversations.import_file, await upload.file.read())
        if imported is REFUSED:
            self.upload.reset()  # a refused file is not left showing as done
            return
        added, skipped = imported.added, imported.already_here
        note = f" ({skipped} already here were skipped)" if skipped else ""
        ui.notify(f"Imported {added} conversation{'s' if added != 1 else ''}{note}.", type="positive")
        self.dialog.close()
        self.on_imported()
