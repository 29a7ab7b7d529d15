"""Where API keys are made and revoked. A new key is shown once; the server keeps only its hash."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from app.security.api_keys import ApiKeys


class ApiKeysDialog:
    def __init__(self, keys: ApiKeys, allowed: Callable[[], bool], on_copy: Callable[[str], object]) -> None:
        self.keys = keys
        self.allowed = allowed  # the page's session check, run before every change
        self.on_copy = on_copy
        with ui.dialog() as self.dialog, ui.card().classes("w-[34rem] max-w-full gap-3"):
            ui.label("Keys for this app's HTTP API").classes("text-h6")
            ui.label(
                "For scripts and other apps that talk to this chat: POST /api/chat with the header "
                "Authorization: Bearer <key>. Not the place for an OpenAI or Anthropic key: those are set where the "
                "app is started (see the README)."
            ).classes("text-sm opacity-70")
            self.listing = ui.column().classes("w-full gap-1")
            with ui.row().classes("w-full items-end no-wrap gap-2"):
                self.name = ui.input("Key name", placeholder="e.g. laptop script").props("dense outlined")
                self.name.classes("grow")
                create = ui.button("Create key", icon="key", on_click=self.create)
                create.props('unelevated no-caps aria-label="Create key"')
            self.created = ui.column().classes("w-full gap-1")
            ui.button("Close", on_click=self.dialog.close).props("flat no-caps aria-label=Close").classes("self-end")

    def open(self) -> None:
        self.created.clear()
        self._render_keys()
        self.dialog.open()

    def create(self) -> None:
        if not self.allowed():
            return
        _, key = self.keys.create(self.name.value or "")
        self.name.value = ""
        self._render_keys()
        self.created.clear()
        with self.created:
            ui.label("Copy this key now: it is not shown again.").classes("text-sm text-warning")
            with ui.row().classes("w-full items-center no-wrap gap-1"):
                ui.input(value=key).props("readonly dense outlined").classes("grow font-mono").mark("new-api-key")
                ui.button(icon="content_copy", on_click=lambda: self.on_copy(key)).props(
                    'flat round dense aria-label=Copy title="Copy"'
                )

    def confirm_revoke(self, key_id: int, name: str) -> None:
        """Revoking cannot be undone, and whatever uses the key stops working at once: ask first."""
        with self.listing, ui.dialog() as confirm, ui.card().classes("w-96 gap-3"):
            ui.label(f"Revoke “{name}”?").classes("text-h6")
            ui.label("Scripts using this key stop working at once. This cannot be undone.").classes("text-sm")
            with ui.row().classes("self-end"):
                ui.button("Cancel", on_click=confirm.close).props("flat no-caps")
                sure = ui.button("Revoke", on_click=lambda: (confirm.close(), self.revoke(key_id)))
                sure.props('unelevated no-caps color=negative aria-label="Revoke key"').mark("revoke-confirm")
        confirm.open()

    def revoke(self, key_id: int) -> None:
        if not self.allowed():
            return
        self.keys.revoke(key_id)
        self._render_keys()

    def _render_keys(self) -> None:
        self.listing.clear()
        with self.listing:
            listed = self.keys.listed()
            if not listed:
                ui.label("No keys yet.").classes("text-sm opacity-60")
            for key in listed:
                with ui.row().classes("w-full items-center no-wrap gap-2").mark("api-key"):
                    ui.label(key.name).classes("grow")
                    ui.label(f"{key.hint}…").classes("font-mono text-sm opacity-70")
                    ui.label(key.created_at.strftime("%Y-%m-%d")).classes("text-sm opacity-60")
                    revoke = ui.button("Revoke", on_click=lambda k=key: self.confirm_revoke(k.id, k.name))
                    revoke.props("flat dense no-caps color=negative")
                    revoke.props["aria-label"] = f"Revoke {key.name}"
