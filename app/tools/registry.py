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
from app.tools.mcp_servers import MCPServerConnection, servers_from_json

log = logging.getLogger(__name__)

# What the provider APIs take as a tool's name.
NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class OfferedTool:
    """A tool as the model sees it (`spec`, named as offered) and where its calls go."""

    spec: ToolSpec
    source: str
    tool: str  # its own name, in its source


class ToolRegistry:
    def __init__(self, servers: list[MCPServerConnection], builtin: BuiltinTools, problem: str | None = None) -> None:
        self.servers = servers
        self.builtin = builtin
        self.problem = problem  # what was wrong with the servers file, if anything

    @classmethod
    def from_files(cls, config_file: Path, builtin_names: Iterable[str]) -> ToolRegistry:
        """The servers the file names (none if there is no file; a file that cannot be read is said, and offers
        none) and the built-in tools turned on."""
        builtin = BuiltinTools(set(builtin_names))
        if not config_file.is_file():
            return cls([], builtin)
        try:
            configs = servers_from_json(config_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problem = f"{config_file} cannot be read: {error}"
            log.warning("No MCP servers: %s", problem)
            return cls([], builtin, problem)
        return cls([MCPServerConnection(config) for config in configs], builtin)

    def start(self) -> None:
        for server in self.servers:
            if server.config.enabled:
                server.start()

    async def close(self) -> None:
        for server in self.servers:
            await server.stop()

    def sources(self) -> list[ToolSource]:
        return [self.builtin, *self.servers]

    def offered(self, chosen: set[str] | None = None) -> list[OfferedTool]:
        """The tools of the sources `chosen` (every source, if None), named as the model sees them."""
        tools = [
            (source.name, spec)
            for source in self.sources()
            if chosen is None or source.name in chosen
            for spec in source.tools()
        ]
        taken = Counter(spec.name for _, spec in tools)
        return [
            OfferedTool(
                ToolSpec(_offered_name(source, spec.name, taken), spec.description, spec.input_schema),
                source,
                spec.name,
            )
            for source, spec in tools
        ]

    async def call(self, offered: OfferedTool, arguments: dict) -> ToolOutput:
        source = next((s for s in self.sources() if s.name == offered.source), None)
        if source is None:
            return failed(f"The tool server {offered.source} is no longer configured.")
        return await source.call(offered.tool, arguments)


def _offered_name(source: str, name: str, taken: Counter) -> str:
    if taken[name] == 1:
        return name
    return NAME_CHARACTERS.sub("_", f"{source}__{name}")[:64]
