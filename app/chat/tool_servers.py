"""The Tools page's side of the tools: the MCP servers (added, turned on or off, their timeout, removed, started
again) and the built-in tools, checked before anything changes and kept in the servers file."""

from __future__ import annotations

import contextlib
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, replace

from app.chat.refusals import InputRefused
from app.chat.tool_calls import Permissions
from app.providers.base import ToolSpec
from app.security.access import is_loopback
from app.settings import Settings
from app.tools.builtin import BUILTINS
from app.tools.mcp_servers import DEFAULT_CALL_SECONDS, MCPServerConnection, ServerConfig
from app.tools.registry import ToolRegistry

SERVER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
LONGEST_CALL_SECONDS = 3600.0


@dataclass(frozen=True)
class ServerState:
    """A server as the Tools page shows it."""

    name: str
    runs: str  # its command line, or its URL
    enabled: bool
    call_seconds: float
    status: str
    last_error: str | None
    tools: list[ToolSpec]


@dataclass(frozen=True)
class BuiltinState:
    name: str  # as BUILTIN_TOOLS takes it
    spec: ToolSpec
    on: bool


def state_of(server: MCPServerConnection) -> ServerState:
    config = server.config
    runs = config.url or shlex.join([config.command or "", *config.args])
    status = server.status.value if config.enabled else "off"
    return ServerState(
        config.name, runs, config.enabled, config.call_seconds, status, server.last_error, server.tools()
    )


# Why, on a network bind, the page adds servers by URL only.
NO_COMMANDS = (
    "Here the Tools page adds servers by URL only: a command would run on this machine for anyone who can sign in "
    "from the network. Add a command server to the servers file where the app runs, or start the app with "
    "TOOLS_PAGE_COMMANDS=true."
)


def page_takes_commands(settings: Settings) -> bool:
    """TOOLS_PAGE_COMMANDS, or unset: only while the app is not shared on the network."""
    chosen = settings.tools_page_commands
    return is_loopback(settings.host) if chosen is None else chosen


class ToolServers:
    def __init__(
        self, registry: ToolRegistry, permissions: Permissions | None = None, commands_allowed: bool = True
    ) -> None:
        self.registry = registry
        self.permissions = permissions
        # A server added by its command line runs that command here: by default only when the app is not shared.
        self.commands_allowed = commands_allowed

    @property
    def problem(self) -> str | None:
        return self.registry.problem

    def servers(self) -> list[ServerState]:
        return [state_of(server) for server in self.registry.servers]

    def builtin(self) -> list[BuiltinState]:
        on = set(self.registry.builtin.names)
        return [BuiltinState(name, spec, name in on) for name, spec in BUILTINS.items()]

    async def add(self, name: str, runs: str, env: str = "", call_seconds: float | None = None) -> None:
        """A server from what the page's form says: `runs` is a command line (stdio) or an http(s) URL."""
        name, runs = name.strip(), runs.strip()
        if not SERVER_NAME.fullmatch(name):
            raise InputRefused("A server's name is 1 to 64 letters, digits, - or _.")
        if self.registry.server(name) is not None:
            raise InputRefused(f"There is a server called {name} already. Pick another name, or remove it first.")
        seconds = _call_seconds(call_seconds)
        if runs.startswith(("http://", "https://")):
            config = ServerConfig(name, url=runs, call_seconds=seconds)
        elif not self.commands_allowed:
            raise InputRefused(NO_COMMANDS)
        else:
            try:
                command = shlex.split(runs)
            except ValueError as error:
                raise InputRefused(f"That command line cannot be read: {error}.") from None
            if not command:
                raise InputRefused("Give the command that starts the server, or its http(s) URL.")
            config = ServerConfig(name, command[0], tuple(command[1:]), _environment(env), call_seconds=seconds)
        await self._keep(config)

    async def turn(self, name: str, on: bool) -> None:
        await self._keep(replace(self._config(name), enabled=on))

    async def set_call_seconds(self, name: str, seconds: float | None) -> None:
        await self._keep(replace(self._config(name), call_seconds=_call_seconds(seconds)))

    async def restart(self, name: str) -> None:
        await self._keep(self._config(name))

    async def remove(self, name: str) -> None:
        with _changing_the_file():
            await self.registry.forget_server(name)

    def always_allowed(self) -> list[str]:
        """The tools whose calls run without asking (`<server>/<tool>`)."""
        return self.permissions.keys() if self.permissions is not None else []

    async def forget_allowance(self, key: str) -> None:
        """Ask again before this tool runs."""
        if self.permissions is not None:
            await self.permissions.forget(key)

    async def turn_builtin(self, name: str, on: bool) -> None:
        if name not in BUILTINS:
            raise InputRefused(f"There is no built-in tool called {name}.")
        with _changing_the_file():
            self.registry.turn_builtin(name, on)

    def _config(self, name: str) -> ServerConfig:
        server = self.registry.server(name)
        if server is None:
            raise InputRefused(f"There is no server called {name} any more.")
        return server.config

    async def _keep(self, config: ServerConfig) -> None:
        with _changing_the_file():
            await self.registry.keep_server(config)


@contextlib.contextmanager
def _changing_the_file() -> Iterator[None]:
    """A servers file that cannot be written (or read: a broken one is never written over) is said in words."""
    try:
        yield
    except (OSError, ValueError) as error:
        raise InputRefused(f"Could not change the servers file: {error}") from None


def _call_seconds(seconds: float | None) -> float:
    if seconds is None:
        return DEFAULT_CALL_SECONDS
    if not 1 <= seconds <= LONGEST_CALL_SECONDS:
        raise InputRefused(f"A call's timeout is from 1 to {LONGEST_CALL_SECONDS:g} seconds.")
    return float(seconds)


def _environment(text: str) -> dict[str, str]:
    """`NAME=value` lines (blank lines ignored)."""
    environment = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            raise InputRefused(f"Each environment line is NAME=value; {line.strip()[:40]!r} is not.")
        environment[name.strip()] = value
    return environment
