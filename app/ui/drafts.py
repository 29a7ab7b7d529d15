"""Messages too long for the websocket: the browser posts them over HTTP just before it presses Send.

NiceGUI's browser side refuses to send any websocket message over 1 MB, so a long paste never reaches the
server through the text box. The Send button (static/send.js) uploads such a text first, then sends as usual; the
page takes the uploaded text instead of the box's value.
"""

from __future__ import annotations

from nicegui import app
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.nicegui_hooks import open_page

# Below this, the text box's own value is on the server already (JSON-escaped it stays under 1 MB).
UPLOAD_ABOVE_CHARS = 100_000


class Drafts:
    """The latest long text each page uploaded, until its Send takes it."""

    def __init__(self, max_chars: int) -> None:
        self.max_bytes = max_chars * 4 + 1024  # UTF-8: at most 4 bytes a character
        self._texts: dict[str, str] = {}

    def take(self, client_id: str) -> str | None:
        return self._texts.pop(client_id, None)

    def register_route(self) -> None:
        @app.post("/drafts/{client_id}", include_in_schema=False)
        async def upload(client_id: str, request: Request) -> Response:
            # Only the browser session that owns the page gets here (OwnPagesOnly, in app/security/middleware.py).
            client = open_page(client_id)
            if client is None:
                return JSONResponse({"error": "No such page."}, status_code=404)
            if int(request.headers.get("content-length", self.max_bytes + 1)) > self.max_bytes:
                return JSONResponse({"error": "Too long."}, status_code=413)
            body = await request.body()
            if client_id not in self._texts:
                client.on_delete(lambda: self._texts.pop(client_id, None))
            self._texts[client_id] = body.decode("utf-8", "replace")
            return Response(status_code=204)
