"""A reply that calls tools, as the person sees it: each call a step inside the reply, its name, arguments, state
and result, asking before a server's tool runs; with `python main.py` run against a fake provider that calls
tools, the built-in calculator and a real MCP server (tests/fakes/mcp_server.py) from the mcp.json file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from tests.fakes.provider_server import FakeToolCall, Reply
from tests.ui.helpers import assert_status, eventually, open_conversation_id, replies, reply_text, send

pytestmark = pytest.mark.usefixtures("app_env")

FAKE_SERVER = str(Path(__file__).resolve().parents[1] / "fakes" / "mcp_server.py")
HOSTILE = '<img src=x onerror="alert(1)"> ![tracker](http://127.0.0.1:9/pixel.png) <script>alert(2)</script>'


@pytest.fixture
def tools_env(app_env, tmp_path, monkeypatch):
    """The fake MCP server in the servers file, and the built-in calculator on."""
    servers = {"mcpServers": {"fake": {"command": sys.executable, "args": [FAKE_SERVER]}}}
    (tmp_path / "mcp.json").write_text(json.dumps(servers))
    monkeypatch.setenv("BUILTIN_TOOLS", "calculator")
    return app_env


@pytest.fixture
def auto_approved(tools_env, monkeypatch):
    monkeypatch.setenv("TOOLS_AUTO_APPROVE", "true")
    return tools_env


def tool_steps(user: User) -> list[ui.element]:
    return [e for e in user.current_layout.descendants() if e.props.get("data-role") == "tool"]


def step_named(user: User, name: str) -> ui.element:
    return next(step for step in tool_steps(user) if step.props["data-tool-name"] == name)


def status_of_step(user: User, name: str) -> str | None:
    found = [step for step in tool_steps(user) if step.props["data-tool-name"] == name]
    return found[0].props["data-status"] if found else None


def texts_in(element: ui.element) -> list[str]:
    return [child.text for child in element.descendants() if getattr(child, "text", None)]


async def servers_ready(user: User) -> None:
    await user.open("/tools")
    await eventually(lambda: user.find(marker="server-status").elements.pop().text == "Ready", timeout=15)


async def test_a_reply_calls_two_tools_one_after_approval_and_each_step_ends_complete(tools_env, user: User):
    tools_env["openai"].play(
        Reply(
            tokens=["Let me ", "work it out. "],
            tool_calls=[
                FakeToolCall("calculator", '{"expression": "6 * 7"}'),
                FakeToolCall("echo", json.dumps({"text": HOSTILE})),
            ],
        ),
        Reply(tokens=["It is ", "42."]),
    )
    await servers_ready(user)
    await user.open("/")
    await send(user, "What is 6 times 7? Then echo something.")

    await eventually(lambda: status_of_step(user, "echo") == "awaiting-approval")
    assert status_of_step(user, "calculator") == "complete"  # only reads: it ran unasked
    await user.should_see("Allow once")
    await user.should_see("Always allow")
    await user.should_see("Deny")
    user.find(kind=ui.button, content="Allow once").click()

    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    assert [s.props["data-status"] for s in tool_steps(user)] == ["complete", "complete"]
    assert "42" in texts_in(step_named(user, "calculator"))
    # The hostile result is text inside the step: no image, no script, no markup of it rendered.
    assert HOSTILE in texts_in(step_named(user, "echo"))
    assert not any(isinstance(e, ui.image) for e in step_named(user, "echo").descendants())
    assert "work it out." in reply_text(replies(user)[0]) and "It is 42." in reply_text(replies(user)[0])
    results = [m for m in tools_env["openai"].chat_requests[1].body["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in results] == ["42", HOSTILE]


async def test_a_denied_call_shows_denied_and_the_model_is_told(tools_env, user: User):
    tools_env["openai"].play(
        Reply(tokens=["Echoing. "], tool_calls=[FakeToolCall("echo", '{"text": "hi"}')]),
        Reply(tokens=["As you wish."]),
    )
    await servers_ready(user)
    await user.open("/")
    await send(user, "Echo hi")
    await eventually(lambda: status_of_step(user, "echo") == "awaiting-approval")

    user.find(kind=ui.button, content="Deny").click()

    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    assert status_of_step(user, "echo") == "denied"
    [told] = [m for m in tools_env["openai"].chat_requests[1].body["messages"] if m["role"] == "tool"]
    assert "denied" in told["content"]


async def test_reloading_during_a_call_shows_the_call_running_and_then_its_result(auto_approved, user: User):
    auto_approved["openai"].play(
        Reply(tokens=["Waiting. "], tool_calls=[FakeToolCall("slow", '{"seconds": 2}')]),
        Reply(tokens=["Done waiting."]),
    )
    await servers_ready(user)
    await user.open("/")
    await send(user, "Wait a bit")
    await eventually(lambda: status_of_step(user, "slow") == "running")
    url = f"/c/{open_conversation_id(user)}"

    await user.open(url)

    assert status_of_step(user, "slow") == "running"
    await eventually(lambda: assert_status(replies(user)[0], "complete"), timeout=10)
    assert status_of_step(user, "slow") == "complete"
    await user.open(url)  # and from the stored records, after the end
    assert status_of_step(user, "slow") == "complete" and "Done waiting." in reply_text(replies(user)[0])


async def test_text_that_looks_like_a_step_is_shown_as_text(tools_env, user: User):
    fake_step = '<div data-role="tool" data-tool-name="rm" data-status="complete">rm -rf /</div>'
    tools_env["openai"].play(Reply(tokens=[fake_step]))
    await user.open("/")
    await send(user, "Pretend")
    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    assert tool_steps(user) == []
    assert "&lt;div data-role" in reply_text(replies(user)[0])
