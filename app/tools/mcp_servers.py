"""MCP servers, each owned by one long-lived task (the SDK's task group must be left by the task that entered it):
it starts the server (a subprocess over stdio, or Streamable HTTP), lists its tools, then runs the calls sent to
it, several at once. A server that dies fails its calls in words, never a hang, and is started again with
backoff; its status and last error are kept for the Tools page."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from enum import StrEnum

import httpx2
from mcp import Client, MCPError, StdioServerParameters
from mcp import types as mcp_types
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT

from app.providers.base import ToolSpec
from app.tools.base import ToolOutput, failed

log = logging.getLogger(__name__)

DEFAULT_CALL_SECONDS = 60.0
FIRST_RESTART_SECONDS = 1.0
LONGEST_RESTART_SECONDS = 60.0


@dataclass(frozen=True)
class ServerConfig:
    """One entry of `mcpServers` in an mcp.json file: a command to run (stdio) or a URL (Streamable HTTP)."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    call_seconds: float = DEFAULT_CALL_SECONDS
    enabled: bool = True

    def target(self) -> object:
        """What the SDK's Client connects to: a subprocess's parameters, a URL, or (with headers) a transport."""
        if self.url:
            return _with_headers(self.url, self.headers) if self.headers else self.url
        assert self.command, "a server is a command or a URL"
        return StdioServerParameters(command=self.command, args=list(self.args), env=self.env or None)


@contextlib.asynccontextmanager
async def _with_headers(url: str, headers: dict[str, str]):
    """Streamable HTTP with the file's headers (an Authorization, say) on every request."""
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams


def servers_from_json(text: str) -> list[ServerConfig]:
    """The servers an mcp.json file names (the format Claude Desktop and others use). Raises ValueError, saying
    what is wrong, for a file that is not one."""
    data = json.loads(text)
    entries = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise ValueError('an MCP servers file is {"mcpServers": {"<name>": {"command": …} | {"url": …}}}')
    return [_server(name, entry) for name, entry in entries.items()]


def _server(name: str, entry: object) -> ServerConfig:
    if not isinstance(entry, dict) or not (isinstance(entry.get("command"), str) or isinstance(entry.get("url"), str)):
        raise ValueError(f"the server {name!r} needs a command or a url")
    return ServerConfig(
        name=name,
        command=entry.get("command"),
        args=tuple(str(argument) for argument in entry.get("args") or ()),
        env={str(k): str(v) for k, v in (entry.get("env") or {}).items()},
        url=entry.get("url"),
        headers={str(k): str(v) for k, v in (entry.get("headers") or {}).items()},
        call_seconds=float(entry.get("timeout", DEFAULT_CALL_SECONDS)),
        enabled=bool(entry.get("enabled", True)),
    )


class ServerGone(Exception):
    """The server's process or connection ended: its session is over, and it is started again."""


class ServerStatus(StrEnum):
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"  # and being started again
    STOPPED = "stopped"


@dataclass
class _Call:
    tool: str
    arguments: dict
    answer: asyncio.Future[ToolOutput]


