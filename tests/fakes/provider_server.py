"""A fake provider: a real HTTP/1.1 server on 127.0.0.1, in its own thread, that plays scripted replies.

The real SDKs talk to it over a socket, so they parse real bytes; it records what they sent and when they hung up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from tests.fakes.wire import ChunkEncoder, error_body, models_body

DEFAULT_MODELS = {
    "openai": ("gpt-4o-mini", "gpt-4.1", "text-embedding-3-small", "whisper-1"),
    "anthropic": ("claude-sonnet-4-5", "claude-haiku-4-5"),
    "together": ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "Qwen/Qwen2.5-72B-Instruct-Turbo"),
    "gemini": ("gemini-2.5-flash", "gemini-2.5-pro"),
    "ollama": ("llama3.2:latest", "qwen2.5:0.5b", "nomic-embed-text:latest"),
}


@dataclass
class FakeToolCall:
    """A tool call the fake model makes: `arguments` is the JSON text it writes (it may be broken), sent in
    `pieces` fragments the way each provider streams them."""

    name: str
    arguments: str = "{}"
    id: str = field(default_factory=lambda: "call_" + secrets.token_hex(4))
    pieces: int = 3


@dataclass
class Reply:
    """A streamed reply. `fail_after`/`drop_after`: after that many tokens, send an error event / cut the socket."""

    tokens: list[str] = field(default_factory=lambda: ["Hello", ",", " world", "!"])
    delay: float = 0.0
    finish: str = "stop"
    input_tokens: int = 12
    fail_after: int | None = None
    error_type: str = "overloaded_error"
    error_message: str = "Overloaded"
    drop_after: int | None = None
    # After that many tokens: go silent, the connection open (until the client hangs up) / end the body properly
    # but with no finish reason and no [DONE] / send these raw bytes as the next event, then end.
    silent_after: int | None = None
    truncate_after: int | None = None
    garbage_after: int | None = None
    garbage: bytes = b"data: {not json\n\n"
    rate: float | None = None  # tokens per second, paced by the clock (for benchmarks); overrides `delay`
    tool_calls: list[FakeToolCall] = field(default_factory=list)  # after the text; the finish becomes tool calls
    sent_at: list[float] = field(default_factory=list)  # wall-clock time each token was written

    @property
    def text(self) -> str:
        return "".join(self.tokens)


@dataclass
class HttpError:
    status: int
    message: str = "Something went wrong"
    error_type: str = "api_error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class WebPage:
    """HTTP 200 with an HTML page, as a proxy's login or error page would answer a streaming request."""

    html: str = "<!doctype html><html><body><h1>Please sign in to the proxy</h1></body></html>"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict


