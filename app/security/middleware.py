"""HTTP-level protection: security headers on every response, and the login wall when a password is set.

Plain ASGI middleware: Starlette's BaseHTTPMiddleware wraps every response in a stream of its own, which gets in
the way of long streaming responses and of noticing that their client went away.
"""

from __future__ import annotations

from urllib.parse import quote

from nicegui import app
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.security.access import Access

# What NiceGUI needs and nothing more: Vue compiles templates at run time ('unsafe-eval'), the page bootstraps
# from an inline script, Quasar sets inline styles. No other origin may be loaded from, framed by or posted to,
# so even an image that slipped through the sanitizer could not reach another host.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# The login page and what it is built from (NiceGUI's assets and its websocket), and the API, which asks for a key
# of its own instead of a session.
PUBLIC_PATHS = {"/login", "/favicon.ico"}
PUBLIC_PREFIXES = ("/_nicegui/", "/_nicegui_ws/", "/api/")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequireSignIn:
    """Pages send a visitor who is not signed in to the login page; other routes answer 401."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.access.required or is_public(scope["path"]):
            return await self.app(scope, receive, send)
        if self.access.signed_in(app.storage.user):
            return await self.app(scope, receive, send)
        if scope["method"] == "GET":
            response = RedirectResponse(f"/login?next={quote(scope['path'], safe='/')}", status_code=303)
        else:
            response = JSONResponse({"error": "Sign in first.", "error_code": "AUTH"}, status_code=401)
        await response(scope, receive, send)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
