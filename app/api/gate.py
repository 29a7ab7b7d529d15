"""The door of the HTTP API: the key is checked before a byte of the body is read, wrong keys slow down per
address, and a body is counted as it arrives and refused past the limit, so no one without a key can make the
server hold a large request in memory."""

from __future__ import annotations

import math

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.security.access import LoginThrottle
from app.security.api_keys import ApiKeys

API_PREFIX = "/api/"
# Keys are 192 random bits, so guessing is hopeless either way; the backoff keeps a misbehaving script (or someone
# hammering the server) from costing a database look-up per request.
FREE_WRONG_KEYS = 10


class ApiGate:
    def __init__(self, app: ASGIApp, keys: ApiKeys, max_body_bytes: int, throttle: LoginThrottle | None = None):
        self.app = app
        self.keys = keys
        self.max_body_bytes = max_body_bytes
        self.throttle = throttle or LoginThrottle(free_attempts=FREE_WRONG_KEYS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            return await self.app(scope, receive, send)
        refusal = self._check_key(scope)
        if refusal is None:
            receive, refusal = await self._read_body(scope, receive)
        if refusal is not None:
            return await refusal(scope, receive, send)
        await self.app(scope, receive, send)

    def _check_key(self, scope: Scope) -> JSONResponse | None:
        address = scope["client"][0] if scope.get("client") else "unknown"
        # Counted before the check, taken back on success: keys tried in parallel are all counted.
        wait = self.throttle.attempt(address)
        if wait > 0:
            seconds = math.ceil(wait)
            return api_error(429, "RATE_LIMIT", f"Too many wrong API keys. Try again in {seconds} s.", seconds)
        if not self.keys.accepts(Headers(scope=scope).get("authorization")):
            return api_error(401, "AUTH", "A valid API key is needed: send `Authorization: Bearer <key>`.")
        self.throttle.succeeded(address)
        return None

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[Receive, JSONResponse | None]:
        """The whole body, counted as it comes; the app then reads it from memory."""
        too_large = api_error(413, "TOO_LARGE", f"The request body is over the limit of {self.max_body_bytes:,} bytes.")
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            return receive, too_large
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return receive, api_error(400, "BAD_REQUEST", "The request ended before its body.")
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                return receive, too_large
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the client's disconnect, which a stream waits for

        return replay, None


def api_error(status: int, code: str, message: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"error": message, "error_code": code}, status_code=status, headers=headers)
