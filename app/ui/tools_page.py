"""The Tools page: the MCP servers whose tools a model may call (add one, turn it on or off, its call timeout, its
status, last error and tools, remove it) and the built-in tools. Changes are kept in the servers file
(MCP_CONFIG); each conversation then chooses among them in its settings."""

from __future__ import annotations

from nicegui import ui

from app.chat.tool_servers import NO_COMMANDS, BuiltinState, ServerState, ToolServers
from app.security.access import Access
from app.ui.guard import REFUSED, Guard
from app.ui.side_page import SidePage

STATUS_WORDS = {"ready": "Ready", "starting": "Starting…", "failed": "Failed: starting again", "off": "Off"}
STATUS_SECONDS = 1.0  # how often a server's status is looked at while the page is open


class ToolsPage(SidePage):
    def __init__(self, servers: ToolServers, access: Access, config_file: str) -> None:
        super().__init__(access)
        self.guard = Guard(self.allowed)
        self.servers = servers
        self.config_file = config_file
        self.cards: dict[str, ServerCard] = {}

    def build(self) -> None:
        self.header("Tools")
        with ui.column().classes("composer gap-4 py-6"):
            ui.label(
                "Tools a model may call while it answers: MCP servers and the built-in ones. Before a server's tool "
                "runs you are asked (Allow once, Always allow, Deny). Each conversation chooses its tools in its "
                f"settings. Servers are kept in {self.config_file}, the format Claude Desktop uses."
            ).classes("text-sm opacity-80")
            if self.servers.problem:
                ui.label(self.servers.problem).classes("text-negative text-sm").props('role="alert"')
            ui.label("Built-in tools").classes("text-h6")
            for state in self.servers.builtin():
                self._builtin_row(state)
            ui.label("MCP servers").classes("text-h6")
            self.list = ui.column().classes("w-full gap-3")
            self._add_form()
            ui.label("Always allowed").classes("text-h6")
            self.allowed_list = ui.column().classes("w-full gap-1")
        self.render()
        ui.timer(STATUS_SECONDS, self.refresh)

    def render(self) -> None:
        self._render_allowed()
        self.list.clear()
        self.cards = {}
        with self.list:
            states = self.servers.servers()
            if not states:
                ui.label("No server yet: add one below.").classes("text-sm opacity-70").mark("no-servers")
            for state in states:
                self.cards[state.name] = ServerCard(state, self)

    def refresh(self) -> None:
        for state in self.servers.servers():
            if card := self.cards.get(state.name):
                card.show_status(state)

    async def run(self, change, *args: object, done: str | None = None) -> bool:
        """The change, through the page's guard (signed in still; a refusal said); True if it was made."""
        if await self.guard.run(change, *args) is REFUSED:
            return False
        if done:
            ui.notify(done, type="positive")
        return True

    def _render_allowed(self) -> None:
        """The tools chosen with Always allow, each with the way to be asked again."""
        self.allowed_list.clear()
        with self.allowed_list:
            keys = self.servers.always_allowed()
            if not keys:
                ui.label("No tool runs without asking: Always allow on a call adds it here.").classes(
                    "text-sm opacity-70"
                )
            for key in keys:
                with ui.row().classes("w-full items-center no-wrap gap-2").mark("always-allowed"):
                    ui.label(key).classes("tool-name grow")
                    forget = ui.button("Ask again", on_click=lambda key=key: self._forget(key))
                    forget.props("flat no-caps dense")
                    forget.props["aria-label"] = f"Ask again before {key} runs"  # a value: a tool's name is not parsed

    async def _forget(self, key: str) -> None:
        if await self.run(self.servers.forget_allowance, key, done=f"{key} will ask again before it runs."):
            self._render_allowed()

    def _builtin_row(self, state: BuiltinState) -> None:
        with ui.row().classes("w-full items-center no-wrap gap-2").mark(f"builtin-{state.name}"):
            switch = ui.switch(value=state.on)
            switch.props(f'aria-label="Built-in tool {state.spec.name}"')
            switch.on_value_change(lambda e, name=state.name: self.run(self.servers.turn_builtin, name, e.value))
            with ui.column().classes("gap-0"):
                ui.label(state.spec.name).classes("tool-name")
                ui.label(f"{state.spec.description} Only reads: runs without asking.").classes("text-sm opacity-80")

    def _add_form(self) -> None:
        with ui.card().classes("w-full gap-2").mark("add-server"):
            ui.label("Add a server").classes("text-subtitle1")
            if self.servers.commands_allowed:
                warning = "A command runs on this machine, with this app's rights: add only servers you trust."
                runs_label, example = "Command or URL", "uvx mcp-server-time  ·  http://127.0.0.1:8000/mcp"
            else:
                warning, runs_label, example = NO_COMMANDS, "URL", "http://127.0.0.1:8000/mcp"
            ui.label(warning).classes("text-sm opacity-80")
            name = ui.input("Name", placeholder="time").props("outlined dense").classes("w-full")
            runs = ui.input(runs_label, placeholder=example).props("outlined dense").classes("w-full")
            env = ui.textarea("Environment (NAME=value, one per line)").props("outlined dense autogrow")
            env.classes("w-full").set_visibility(self.servers.commands_allowed)  # for a command's process
            seconds = ui.number("Call timeout (seconds)", value=60, min=1, max=3600).props("outlined dense")

            async def add() -> None:
                typed = (name.value or "", runs.value or "", env.value or "", seconds.value)
                if await self.run(self.servers.add, *typed, done=f"{name.value} added: it is starting."):
                    name.value = runs.value = env.value = ""
                    self.render()

            ui.button("Add server", icon="add", on_click=add).props("unelevated no-caps")


