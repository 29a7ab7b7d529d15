"""A small MCP server for the tests, written with the official SDK, run as a subprocess:

python tests/fakes/mcp_server.py              # over stdio
python tests/fakes/mcp_server.py --http PORT  # over Streamable HTTP on 127.0.0.1:PORT/mcp
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import sys

from mcp.server.mcpserver import Image, MCPServer

server = MCPServer("fake-tools")
# A 1×1 PNG: what an image result looks like.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two whole numbers."""
    return a + b


@server.tool()
def echo(text: str) -> str:
    """Says the text back, as it is."""
    return text


@server.tool()
async def slow(seconds: float) -> str:
    """Answers after this many seconds."""
    await asyncio.sleep(seconds)
    return f"done after {seconds} s"


@server.tool()
def crash() -> str:
    """Ends the server's process mid-call."""
    os._exit(3)


@server.tool()
def broken() -> str:
    """Always fails."""
    raise RuntimeError("the broken tool broke, as it does")


@server.tool()
def picture() -> Image:
    """A tiny image."""
    return Image(data=PIXEL, format="png")


@server.tool()
def huge(characters: int) -> str:
    """A result this many characters long."""
    return "x" * characters


if __name__ == "__main__":
    logging.getLogger("mcp").setLevel(logging.CRITICAL)  # a tool that fails on purpose needs no traceback
    if "--http" in sys.argv:
        port = int(sys.argv[sys.argv.index("--http") + 1])
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        server.run()