class MCPServerConnection:
    # A server's own word (its readOnlyHint) is not trusted: its calls are asked for unless the person allows them.
    read_only = False

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.name = config.name
        self.status = ServerStatus.STOPPED
        self.last_error: str | None = None
        self._tools: list[ToolSpec] = []
        self._calls: asyncio.Queue[_Call] = asyncio.Queue()
        self._ready = asyncio.Event()
        self._owner: asyncio.Task | None = None
        self._reached_ready = False

    def start(self) -> None:
        if self._owner is None or self._owner.done():
            self.status = ServerStatus.STARTING
            self._owner = asyncio.get_running_loop().create_task(self._own(), name=f"mcp-{self.name}")

    async def stop(self) -> None:
        if self._owner is not None:
            self._owner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._owner
        self.status, self._owner = ServerStatus.STOPPED, None
        self._fail_waiting(f"The tool server {self.name} was stopped.")

    async def ready(self, timeout: float) -> bool:
        """Wait (up to `timeout` seconds) for the server to have listed its tools."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
        return self._ready.is_set()

    def tools(self) -> list[ToolSpec]:
        return list(self._tools) if self.status == ServerStatus.READY else []

    async def call(self, tool: str, arguments: dict) -> ToolOutput:
        """Run one tool call; cancelling this (Stop) cancels the call at once."""
        if self.status != ServerStatus.READY:
            return failed(f"The tool server {self.name} is not running ({self.last_error or self.status}).")
        answer: asyncio.Future[ToolOutput] = asyncio.get_running_loop().create_future()
        await self._calls.put(_Call(tool, arguments, answer))
        return await answer

    async def _own(self) -> None:
        delay = FIRST_RESTART_SECONDS
        while True:
            self._reached_ready = False
            try:
                await self._serve()
            except asyncio.CancelledError:
                raise
            except BaseException as error:  # the SDK's task groups raise ExceptionGroups
                if self.status != ServerStatus.FAILED:
                    self._broke(_reason(error))
                log.warning("MCP server %s failed (%s); starting it again in %g s", self.name, self.last_error, delay)
                self._fail_waiting(f"The tool server {self.name} stopped: {self.last_error}.")
            # Backoff for a server that keeps failing to start; one that ran is started again at once, nearly.
            delay = FIRST_RESTART_SECONDS if self._reached_ready else delay
            await asyncio.sleep(delay)
            delay = min(LONGEST_RESTART_SECONDS, delay * 2)
            self.status = ServerStatus.STARTING

    async def _serve(self) -> None:
        async with Client(self.config.target(), read_timeout_seconds=self.config.call_seconds) as client:
            listed = await client.list_tools()
            self._tools = [ToolSpec(t.name, t.description or "", dict(t.input_schema or {})) for t in listed.tools]
            self.status, self.last_error = ServerStatus.READY, None
            self._reached_ready = True
            self._ready.set()
            log.info("MCP server %s is ready with %d tools", self.name, len(self._tools))
            async with asyncio.TaskGroup() as calls:
                while True:
                    job = await self._calls.get()
                    running = calls.create_task(self._run(client, job))
                    job.answer.add_done_callback(lambda answer, task=running: answer.cancelled() and task.cancel())

    async def _run(self, client: Client, job: _Call) -> None:
        """One call. Whatever ends it, its caller hears how: a result, a failure in words, or that the server went
        away (which also ends the server's session, so it is started again)."""
        seconds = self.config.call_seconds
        output = failed(f"The tool server {self.name} stopped before the call ended.")
        try:
            async with asyncio.timeout(seconds + 5):  # the SDK's own timeout first; this one if it hangs anyway
                result = await client.call_tool(job.tool, job.arguments, read_timeout_seconds=seconds)
            output = output_of(result)
        except TimeoutError:
            output = failed(f"No answer within {seconds:g} s.")
        except MCPError as error:
            if error.code == CONNECTION_CLOSED:
                self._broke(f"its connection closed during a call of {job.tool}")
                raise ServerGone(self.last_error) from error
            timed_out = error.code == REQUEST_TIMEOUT
            output = failed(
                f"No answer within {seconds:g} s." if timed_out else f"The tool server said: {_reason(error)}"
            )
        finally:
            if not job.answer.done():
                job.answer.set_result(output)

    def _broke(self, reason: str) -> None:
        """At once, so no new call is taken while the session winds down."""
        self._ready.clear()
        self.status, self.last_error = ServerStatus.FAILED, reason

    def _fail_waiting(self, reason: str) -> None:
        while not self._calls.empty():
            job = self._calls.get_nowait()
            if not job.answer.done():
                job.answer.set_result(failed(reason))


def output_of(result: mcp_types.CallToolResult) -> ToolOutput:
    """A call's result as text (and images): text blocks as they are, structured content as JSON, anything else
    named by its type."""
    texts: list[str] = []
    images: list[str] = []
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            texts.append(block.text)
        elif isinstance(block, mcp_types.ImageContent):
            images.append(f"data:{block.mime_type};base64,{block.data}")
        else:
            texts.append(f"[{block.type} content]")
    if not texts and result.structured_content is not None:
        texts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return ToolOutput("\n\n".join(texts), is_error=bool(result.is_error), images=tuple(images))


def _reason(error: BaseException) -> str:
    """One line for a failure, the innermost cause of an ExceptionGroup included."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return " ".join(str(error).split())[:200] or type(error).__name__
