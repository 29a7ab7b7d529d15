"""The MCP servers file (mcp.json, the format Claude Desktop and others use), read and written whole: servers
added, changed or removed on the Tools page are kept there, with every key this app does not use left as it was.
It can hold secrets (a server's env, an Authorization header): it is written readable by its owner only."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from app.tools.mcp_servers import DEFAULT_CALL_SECONDS, ServerConfig, servers_from_json

BUILTIN_KEY = "builtinTools"  # this app's own key: the built-in tools turned on from the Tools page


class ServersFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def servers(self) -> list[ServerConfig]:
        """The servers it names (none if there is no file). Raises ValueError, saying what is wrong."""
        return servers_from_json(self.path.read_text(encoding="utf-8")) if self.path.is_file() else []

    def builtin_tools(self) -> set[str]:
        names = self._data().get(BUILTIN_KEY) or []
        return {str(name) for name in names} if isinstance(names, list) else set()

    def keep_server(self, config: ServerConfig) -> None:
        """Add the server, or replace the one with its name (keeping what else its entry had)."""
        data = self._data()
        entries = data.setdefault("mcpServers", {})
        entries[config.name] = {**_unused_keys(entries.get(config.name)), **entry_of(config)}
        self._write(data)

    def forget_server(self, name: str) -> None:
        data = self._data()
        data.get("mcpServers", {}).pop(name, None)
        self._write(data)

    def keep_builtin_tools(self, names: set[str]) -> None:
        data = self._data()
        data[BUILTIN_KEY] = sorted(names)
        self._write(data)

    def _data(self) -> dict:
        if not self.path.is_file():
            return {"mcpServers": {}}
        data = json.loads(self.path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{self.path} is not an MCP servers file")
        return data

    def _write(self, data: dict) -> None:
        """All or nothing: a full disk or a crash mid-write leaves the old file as it was."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".mcp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=2, ensure_ascii=False)
                file.write("\n")
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


ENTRY_KEYS = ("command", "args", "env", "url", "headers", "timeout", "enabled")


def entry_of(config: ServerConfig) -> dict:
    entry: dict = {"url": config.url} if config.url else {"command": config.command, "args": list(config.args)}
    if config.url and config.headers:
        entry["headers"] = dict(config.headers)
    if not config.url and config.env:
        entry["env"] = dict(config.env)
    if config.call_seconds != DEFAULT_CALL_SECONDS:
        entry["timeout"] = config.call_seconds
    if not config.enabled:
        entry["enabled"] = False
    return entry


def _unused_keys(entry: object) -> dict:
    return {k: v for k, v in entry.items() if k not in ENTRY_KEYS} if isinstance(entry, dict) else {}
