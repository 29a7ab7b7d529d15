"""What every source of tools (an MCP server, the built-in ones) offers the chat: the tools, and a call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.providers.base import ToolSpec

# What the model is sent of a result, at most: the head and the tail are kept, and it is told the middle was cut.
# The whole result stays viewable.
MODEL_RESULT_CHARS = 50_000


@dataclass(frozen=True)
class ToolOutput:
    """What a call gave: its text, whether the tool failed, and any images (as data: URLs)."""

    text: str
    is_error: bool = False
    images: tuple[str, ...] = ()

    def for_model(self, limit: int = MODEL_RESULT_CHARS) -> str:
        if len(self.text) <= limit:
            return self.text
        half = limit // 2
        cut = len(self.text) - 2 * half
        return f"{self.text[:half]}\n\n[… {cut:,} characters of this result were cut …]\n\n{self.text[-half:]}"


def failed(text: str) -> ToolOutput:
    return ToolOutput(text, is_error=True)


class ToolSource(Protocol):
    name: str
    read_only: bool  # every tool of it only reads: its calls may run without asking

    def tools(self) -> list[ToolSpec]: ...

    async def call(self, tool: str, arguments: dict) -> ToolOutput: ...
