"""MCP servers as the chat uses them: a real server (tests/fakes/mcp_server.py, written with the official SDK) as
a subprocess over stdio and over Streamable HTTP on 127.0.0.1. Every call ends in words, whatever the server does:
answers, fails, takes too long, is stopped, or dies."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.tools import mcp_servers
from app.tools.mcp_servers import MCPServerConnection, ServerConfig, ServerStatus, servers_from_json
from tests.waiting import eventually

FAKE_SERVER = str(Path(__file__).resolve().parents[1] / "fakes" / "mcp_server.py")
STARTUP_SECONDS = 30


def stdio_config(**changes) -> ServerConfig:
    return ServerConfig("fake", command=sys.executable, args=(FAKE_SERVER,), **changes)


@pytest.fixture
async def server(monkeypatch):
    monkeypatch.setattr(mcp_servers, "FIRST_RESTART_SECONDS", 0.1)
    connection = MCPServerConnection(stdio_config(call_seconds=1.0))
    connection.start()
    assert await connection.ready(STARTUP_SECONDS), connection.last_error
    yield connection
    await connection.stop()


async def test_the_servers_tools_are_listed_with_what_they_do(server):
    tools = {tool.name: tool for tool in server.tools()}

    assert {"add", "echo", "slow", "crash", "broken", "picture", "huge"} <= set(tools)
    assert tools["add"].description == "Adds two whole numbers."
    assert set(tools["add"].input_schema["properties"]) == {"a", "b"}
    assert server.status == ServerStatus.READY and server.last_error is None


async def test_calls_answer_with_text_images_and_the_tools_own_errors(server):
    added, echoed, picture, broken = await asyncio.gather(
        server.call("add", {"a": 2, "b": 3}),
        server.call("echo", {"text": "<img src=x onerror=alert(1)> ![](http://127.0.0.1/leak.png)"}),
        server.call("picture", {}),
        server.call("broken", {}),
    )

    assert (added.text, added.is_error) == ("5", False)
    assert echoed.text == "<img src=x onerror=alert(1)> ![](http://127.0.0.1/leak.png)", "kept as text, unchanged"
    assert picture.images and picture.images[0].startswith("data:image/png;base64,")
    assert broken.is_error and "broken" in broken.text


async def test_a_call_that_takes_too_long_ends_in_words_and_the_server_goes_on(server):
    started = time.monotonic()

    slow = await server.call("slow", {"seconds": 10})

    assert slow.is_error and slow.text == "No answer within 1 s."
    assert time.monotonic() - started < 5
    assert (await server.call("add", {"a": 1, "b": 1})).text == "2"


async def test_stop_cancels_a_running_call_at_once(server):
    call = asyncio.ensure_future(server.call("slow", {"seconds": 30}))
    await asyncio.sleep(0.3)
    started = time.monotonic()

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    assert time.monotonic() - started < 0.5
    assert (await server.call("add", {"a": 2, "b": 2})).text == "4"


async def test_a_server_that_dies_mid_call_fails_its_calls_in_words_and_is_started_again(server):
    in_flight = asyncio.ensure_future(server.call("slow", {"seconds": 0.8}))
    await asyncio.sleep(0.1)

    crashed = await server.call("crash", {})

    assert crashed.is_error and "stopped" in crashed.text
    assert (await in_flight).is_error, "a call in flight when it died ends too, not hangs"
    await eventually(lambda: server.status == ServerStatus.READY, timeout=STARTUP_SECONDS)
    assert (await server.call("add", {"a": 20, "b": 22})).text == "42"


async def test_a_server_that_cannot_start_says_why_and_its_calls_fail_at_once(monkeypatch):
    monkeypatch.setattr(mcp_servers, "FIRST_RESTART_SECONDS", 0.1)
    missing = MCPServerConnection(ServerConfig("missing", command="/nonexistent/mcp-server"))
    missing.start()
    try:
        await eventually(lambda: missing.status == ServerStatus.FAILED, timeout=10)

        assert missing.last_error
        output = await asyncio.wait_for(missing.call("anything", {}), 1)
        assert output.is_error and "not running" in output.text and missing.tools() == []
    finally:
        await missing.stop()


async def test_a_huge_result_is_kept_whole_and_cut_for_the_model():
    patient = MCPServerConnection(stdio_config(call_seconds=60))
    patient.start()
    try:
        assert await patient.ready(STARTUP_SECONDS), patient.last_error
        started = time.monotonic()
        output = await patient.call("huge", {"characters": 10_000_000})
        seconds = time.monotonic() - started
    finally:
        await patient.stop()

    assert len(output.text) == 10_000_000 and seconds < 30
    sent = output.for_model()
    assert len(sent) < 60_000 and "characters of this result were cut" in sent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def http_server():
    port = free_port()
    process = subprocess.Popen([sys.executable, FAKE_SERVER, "--http", str(port)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/mcp"
    process.terminate()
    process.wait(10)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer for-the-server"}])
async def test_a_server_over_streamable_http_answers_the_same_way(http_server, headers):
    connection = MCPServerConnection(ServerConfig("over-http", url=http_server, headers=headers, call_seconds=5))
    connection.start()
    try:
        assert await connection.ready(STARTUP_SECONDS), connection.last_error
        assert (await connection.call("add", {"a": 5, "b": 6})).text == "11"
    finally:
        await connection.stop()


def test_an_mcp_json_file_names_its_servers_as_claude_desktop_writes_it():
    servers = servers_from_json(
        '{"mcpServers": {"time": {"command": "python", "args": ["-m", "mcp_server_time"], "env": {"TZ": "UTC"}},'
        ' "remote": {"url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "Bearer x"}, "timeout": 5}}}'
    )

    assert [(s.name, s.command, s.args, s.env) for s in servers[:1]] == [
        ("time", "python", ("-m", "mcp_server_time"), {"TZ": "UTC"})
    ]
    assert (servers[1].url, servers[1].headers, servers[1].call_seconds) == (
        "http://127.0.0.1:9/mcp",
        {"Authorization": "Bearer x"},
        5.0,
    )


@pytest.mark.parametrize("text", ['{"servers": {}}', '{"mcpServers": {"x": {"args": []}}}', "[]"])
def test_a_file_that_is_not_an_mcp_servers_file_is_refused_saying_what_is_wrong(text):
    with pytest.raises(ValueError, match=r"mcpServers|command or a url"):
        servers_from_json(text)


async def test_a_published_server_from_the_package_index_works_over_stdio():
    """mcp-server-time, installed by the test extra: its tools are listed and a call answers."""
    config = ServerConfig("time", command=sys.executable, args=("-m", "mcp_server_time", "--local-timezone", "UTC"))
    connection = MCPServerConnection(config)
    connection.start()
    try:
        assert await connection.ready(STARTUP_SECONDS), connection.last_error
        assert {"get_current_time", "convert_time"} <= {tool.name for tool in connection.tools()}
        now = await connection.call("get_current_time", {"timezone": "Europe/Paris"})
        converted = await connection.call(
            "convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}
        )
        unknown = await connection.call("get_current_time", {"timezone": "Mars/Olympus"})
    finally:
        await connection.stop()

    assert not now.is_error and "Europe/Paris" in now.text
    assert not converted.is_error and "21:00" in converted.text
    assert unknown.is_error
