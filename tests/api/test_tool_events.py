"""Tools over the HTTP API: a reply that calls tools streams each call as it happens (its start, then its result or
its error) among the tokens, and only tools approved in advance run."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.app_process import chat_app
from tests.fakes.provider_server import FakeToolCall, Reply

API_KEY = "chat-test-key-for-tools"
OPENAI = "openai:gpt-4o-mini"
FAKE_SERVER = str(Path(__file__).resolve().parents[1] / "fakes" / "mcp_server.py")


def servers_file(folder: Path) -> Path:
    file = folder / "mcp.json"
    file.write_text(json.dumps({"mcpServers": {"fake": {"command": sys.executable, "args": [FAKE_SERVER]}}}))
    return file


@pytest.fixture(scope="module")
def approved(tmp_path_factory):
    """Every call approved in advance (TOOLS_AUTO_APPROVE), the MCP server and the built-in calculator on."""
    folder = tmp_path_factory.mktemp("tools-api")
    servers_file(folder)
    with chat_app(folder, CHAT_API_KEY=API_KEY, TOOLS_AUTO_APPROVE="true", BUILTIN_TOOLS="calculator") as running:
        wait_for_tools(running)
        yield running


@pytest.fixture(scope="module")
def asking(tmp_path_factory):
    """The default: a server's tool asks first, and over the API nobody can answer."""
    folder = tmp_path_factory.mktemp("tools-api-asking")
    servers_file(folder)
    with chat_app(folder, CHAT_API_KEY=API_KEY) as running:
        wait_for_tools(running)
        yield running


def client(server) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30)


def stream(server, message: str) -> list[dict]:
    with client(server) as api, api.stream("POST", "/api/chat", json={"message": message, "model": OPENAI}) as r:
        assert r.status_code == 200
        return [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]


def wait_for_tools(server) -> None:
    """The MCP server starts beside the app: the tests' replies must not come before its tools are listed."""
    for _ in range(30):
        with client(server) as api:
            api.post("/api/chat", json={"message": "Are the tools there?", "model": OPENAI, "stream": False})
        offered = server.fakes["openai"].chat_requests[-1].body.get("tools", [])
        if any(tool["function"]["name"] == "echo" for tool in offered):
            return
        time.sleep(0.5)
    raise AssertionError("the MCP server's tools were never offered")


def test_a_streamed_reply_sends_each_call_where_it_happened_with_its_input_and_result(approved):
    approved.fakes["openai"].play(
        Reply(
            tokens=["Working", " it out. "],
            tool_calls=[
                FakeToolCall("calculator", '{"expression": "6 * 7"}'),
                FakeToolCall("echo", '{"text": "<b>hi</b>"}'),
            ],
        ),
        Reply(tokens=["It is ", "42."]),
    )

    events = stream(approved, "What is 6 times 7?")

    kinds = ["tool_result" if "tool_result" in e else "tool" if "tool_name" in e else "token" for e in events[:-1]]
    assert kinds == ["token", "token", "tool", "tool", "tool_result", "tool_result", "token", "token"] or kinds == [
        "token",
        "token",
        "tool",
        "tool_result",
        "tool",
        "tool_result",
        "token",
        "token",
    ]
    started = [e for e in events if "tool_name" in e and "tool_result" not in e]
    assert [(e["tool_name"], e["tool_input"]) for e in started] == [
        ("calculator", {"expression": "6 * 7"}),
        ("echo", {"text": "<b>hi</b>"}),
    ]
    results = {e["tool_name"]: e["tool_result"] for e in events if "tool_result" in e}
    assert results == {"calculator": "42", "echo": "<b>hi</b>"}
    assert all(e["done"] is False and e["token"] == "" for e in events if "tool_name" in e)
    assert "".join(e.get("token", "") for e in events) == "Working it out. It is 42."
    done = events[-1]
    assert done["done"] is True

    with client(approved) as api:
        history = api.get(f"/api/conversations/{done['conversation_id']}").json()
    reply = history["messages"][-1]
    assert reply["content"] == "Working it out. It is 42."
    assert [(s["tool"], s["status"], s["result"]) for s in reply["tool_steps"]] == [
        ("calculator", "complete", "42"),
        ("echo", "complete", "<b>hi</b>"),
    ]


def test_a_tool_error_comes_as_a_tool_error_event(approved):
    approved.fakes["openai"].play(
        Reply(tokens=["Trying. "], tool_calls=[FakeToolCall("broken", "{}")]),
        Reply(tokens=["It failed."]),
    )
    events = stream(approved, "Try the broken one")
    [failed] = [e for e in events if "tool_error" in e]
    assert failed["tool_name"] == "broken" and failed["tool_status"] == "error" and failed["tool_error"]


def test_without_approval_in_advance_a_servers_tool_does_not_run_and_the_client_is_told(asking):
    asking.fakes["openai"].play(
        Reply(tokens=["Echoing. "], tool_calls=[FakeToolCall("echo", '{"text": "x"}')]),
        Reply(tokens=["I could not."]),
    )
    events = stream(asking, "Echo x")
    [refused] = [e for e in events if "tool_error" in e]
    assert refused["tool_status"] == "denied" and "TOOLS_AUTO_APPROVE" in refused["tool_error"]
    told = [m for m in asking.fakes["openai"].chat_requests[-1].body["messages"] if m["role"] == "tool"]
    assert "TOOLS_AUTO_APPROVE" in told[0]["content"]


def test_a_reply_that_is_not_streamed_lists_its_calls(approved):
    approved.fakes["openai"].play(
        Reply(tokens=["Sum: "], tool_calls=[FakeToolCall("add", '{"a": 2, "b": 3}')]), Reply(tokens=["5."])
    )
    with client(approved) as api:
        body = api.post("/api/chat", json={"message": "2+3", "model": OPENAI, "stream": False}).json()
    assert body["text"] == "Sum: 5."
    assert [(c["tool_name"], c["tool_result"]) for c in body["tool_calls"]] == [("add", "5")]
