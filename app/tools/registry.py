"""Every tool the model may be offered, from every source: the MCP servers of the mcp.json file and the built-in
tools turned on. A tool is offered under its own name; only where two sources offer the same name is each offered
as `<server>__<tool>`. Calls are routed back to the source that offers them."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.providers.base import ToolSpec
from app.tools.base import ToolOutput, ToolSource, failed
from app.tools.builtin import BuiltinTools
from app.tools.mcp_servers import MCPServerConnection, ServerConfig
from app.tools.servers_file import ServersFile

log = logging.getLogger(__name__)

# What the provider APIs take as a tool's name.
NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class OfferedTool:
    """A tool as the model sees it (`spec`, named as offered) and where its calls go."""

    spec: ToolSpec
    source: str
    tool: str  # its own name, in its source
    read_only: bool = False  # it only reads (the built-in ones): it may run without asking

    @property
    def key(self) -> str:
        """What "Always allow" remembers it by."""
        return f"{self.source}/{self.tool}"


class ToolRegistry:
    def __init__(
        self,
        servers: list[MCPServerConnection],
        builtin: BuiltinTools,
        problem: str | None = None,
        servers_file: ServersFile | None = None,
    ) -> None:
        self.servers = servers
        self.builtin = builtin
        self.problem = problem  # what was wrong with the servers file, if anything
        self.file = servers_file  # where changes made on the Tools page are kept (None: nowhere)

    @classmethod
    def from_files(cls, config_file: Path, builtin_names: Iterable[str]) -> ToolRegistry:
        """The servers the file names (none if there is no file; a file that cannot be read is said, and offers
        none) and the built-in tools turned on, by BUILTIN_TOOLS or on the Tools page."""
        file = ServersFile(config_file)
        try:
            configs, kept_builtin = file.servers(), file.builtin_tools()
        except (OSError, ValueError) as error:
            problem = f"{config_file} cannot be read: {error}"
            log.warning("No MCP servers: %s", problem)
            return cls([], BuiltinTools(set(builtin_names)), problem)  # and nothing is written over it
        builtin = BuiltinTools(set(builtin_names) | kept_builtin)
        return cls([MCPServerConnection(config) for config in configs], builtin, servers_file=file)

    def server(self, name: str) -> MCPServerConnection | None:
        return next((server for server in self.servers if server.name == name), None)

    # -- changes from the Tools page, kept in the servers file

    async def keep_server(self, config: ServerConfig) -> MCPServerConnection:
        """Add the server, or change the one with its name (started again if it runs); kept in the file first."""
        self._keep(lambda file: file.keep_server(config))
        if (old := self.server(config.name)) is not None:
            await old.stop()
            self.servers.remove(old)
        connection = MCPServerConnection(config)
        self.servers.append(connection)
        if config.enabled:
            connection.start()
        return connection

    async def forget_server(self, name: str) -> None:
        self._keep(lambda file: file.forget_server(name))
        if (server := self.server(name)) is not None:
            await server.stop()
            self.servers.remove(server)

    def turn_builtin(self, name: str, on: bool) -> None:
        names = set(self.builtin.names) | {name} if on else set(self.builtin.names) - {name}
        self._keep(lambda file: file.keep_builtin_tools(names))
        self.builtin.turn_on(names)

    def _keep(self, change) -> None:
        if self.file is None:
            raise ValueError(self.problem or "There is no servers file to keep this in.")
        change(self.file)

    def start(self) -> None:
        for server in self.servers:
            if server.config.enabled:
                server.start()

    async def close(self) -> None:
        for server in self.servers:
            await server.stop()

    def sources(self) -> list[ToolSource]:
        return [self.builtin, *self.servers]

    def choosable(self) -> list[ToolSource]:
        """The sources a conversation may turn on: the built-in tools if any is on, and the servers turned on."""
        builtin = [self.builtin] if self.builtin.tools() else []
        return [*builtin, *(server for server in self.servers if server.config.enabled)]

    def offered(self, chosen: set[str] | None = None) -> list[OfferedTool]:
        """The tools of the sources `chosen` (every source, if None), named as the model sees them."""
        tools = [
            (source, spec)
            for source in self.sources()
            if chosen is None or source.name in chosen
            for spec in source.tools()
        ]
        taken = Counter(spec.name for _, spec in tools)
        return [
            OfferedTool(
                ToolSpec(_offered_name(source.name, spec.name, taken), spec.description, spec.input_schema),
                source.name,
                spec.name,
                source.read_only,
            )
            for source, spec in tools
        ]

    async def call(self, offered: OfferedTool, arguments: dict) -> ToolOutput:
        source = next((s for s in self.sources() if s.name == offered.source), None)
        if source is None:
            return failed(f"The tool server {offered.source} is no longer configured.")
        return await source.call(offered.tool, arguments)


def _offered_name(source: str, name: str, taken: Counter) -> str:
    # A server may name a tool in a way no provider takes ("get weather"): the model is offered a clean name.
    return NAME_CHARACTERS.sub("_", name if taken[name] == 1 else f"{source}__{name}")[:64] or "tool"
