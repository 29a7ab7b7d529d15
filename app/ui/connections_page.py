"""The Connections page: connect a provider without editing files. Add, test, edit and remove OpenAI, Anthropic,
Together, Gemini, Ollama or any OpenAI-compatible server; keys are sealed on the server and never sent back to a
page."""

from __future__ import annotations

from nicegui import ui

from app.chat.connections import Connections, ConnectionState
from app.chat.refusals import InputRefused
from app.security.access import Access
from app.ui.side_page import SidePage


class ConnectionsPage(SidePage):
    def __init__(self, connections: Connections, access: Access) -> None:
        self.connections = connections
        super().__init__(access)

    def build(self) -> None:
        self.header("Connections")
        with ui.column().classes("composer gap-4 py-6"):
            ui.label(
                "Connect the providers whose models you want to use. A key typed here is kept on this server, "
                "sealed with a key of its own outside the database, and never shown again: only its first and "
                "last characters. Settings from the environment (or .env) take precedence and are shown as such."
            ).classes("text-sm opacity-80")
            self.cards = ui.column().classes("w-full gap-3")
        self.render()

    def render(self) -> None:
        self.cards.clear()
        with self.cards:
            for state in self.connections.states():
                ConnectionCard(state, self)


class ConnectionCard:
    def __init__(self, state: ConnectionState, page: ConnectionsPage) -> None:
        self.state, self.page, self.kind = state, page, state.kind
        with ui.card().classes("w-full gap-2").mark(f"connection-{self.kind.kind}"):
            with ui.row().classes("w-full items-center no-wrap"):
                ui.label(self.kind.label).classes("text-h6 grow")
                ui.label(self._status()).classes("text-sm opacity-80").mark("connection-status")
            if state.from_environment:
                names = ", ".join(state.from_environment)
                ui.label(f"Set by {names} where the server was started; change it there.").classes("text-sm")
                return
            self.key = None
            if self.kind.needs_key or self.kind.kind == "compat":
                placeholder = "Leave empty to keep the saved key" if state.key_hint else "API key"
                self.key = ui.input("API key", placeholder=placeholder, password=True, password_toggle_button=True)
                self.key.props("outlined dense autocomplete=off").classes("w-full")
            label = "Address" if self.kind.needs_url else "Address (optional)"
            self.base_url = ui.input(label, value=state.base_url or "", placeholder=self.kind.url_hint)
            self.base_url.props("outlined dense").classes("w-full")
            self.result = ui.column().classes("w-full gap-1")
            with ui.row().classes("gap-2"):
                ui.button("Test", on_click=self.test).props(f'outline no-caps aria-label="Test {self.kind.label}"')
                ui.button("Save", on_click=self.save).props(f'unelevated no-caps aria-label="Save {self.kind.label}"')
                if state.saved:
                    remove = ui.button("Remove", on_click=self.remove)
                    remove.props(f'flat no-caps color=negative aria-label="Remove {self.kind.label}"')

    def _status(self) -> str:
        if self.state.from_environment:
            return "Connected (environment)"
        if self.state.saved:
            return f"Connected · key {self.state.key_hint}" if self.state.key_hint else "Connected"
        return "Not connected"

    def _typed(self) -> tuple[str | None, str | None]:
        return (self.key.value if self.key is not None else None), (self.base_url.value or None)

    async def test(self) -> None:
        if not self.page.allowed():
            return
        self._show("Testing…", "opacity-70")
        try:
            models = await self.page.connections.test(self.kind.kind, *self._typed())
        except InputRefused as refusal:
            self._show(str(refusal), "text-negative")
            return
        shown = ", ".join(models[:12]) + (f" and {len(models) - 12} more" if len(models) > 12 else "")
        self._show(f"It works: {len(models)} model{'s' if len(models) != 1 else ''} ({shown}).", "text-positive")

    async def save(self) -> None:
        if not self.page.allowed():
            return
        try:
            await self.page.connections.save(self.kind.kind, *self._typed())
        except InputRefused as refusal:
            self._show(str(refusal), "text-negative")
            return
        ui.notify(f"{self.kind.label} connected: its models are in the Model selector.", type="positive")
        self.page.render()

    async def remove(self) -> None:
        if not self.page.allowed():
            return
        await self.page.connections.remove(self.kind.kind)
        ui.notify(f"{self.kind.label} removed.")
        self.page.render()

    def _show(self, text: str, classes: str) -> None:
        self.result.clear()
        with self.result:
            ui.label(text).classes(f"text-sm {classes}").props('role="status"').mark("connection-result")


def register_connections_page(connections: Connections, access: Access) -> None:
    @ui.page("/connections", title="Connections · Chat")
    def connections_page() -> None:
        ConnectionsPage(connections, access).build()
