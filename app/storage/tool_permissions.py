"""The tools the person chose to always allow (`<source>/<tool>`): their calls run without asking again."""

from __future__ import annotations

from sqlmodel import col

from app.storage.models import ToolPermission
from app.storage.store import Store


class ToolPermissionStore(Store):
    def allowed(self) -> set[str]:
        return {row.tool_key for row in self._all(ToolPermission, col(ToolPermission.tool_key))}

    def allow(self, tool_key: str) -> None:
        self._keep(ToolPermission(tool_key=tool_key))

    def forget(self, tool_key: str) -> None:
        self._forget(ToolPermission, col(ToolPermission.tool_key) == tool_key)