class ServerCard:
    def __init__(self, state: ServerState, page: ToolsPage) -> None:
        self.page, self.name = page, state.name
        with ui.card().classes("w-full gap-2").mark(f"server-{state.name}"):
            with ui.row().classes("w-full items-center no-wrap gap-2"):
                switch = ui.switch(value=state.enabled).props(f'aria-label="Use {state.name}"')
                switch.on_value_change(lambda e: self._change(page.servers.turn, e.value))
                ui.label(state.name).classes("text-h6 grow")
                self.status = ui.label("").classes("text-sm").mark("server-status")
            ui.label(state.runs).classes("tool-name text-sm opacity-80")
            self.error = ui.label("").classes("text-sm text-negative").mark("server-error")
            self.tools = ui.column().classes("gap-1")
            with ui.row().classes("items-center gap-2"):
                seconds = ui.number("Call timeout (s)", value=state.call_seconds, min=1, max=3600)
                seconds.props("outlined dense").classes("w-40")
                ui.button("Save timeout", on_click=lambda: self._change(page.servers.set_call_seconds, seconds.value))
                ui.button("Restart", on_click=lambda: self._change(page.servers.restart)).props("flat no-caps")
                remove = ui.button("Remove", on_click=lambda: self._change(page.servers.remove))
                remove.props(f'flat no-caps color=negative aria-label="Remove {state.name}"')
        self._shown: tuple | None = None
        self.show_status(state)

    async def _change(self, change, *args: object) -> None:
        if await self.page.run(change, self.name, *args):
            self.page.render()

    def show_status(self, state: ServerState) -> None:
        shown = (state.status, state.last_error, [tool.name for tool in state.tools])
        if shown == self._shown:
            return
        self._shown = shown
        self.status.set_text(STATUS_WORDS.get(state.status, state.status))
        self.error.set_text(f"Last error: {state.last_error}" if state.last_error else "")
        self.error.set_visibility(bool(state.last_error))
        self.tools.clear()
        with self.tools:
            for tool in state.tools:
                with ui.row().classes("no-wrap gap-2"):
                    ui.label(tool.name).classes("tool-name text-sm")
                    ui.label(tool.description).classes("text-sm opacity-80")


def register_tools_page(servers: ToolServers, access: Access, config_file: str) -> None:
    @ui.page("/tools", title="Tools · Chat")
    def tools_page() -> None:
        ToolsPage(servers, access, config_file).build()
