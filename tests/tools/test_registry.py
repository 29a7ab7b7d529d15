"""Which tools the model is offered, from the mcp.json file and the built-in ones, and where each call goes."""

from __future__ import annotations

import json
import sys

import pytest

from app.tools.registry import ToolRegistry
from tests.tools.test_mcp_servers import FAKE_SERVER, STARTUP_SECONDS


def servers_file(tmp_path, **servers) -> object:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}), encoding="utf-8")
    return path


FAKE = {"command": sys.executable, "args": [FAKE_SERVER]}


@pytest.fixture
async def registry(tmp_path):
    made = ToolRegistry.from_files(servers_file(tmp_path, files=FAKE), ["calculator"])
    made.start()
    for server in made.servers:
        assert await server.ready(STARTUP_SECONDS), server.last_error
    yield made
    await made.close()


async def test_every_tool_is_offered_under_its_own_name_and_answered_by_its_source(registry):
    offered = {tool.spec.name: tool for tool in registry.offered()}

    assert {"calculator", "add", "echo"} <= set(offered)
    assert (offered["add"].source, offered["calculator"].source) == ("files", "built-in")
    assert (await registry.call(offered["add"], {"a": 1, "b": 2})).text == "3"
    assert (await registry.call(offered["calculator"], {"expression": "6 * 7"})).text == "42"


async def test_a_name_two_servers_share_is_offered_as_server__tool(tmp_path):
    both = ToolRegistry.from_files(servers_file(tmp_path, first=FAKE, **{"second one": FAKE}), [])
    both.start()
    try:
        for server in both.servers:
            assert await server.ready(STARTUP_SECONDS), server.last_error
        offered = {tool.spec.name: tool for tool in both.offered()}

        assert "add" not in offered and {"first__add", "second_one__add"} <= set(offered)
        assert (await both.call(offered["second_one__add"], {"a": 2, "b": 2})).text == "4"
        assert [tool.spec.name for tool in both.offered({"first"})][:1] == ["add"], "alone, its own name again"
    finally:
        await both.close()


async def test_only_the_sources_chosen_for_a_conversation_are_offered(registry):
    assert {tool.source for tool in registry.offered({"built-in"})} == {"built-in"}
    assert registry.offered(set()) == []


def test_without_a_file_there_are_no_servers_and_a_broken_file_is_said(tmp_path):
    assert ToolRegistry.from_files(tmp_path / "absent.json", []).servers == []

    broken = tmp_path / "mcp.json"
    broken.write_text('{"mcpServers": {"x": {"args": []}}}', encoding="utf-8")
    registry = ToolRegistry.from_files(broken, ["time"])

    assert registry.servers == [] and "needs a command or a url" in registry.problem
    assert [tool.spec.name for tool in registry.offered()] == ["current_time"]
