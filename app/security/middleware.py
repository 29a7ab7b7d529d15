"""HTTP-level protection: security headers on every response, and the login wall when a password is set.

Plain ASGI middleware: Starlette's BaseHTTPMiddleware wraps every response in a stream of its own, which gets in
the way of long streaming responses and of noticing that their client went away.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote

from nicegui import app
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.nicegui_hooks import open_page
from app.security.access import Access
from app.security.hosts import host_name, is_same_origin, origin_host
from app.security.sign_in import adopt_pending_sign_in

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
        # Previews run in sandboxed srcdoc frames (static/preview.js), which load nothing: no frame may load a URL,
        # so a preview cannot navigate itself anywhere either (a meta refresh, a link).
        "frame-src 'none'",
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
# (/metrics checks for itself: a session or its token on a network bind, nothing on loopback; app/api/metrics_route.py)
PUBLIC_PATHS = {"/login", "/login/complete", "/logout", "/favicon.ico", "/metrics"}
PUBLIC_PREFIXES = ("/_nicegui/", "/_nicegui_ws/", "/api/")
# NiceGUI's upload route for an element of a page: it changes what the page holds, so it is never public, and only
# the browser session that owns the page may use it.
UPLOAD_PATH = re.compile(r"^/_nicegui/client/(?P<client_id>[^/]+)/upload/")
# A long message posted for a page before its Send (app/ui/drafts.py): also only from the page's own session.
DRAFT_PATH = re.compile(r"^/drafts/(?P<client_id>[^/]+)$")
# Requests that only read: a cross-site form or script can send them, but the browser hides the answer from it.
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SOCKET_PREFIX = "/_nicegui_ws/"


class OwnNamesOnly:
    """Answers only requests for one of this server's own names, and refuses what another site's page sends.

    - `Host`: a page on another site can rebind its name to 127.0.0.1 (DNS rebinding); its requests then name it.
    - `Origin`: a browser names the page behind a websocket, a socket.io poll or a POST; another site's is refused.
      Clients that send no Origin (curl, scripts) are not browsers acting for another site."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str], proxy_hosts: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.hosts = hosts
        # Names the person added (ALLOWED_HOSTS): behind a reverse proxy the page's origin is the proxy's.
        self.proxy_hosts = proxy_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        host = host_name(headers.get("host", ""))
        if host not in self.hosts:
            named = host[:100] or "(none)"
            advice = "If that name is yours (a reverse proxy, say), add it to ALLOWED_HOSTS."
            return await refuse(scope, receive, send, 421, f"This server does not answer to {named!r}. {advice}")
        origin = headers.get("origin")
        if origin is not None and self._checks_origin(scope) and not self._own_origin(origin, headers, scope):
            return await refuse(scope, receive, send, 403, "Requests from another site's pages are refused.")
        await self.app(scope, receive, send)

    def _own_origin(self, origin: str, headers: Headers, scope: Scope) -> bool:
        return is_same_origin(origin, headers.get("host", ""), scope.get("scheme", "http")) or (
            origin_host(origin) in self.proxy_hosts
        )

    @staticmethod
    def _checks_origin(scope: Scope) -> bool:
        return (
            scope["type"] == "websocket"
            or scope["path"].startswith(SOCKET_PREFIX)
            or scope["method"] not in SAFE_METHODS
        )


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
    if scope["type"] == "websocket":
        # Closing before accepting makes the server answer the handshake with 403.
        await send({"type": "websocket.close", "code": 1008, "reason": text[:120]})
        return
    await PlainTextResponse(text, status_code=status)(scope, receive, send)


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
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if UPLOAD_PATH.match(scope["path"]):
            if not self.access.signed_in(app.storage.user):
                return await refuse(scope, receive, send, 403, "Sign in first.")
            return await self.app(scope, receive, send)
        if not self.access.required or is_public(scope["path"]):
            return await self.app(scope, receive, send)
        adopt_pending_sign_in(self.access, scope["session"], app.storage.user)
        if self.access.signed_in(app.storage.user):
            return await self.app(scope, receive, send)
        if scope["method"] == "GET":
            response = RedirectResponse(f"/login?next={quote(scope['path'], safe='/')}", status_code=303)
        else:
            response = JSONResponse({"error": "Sign in first.", "error_code": "AUTH"}, status_code=401)
        await response(scope, receive, send)


class OwnPagesOnly:
    """A page's socket, its uploads and its drafts are taken only from the browser session that opened the page: a
    page's id is unguessable, but never a key by itself. NiceGUI's own script names the page in every socket
    request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client_id = page_named_by(scope)
            if client_id is not None and not may_use_page(scope, client_id):
                return await refuse(scope, receive, send, 403, "That page belongs to another browser session.")
        await self.app(scope, receive, send)


def page_named_by(scope: Scope) -> str | None:
    """The page (NiceGUI client id) a socket, upload or draft request is for; "" for a socket request that names
    none."""
    if for_page := UPLOAD_PATH.match(scope["path"]) or DRAFT_PATH.match(scope["path"]):
        return for_page["client_id"]
    if scope["path"].startswith(SOCKET_PREFIX):
        return parse_qs(scope.get("query_string", b"").decode("latin-1")).get("client_id", [""])[0]
    return None


def may_use_page(scope: Scope, client_id: str) -> bool:
    """Whether the request comes from the browser session that opened the page `client_id`. A page that is gone
    (the server restarted, say) is no one's: NiceGUI refuses it and the tab reloads."""
    requester = (scope.get("session") or {}).get("id")
    if not client_id or requester is None:
        return False
    client = open_page(client_id)
    return client is None or client.request.session.get("id") == requester


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