class FakeProviderServer:
    def __init__(self, dialect: str, models: list[str] | None = None) -> None:
        self.dialect = dialect
        # Distinctive, so a test can prove it never reaches the browser.
        self.api_key = f"sk-test-{dialect}-{secrets.token_hex(8)}"
        self.models = models if models is not None else list(DEFAULT_MODELS[dialect])
        self.models_error: HttpError | None = None
        self.path_model = "?"
        self.script: deque[Reply | HttpError | WebPage] = deque()
        self.requests: list[Recorded] = []
        self.hangups: list[float] = []
        self.hung_up = threading.Event()
        self.streaming = threading.Event()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"fake-{dialect}", daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # -- what a test uses

    @property
    def base_url(self) -> str:
        # OpenAI's SDK expects /v1 in the base URL; Anthropic's and Together's add it themselves; Ollama's address
        # is written without it (OLLAMA_BASE_URL).
        root = f"http://127.0.0.1:{self.port}"
        return root + "/v1" if self.dialect == "openai" else root

    def play(self, *responses: Reply | HttpError | WebPage) -> None:
        self.script.extend(responses)

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def start(self) -> FakeProviderServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._server = future.result(timeout=5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()  # handlers see the connection end and return
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            if others:
                await asyncio.wait(others, timeout=2)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    # -- the server

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._serve_connection, "127.0.0.1", 0)

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while await self._serve_request(reader, writer):
                pass
        self._writers.discard(writer)
        writer.close()

    async def _serve_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        request_line = await reader.readline()
        if not request_line:
            return False
        method, path, _ = request_line.decode().split(" ", 2)
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, value = line.decode().split(":", 1)
            headers[name.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(headers.get("content-length", "0")))
        body = json.loads(raw) if raw else {}
        self.requests.append(Recorded(method, path.split("?")[0], headers, body))
        # Gemini names the model in the path: /v1beta/models/<model>:streamGenerateContent
        self.path_model = path.split("?")[0].rsplit("/", 1)[-1].split(":")[0]

        if not self._authorized(headers):
            if self.dialect == "gemini":  # Gemini says so with a 400
                message = "API key not valid. Please pass a valid API key."
                return await self._send_json(writer, 400, error_body(self.dialect, 400, message, "API_KEY_INVALID"))
            return await self._send_json(
                writer, 401, error_body(self.dialect, 401, "Invalid API key", "authentication_error")
            )
        if method == "GET" and path.startswith(("/v1/models", "/v1beta/models")):
            if self.models_error:
                return await self._send_error(writer, self.models_error)
            return await self._send_json(writer, 200, models_body(self.dialect, self.models))
        response = self.script.popleft() if self.script else Reply()
        if isinstance(response, HttpError):
            return await self._send_error(writer, response)
        if isinstance(response, WebPage):
            page = response.html.encode()
            head = {"content-type": "text/html; charset=utf-8", "content-length": str(len(page))}
            writer.write(_status_line(200) + _header_lines(head) + page)
            await writer.drain()
            return True
        await self._stream(reader, writer, response, body)
        return False

    def _authorized(self, headers: dict[str, str]) -> bool:
        if self.dialect == "ollama":
            return True  # Ollama takes any key: clients send a placeholder
        given = (
            headers.get("x-api-key")
            or headers.get("x-goog-api-key")  # Gemini's
            or headers.get("authorization", "").removeprefix("Bearer ")
        )
        return given == self.api_key

    async def _send_error(self, writer: asyncio.StreamWriter, error: HttpError) -> bool:
        headers = dict(error.headers)
        retry_after = headers.pop("retry-after", None) if self.dialect == "gemini" else None  # said in the body
        body = error_body(self.dialect, error.status, error.message, error.error_type, retry_after)
        return await self._send_json(writer, error.status, body, headers)

    async def _send_json(
        self, writer: asyncio.StreamWriter, status: int, body: object, extra: dict[str, str] | None = None
    ) -> bool:
        payload = json.dumps(body).encode()
        head = {"content-type": "application/json", "content-length": str(len(payload)), **(extra or {})}
        writer.write(_status_line(status) + _header_lines(head) + payload)
        await writer.drain()
        return True

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: Reply, request: dict
    ) -> None:
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        encoder = ChunkEncoder(self.dialect, request.get("model") or self.path_model, include_usage)
        head = {
            "content-type": "text/event-stream; charset=utf-8",
            "transfer-encoding": "chunked",
            "cache-control": "no-cache",
            "connection": "keep-alive",
        }
        writer.write(_status_line(200) + _header_lines(head))
        # The client sends nothing more on this connection, so a read that ends means it hung up.
        hangup = asyncio.ensure_future(reader.read(1))
        try:
            await self._play(writer, encoder, reply, hangup)
        finally:
            hangup.cancel()

    async def _play(
        self, writer: asyncio.StreamWriter, encoder: ChunkEncoder, reply: Reply, hangup: asyncio.Future
    ) -> None:
        await _send_chunk(writer, encoder.start(reply.input_tokens))
        self.streaming.set()
        if reply.rate:
            return await self._play_paced(writer, encoder, reply, hangup)
        for sent, token in enumerate(reply.tokens):
            if sent == reply.fail_after:
                await _send_chunk(writer, encoder.error(reply.error_message, reply.error_type))
                return await _end_chunks(writer)
            if sent == reply.drop_after:
                writer.transport.abort()  # no terminating chunk: the client sees a connection cut mid-body
                return None
            if sent == reply.silent_after:
                await hangup  # headers and maybe some text, then nothing at all until the client gives up
                self.hung_up.set()
                return None
            if sent == reply.truncate_after:
                return await _end_chunks(writer)  # a well-formed end of the body, but the reply never finished
            if sent == reply.garbage_after:
                await _send_chunk(writer, reply.garbage)
                return await _end_chunks(writer)
            if reply.delay:
                await asyncio.wait([hangup], timeout=reply.delay)
                if hangup.done():
                    self.hangups.append(time.monotonic())
                    self.hung_up.set()
                    return None
            if sent % 5 == 4:
                await _send_chunk(writer, encoder.keep_alive())
            await _send_chunk(writer, encoder.token(token))
        finish = reply.finish
        if reply.tool_calls:
            await _send_chunk(writer, encoder.tool_calls(reply.tool_calls))
            finish = "tool_calls"
        await _send_chunk(writer, encoder.finish(finish, reply.input_tokens, len(reply.tokens)))
        return await _end_chunks(writer)

    async def _play_paced(
        self, writer: asyncio.StreamWriter, encoder: ChunkEncoder, reply: Reply, hangup: asyncio.Future
    ) -> None:
        """Token i leaves at start + i / rate; tokens that fall due together go out in one write."""
        start, sent = time.monotonic(), 0
        while sent < len(reply.tokens):
            due = min(len(reply.tokens), int((time.monotonic() - start) * reply.rate) + 1)
            batch = b"".join(encoder.token(token) for token in reply.tokens[sent:due])
            writer.write(f"{len(batch):x}\r\n".encode() + batch + b"\r\n")
            reply.sent_at.extend([time.time()] * (due - sent))
            await writer.drain()
            sent = due
            await asyncio.wait([hangup], timeout=max(0.0, start + sent / reply.rate - time.monotonic()))
            if hangup.done():
                self.hung_up.set()
                return
        await _send_chunk(writer, encoder.finish(reply.finish, reply.input_tokens, len(reply.tokens)))
        await _end_chunks(writer)


def _status_line(status: int) -> bytes:
    reasons = {
        200: "OK",
        400: "Bad Request",
        401: "Unauthorized",
        404: "Not Found",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
        529: "Overloaded",
    }
    return f"HTTP/1.1 {status} {reasons.get(status, 'Error')}\r\n".encode()


def _header_lines(headers: dict[str, str]) -> bytes:
    return "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode() + b"\r\n"


async def _send_chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    if data:
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await writer.drain()


async def _end_chunks(writer: asyncio.StreamWriter) -> None:
    writer.write(b"0\r\n\r\n")
    await writer.drain()
