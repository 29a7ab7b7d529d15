"""What the pages beside the chat (Connections, Tools) share: the bar with the way back, and the sign-in check
every action makes first."""

from __future__ import annotations

from nicegui import app, ui

from app.security.access import Access
from app.ui.theme import apply_theme, theme_toggle


class SidePage:
    def __init__(self, access: Access) -> None:
        self.access = access
        self.session = app.storage.user if access.required else {}

    @staticmethod
    def header(title: str) -> None:
        apply_theme()
        with ui.header().classes("chat-bar items-center gap-2 py-1 shadow-sm"):
            ui.button(icon="arrow_back", on_click=lambda: ui.navigate.to("/")).props(
                'flat round aria-label="Back to the chat"'
            )
            ui.label(title).classes("chat-title grow")
            theme_toggle()

    def allowed(self) -> bool:
        """A page left open after signing out must not act: to the login page instead."""
        if self.access.signed_in(self.session):
            return True
        ui.navigate.to("/login")
        return False
