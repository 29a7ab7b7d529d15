"""A tool source in-process, for the chat service's own logic (like the scripted provider): it records every call
and answers as scripted. The MCP client itself is tested against real servers (tests/tools/)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.providers.base import ToolSpec
from app.tools.base import ToolOutput, failed
from app.tools.builtin import BuiltinTools
from app.tools.registry import ToolRegistry

SCHEMA = {"type": "object", "properties": {"query": {"type": "string"}}}


@dataclass
class Enabled:
    enabled: bool = True


class ScriptedTools:
    """A source called `name` offering `tools`; a call answers `answers[tool]` (a ToolOutput, an exception to
    raise, or seconds to wait before answering "done"), else echoes its arguments."""

    read_only = False

    def __init__(self, name: str = "search", tools: tuple[str, ...] = ("lookup",)) -> None:
        self.name = name
        self.config = Enabled()
        self.specs = [ToolSpec(tool, f"The {tool} tool.", SCHEMA) for tool in tools]
        self.answers: dict[str, object] = {}
        self.calls: list[tuple[str, dict]] = []
        self.running = 0

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def tools(self) -> list[ToolSpec]:
        return list(self.specs)

    async def call(self, tool: str, arguments: dict) -> ToolOutput:
        self.calls.append((tool, arguments))
        answer = self.answers.get(tool)
        self.running += 1
        try:
            if isinstance(answer, BaseException):
                raise answer
            if isinstance(answer, int | float):
                await asyncio.sleep(answer)
                return ToolOutput("done")
            if isinstance(answer, ToolOutput):
                return answer
            return ToolOutput(f"{tool} got {arguments}") if arguments.get("query") != "fail" else failed("no luck")
        finally:
            self.running -= 1


def registry_with(*sources: ScriptedTools, builtin: tuple[str, ...] = ()) -> ToolRegistry:
    return ToolRegistry(list(sources), BuiltinTools(set(builtin)))
