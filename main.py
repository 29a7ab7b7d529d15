"""Start the chat app: settings → database → providers → chat service → pages → ui.run."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import sys

from nicegui import app, core, ui

from app.api.gate import ApiGate
from app.api.metrics_route import register_metrics
from app.api.routes import register_api
from app.chat.connections import Connections
from app.chat.service import ChatService
from app.chat.stats import ReplyStats
from app.chat.tool_servers import ToolServers, page_takes_commands
from app.metrics import ChatMetrics
from app.providers.catalog import ModelCatalog, build_providers, provider_timeouts
from app.security.access import Access, LoginThrottle, is_loopback, lan_urls, set_up_access
from app.security.api_keys import ApiKeys
from app.security.hosts import allowed_hosts, machine_names, normalized
from app.security.key_box import KeyBox
from app.security.middleware import OwnNamesOnly, OwnPagesOnly, RequireSignIn, SecurityHeaders
from app.settings import Settings
from app.storage.database import DatabaseUnavailable, create_database
from app.storage.stores import Storage
from app.tools.registry import ToolRegistry
from app.ui.chat_page import register_pages
from app.ui.connections_page import register_connections_page
from app.ui.login_page import register_login
from app.ui.routes_page import register_routes_page
from app.ui.stats_page import register_stats_page
from app.ui.tools_page import register_tools_page

log = logging.getLogger("chat")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A self-hosted chat app for large language models.")
    parser.add_argument("--host", help="address to serve on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, help="port to serve on (default 8080)")
    parser.add_argument("--lan", action="store_true", help="share on the local network (--host 0.0.0.0, password)")
    parser.add_argument("--new-password", action="store_true", help="replace the generated network password")
    return parser.parse_args(argv)


def add_protection(settings: Settings, access: Access, api_keys: ApiKeys) -> None:
    """The checks every request passes. The last added is the outermost: names and origins first, then the API's
    key and body size, then whose page a socket or upload is for, then the login."""
    network_names = machine_names() if not is_loopback(settings.host) else ()
    own_names = allowed_hosts(settings.host, settings.allowed_hosts, network_names)
    proxy_names = frozenset(normalized(name) for name in settings.allowed_hosts)
    app.add_middleware(RequireSignIn, access=access)
    app.add_middleware(OwnPagesOnly)
    app.add_middleware(ApiGate, keys=api_keys, max_body_bytes=settings.max_request_bytes)
    app.add_middleware(OwnNamesOnly, hosts=own_names, proxy_hosts=proxy_names)
    app.add_middleware(SecurityHeaders)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    overrides = {name: getattr(args, name) for name in ("host", "port") if getattr(args, name) is not None}
    if args.lan and args.host is None:
        overrides["host"] = "0.0.0.0"
    settings = Settings(**overrides)

    try:
        storage = Storage.on(create_database(settings.database_url, settings.database_busy_timeout))
    except DatabaseUnavailable as error:
        sys.exit(f"Cannot start: {error}")
    access = set_up_access(settings, storage.secrets, announce=print, new_password=args.new_password)
    if not is_loopback(settings.host):
        print("Sharing on the network; open one of:", *lan_urls(settings.host, settings.port), sep="\n  ")
    if interrupted := storage.chats.mark_streaming_interrupted():
        log.warning("%d reply(s) were cut off by the last shutdown; marked interrupted", interrupted)
    catalog = ModelCatalog(build_providers(settings), settings.model_discovery_timeout)
    connections = Connections(
        storage.connections, KeyBox(settings.key_file), settings, catalog, provider_timeouts(settings)
    )
    tools = ToolRegistry.from_files(settings.mcp_config_file, settings.builtin_tools)
    metrics = ChatMetrics()
    service = ChatService(storage, catalog, settings, tools, metrics)
    api_keys = ApiKeys(storage.api_keys, settings.chat_api_key.get_secret_value() if settings.chat_api_key else None)
    add_protection(settings, access, api_keys)
    register_login(access, LoginThrottle())
    register_pages(service, catalog, settings, access, api_keys)
    register_connections_page(connections, access)
    register_routes_page(service.routes, catalog, access)
    tool_servers = ToolServers(tools, service.permissions, page_takes_commands(settings))
    register_tools_page(tool_servers, access, str(settings.mcp_config_file))
    register_stats_page(ReplyStats(storage.chats, metrics), access)
    register_api(service, catalog)
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    register_metrics(metrics, access, token, on_network=not is_loopback(settings.host))

    app.on_startup(connections.apply)  # the configured providers and the connected ones, their models listed
    app.on_startup(catalog.warm_up)
    app.on_startup(tools.start)  # each MCP server's own task; the service stops them at shutdown
    # What exists after start-up (the libraries' modules, classes and functions) lives as long as the process.
    # Frozen, a full collection no longer walks it: measured, its pauses fell from ~150 ms to ~10 ms, which had
    # stalled the first tokens of a reply (benchmarks/stream.py, 200 earlier messages).
    app.on_startup(gc.freeze)
    app.on_shutdown(service.shutdown)
    app.on_shutdown(catalog.close)
    # Engine.IO drops a connection whose message exceeds its buffer (1 MB by default): allow the longest
    # message we accept, in UTF-8 and JSON-escaped, so a big paste gets a clear answer instead of a reconnect.
    core.sio.eio.max_http_buffer_size = settings.max_request_bytes
    # NiceGUI lets socket.io answer any origin (with credentials); OwnNamesOnly refuses other sites' origins, and
    # an empty list turns socket.io's own CORS answers off, so no other origin is ever named as allowed.
    core.sio.eio.cors_allowed_origins = []

    # uvicorn re-raises Ctrl+C after its graceful shutdown (replies saved by then); a traceback would only alarm.
    with contextlib.suppress(KeyboardInterrupt):
        ui.run(
            host=settings.host,
            port=settings.port,
            title="Chat",
            language="en-US",
            reload=False,
            show=False,
            reconnect_timeout=settings.reconnect_timeout,
            favicon="💬",
            storage_secret=access.session_secret,
            # Signed (by storage_secret) and HttpOnly by Starlette; not sent along with other sites' requests.
            session_middleware_kwargs={"session_cookie": "chat_session", "same_site": "lax"},
        )


if __name__ == "__main__":
    main()
