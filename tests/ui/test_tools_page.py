"""The Tools page: a person adds an MCP server (a real one, tests/fakes/mcp_server.py), sees it start and list its
tools, turns it off, removes it, and turns a built-in tool on; everything is kept in the servers file. Each
conversation then chooses among the sources in its settings."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from app.storage.database import create_database
from app.storage.tool_permissions import ToolPermissionStore
from tests.fakes.provider_server import Reply
from tests.ui.helpers import assert_status, click_labelled, eventually, replies, send

pytestmark = pytest.mark.usefixtures("app_env")

FAKE_SERVER = str(Path(__file__).resolve().parents[1] / "fakes" / "mcp_server.py")


def servers_file(tmp_path: Path) -> dict:
    file = tmp_path / "mcp.json"
    return json.loads(file.read_text()) if file.exists() else {}


def labelled(user: User, label: str) -> ui.element:
    return next(e for e in user.current_layout.descendants() if e.props.get("aria-label") == label)


def status_text(user: User) -> str:
    return next(iter(user.find(marker="server-status").elements)).text


async def test_a_server_added_on_the_page_starts_lists_its_tools_and_is_kept_in_the_file(user: User, tmp_path):
    await user.open("/tools")
    await user.should_see("No server yet")

    user.find("Name").type("fake")
    user.find("Command or URL").type(shlex.join([sys.executable, FAKE_SERVER]))
    user.find("Environment (NAME=value, one per line)").type("GREETING=hello")
    user.find(kind=ui.button, content="Add server").click()

    await eventually(lambda: status_text(user) == "Ready", timeout=15)
    await user.should_see("echo")
    await user.should_see("Says the text back, as it is.")
    kept = servers_file(tmp_path)["mcpServers"]["fake"]
    assert kept == {"command": sys.executable, "args": [FAKE_SERVER], "env": {"GREETING": "hello"}}
    assert (tmp_path / "mcp.json").stat().st_mode & 0o077 == 0, "it may hold secrets: its owner's only"

    labelled(user, "Use fake").set_value(False)
    await eventually(lambda: status_text(user) == "Off")
    assert servers_file(tmp_path)["mcpServers"]["fake"]["enabled"] is False

    user.find(kind=ui.button, content="Remove").click()
    await user.should_see("No server yet")
    assert servers_file(tmp_path)["mcpServers"] == {}


async def test_a_bad_server_entry_is_refused_with_a_message(user: User, tmp_path):
    await user.open("/tools")
    user.find("Name").type("no spaces allowed")
    user.find("Command or URL").type("whatever")
    user.find(kind=ui.button, content="Add server").click()
    await user.should_see("A server's name is 1 to 64 letters")
    assert not (tmp_path / "mcp.json").exists()


async def test_a_server_that_cannot_start_says_why(user: User):
    await user.open("/tools")
    user.find("Name").type("missing")
    user.find("Command or URL").type("/nonexistent/mcp-server --flag")
    user.find(kind=ui.button, content="Add server").click()
    await eventually(lambda: status_text(user).startswith("Failed"), timeout=10)
    await eventually(lambda: "Last error" in next(iter(user.find(marker="server-error").elements)).text)


async def test_a_built_in_tool_turned_on_is_kept_and_offered_to_the_model(user: User, app_env, tmp_path):
    await user.open("/tools")
    labelled(user, "Built-in tool calculator").set_value(True)
    await eventually(lambda: servers_file(tmp_path).get("builtinTools") == ["calculator"])

    await user.open("/")
    await send(user, "Hi")
    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    offered = app_env["openai"].chat_requests[-1].body["tools"]
    assert [tool["function"]["name"] for tool in offered] == ["calculator"]


@pytest.fixture
def builtin_on(app_env, tmp_path):
    """Both built-in tools turned on (as the Tools page keeps them), before the app starts."""
    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {}, "builtinTools": ["calculator", "time"]}))
    return app_env


async def test_a_conversation_can_turn_a_tool_source_off_in_its_settings(builtin_on, user: User):
    app_env = builtin_on
    await user.open("/")
    await send(user, "First")
    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    assert len(app_env["openai"].chat_requests[-1].body["tools"]) == 2

    user.find(kind=ui.button, content="Settings").click()
    await user.should_see("Tools this conversation offers the model")
    next(e for e in user.find(kind=ui.checkbox).elements if e.text.startswith("built-in")).set_value(False)
    user.find(marker="settings-save").click()
    await user.should_see("Settings saved")  # stored: the next reply goes by it
    app_env["openai"].play(Reply(tokens=["No tools now."]))
    await send(user, "Second")
    await eventually(lambda: len(replies(user)) == 2 and assert_status(replies(user)[1], "complete"))

    assert "tools" not in app_env["openai"].chat_requests[-1].body


@pytest.fixture
def shared_tools_page(app_env, monkeypatch):
    """The app as on a network bind, where the Tools page takes no command line."""
    monkeypatch.setenv("TOOLS_PAGE_COMMANDS", "false")
    return app_env


async def test_where_commands_are_not_taken_the_page_adds_servers_by_url_only(shared_tools_page, user: User, tmp_path):
    await user.open("/tools")
    await user.should_see("adds servers by URL only")
    await user.should_not_see("Environment (NAME=value, one per line)")

    user.find("Name").type("shell")
    user.find(kind=ui.input, content="URL").type(shlex.join([sys.executable, FAKE_SERVER]))
    user.find(kind=ui.button, content="Add server").click()

    await eventually(lambda: any("by URL only" in message for message in user.notify.messages))
    assert "shell" not in servers_file(tmp_path).get("mcpServers", {})


@pytest.fixture
def always_allowed(app_env, database_url):
    """A tool the person chose Always allow for, before the app starts."""
    engine = create_database(database_url)
    ToolPermissionStore(engine).allow("fake/echo")
    engine.dispose()
    return app_env


async def test_a_tool_always_allowed_is_listed_and_asks_again_once_forgotten(always_allowed, user: User):
    await user.open("/tools")
    await user.should_see("fake/echo")

    click_labelled(user, "Ask again before fake/echo runs")

    await user.should_see("No tool runs without asking")
    await user.open("/tools")  # kept: not only off the page
    await user.should_see("No tool runs without asking")
    await user.should_not_see(marker="always-allowed")
