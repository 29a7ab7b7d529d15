"""GET /metrics: the chat's Prometheus metrics (app/metrics.py), as a plain route (a mounted app would redirect to
/metrics/, which Prometheus does not follow). On loopback it answers anyone on this machine; on a network bind only a
signed-in session or `Authorization: Bearer <METRICS_TOKEN>`."""

from __future__ import annotations

import hmac

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from nicegui import app

from app.metrics import EXPOSITION_TYPE, ChatMetrics
from app.security.access import Access


def bearer_matches(request: Request, token: str | None) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token or "")


def register_metrics(metrics: ChatMetrics, access: Access, token: str | None, on_network: bool) -> None:
    @app.get("/metrics", include_in_schema=False)
    def metrics_route(request: Request) -> Response:
        if on_network and not (bearer_matches(request, token) or access.signed_in(app.storage.user)):
            message = "Sign in, or send Authorization: Bearer <METRICS_TOKEN>."
            headers = {"WWW-Authenticate": "Bearer"}
            return JSONResponse({"error": message, "error_code": "AUTH"}, status_code=401, headers=headers)
        return Response(metrics.exposition(), media_type=EXPOSITION_TYPE)
