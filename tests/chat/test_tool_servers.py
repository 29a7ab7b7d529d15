"""What the Tools page asks of the chat: servers added, changed and removed, checked first and kept in the servers
file (the format Claude Desktop writes), whatever else the file holds left as it was."""

from __future__ import annotations

import json
import sys

import pytest

from app.chat.refusals import InputRefused
from app.chat.tool_servers import ToolServers, page_takes_commands
from app.settings import Settings
from app.tools.registry import ToolRegistry
from tests.tools.test_mcp_servers import FAKE_SERVER


@pytest.fixture
async def servers(tmp_path):
    file = tmp_path / "mcp.json"
    file.write_text(
        json.dumps(
            {"globalShortcut": "Ctrl+Space", "mcpServers": {"kept": {"url": "http://127.0.0.1:9/mcp", "note": "mine"}}}
        )
    )
    registry = ToolRegistry.from_files(file, [])
    yield ToolServers(registry), file
    await registry.close()


def kept(file) -> dict:
    return json.loads(file.read_text())


async def test_a_server_added_is_kept_with_its_command_environment_and_timeout(servers):
    tools, file = servers
    await tools.add("fake", f"{sys.executable} {FAKE_SERVER} --flag 'two words'", "TOKEN=abc=def\n\nMODE=x", 30)

    entry = kept(file)["mcpServers"]["fake"]
    assert entry == {
        "command": sys.executable,
        "args": [FAKE_SERVER, "--flag", "two words"],
        "env": {"TOKEN": "abc=def", "MODE": "x"},
        "timeout": 30.0,
    }
    assert kept(file)["globalShortcut"] == "Ctrl+Space", "what this app does not use is left alone"
    assert [state.name for state in tools.servers()] == ["kept", "fake"]


async def test_changing_a_server_keeps_what_else_its_entry_had(servers):
    tools, file = servers
    await tools.set_call_seconds("kept", 5)
    await tools.turn("kept", False)

    assert kept(file)["mcpServers"]["kept"] == {
        "url": "http://127.0.0.1:9/mcp",
        "note": "mine",
        "timeout": 5.0,
        "enabled": False,
    }
    assert tools.servers()[0].status == "off"


@pytest.mark.parametrize(
    "name,runs,env,seconds,message",
    [
        ("two words", "x", "", None, "letters, digits"),
        ("kept", "x", "", None, "already"),
        ("new", "", "", None, "Give the command"),
        ("new", "cmd 'unclosed", "", None, "cannot be read"),
        ("new", "cmd", "NOEQUALS", None, "NAME=value"),
        ("new", "cmd", "", 0, "from 1 to 3600"),
        ("new", "cmd", "", 99999, "from 1 to 3600"),
    ],
)
async def test_what_cannot_be_a_server_is_refused_and_nothing_is_written(servers, name, runs, env, seconds, message):
    tools, file = servers
    before = file.read_text()
    with pytest.raises(InputRefused, match=message):
        await tools.add(name, runs, env, seconds)
    assert file.read_text() == before


async def test_shared_on_the_network_the_page_adds_servers_by_url_only(servers):
    tools, file = servers
    shared = ToolServers(tools.registry, commands_allowed=False)
    before = file.read_text()
    with pytest.raises(InputRefused, match="by URL only"):
        await shared.add("shell", f"{sys.executable} -c 'print(1)'")
    assert file.read_text() == before

    await shared.add("remote", "http://127.0.0.1:9/mcp")
    assert kept(file)["mcpServers"]["remote"] == {"url": "http://127.0.0.1:9/mcp"}


@pytest.mark.parametrize(
    ("host", "chosen", "takes"),
    [("127.0.0.1", None, True), ("0.0.0.0", None, False), ("0.0.0.0", True, True), ("127.0.0.1", False, False)],
)
def test_the_page_takes_commands_only_while_the_app_is_not_shared_unless_told(host, chosen, takes):
    settings = Settings(_env_file=None, host=host, tools_page_commands=chosen)
    assert page_takes_commands(settings) is takes


async def test_a_removed_server_leaves_the_file_and_the_list(servers):
    tools, file = servers
    await tools.remove("kept")
    assert kept(file)["mcpServers"] == {} and tools.servers() == []
    with pytest.raises(InputRefused, match="no server called kept"):
        await tools.turn("kept", True)


async def test_a_servers_file_that_cannot_be_read_is_said_and_never_written_over(tmp_path):
    file = tmp_path / "mcp.json"
    file.write_text("{ not json")
    tools = ToolServers(ToolRegistry.from_files(file, []))

    assert "cannot be read" in tools.problem
    with pytest.raises(InputRefused, match="cannot be read"):
        await tools.turn_builtin("calculator", True)
    assert file.read_text() == "{ not json"
