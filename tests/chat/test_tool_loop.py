"""A reply that calls tools: the model names a call, the person approves it (or not), the tool runs, its result goes
back to the model, and the model answers; every step stored as it happens."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from app.chat.conversations import ConversationOptions
from app.chat.tool_calls import DENIED, NOT_ASKABLE, Decision
from app.chat.tool_servers import ToolServers
from app.providers.base import (
    Capabilities,
    Finish,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallReady,
    ToolCallStarted,
    Usage,
)
from app.storage.models import Status, ToolStatus, tokens_per_second
from app.tools.base import ToolOutput
from tests.fakes.provider_server import FakeToolCall, Reply
from tests.scripted_tools import ScriptedTools, registry_with
from tests.waiting import eventually, finished

CALLS_TOOLS = Capabilities(streams_tool_calls=True)


def a_call(call_id: str, name: str, arguments: dict) -> list:
    raw = json.dumps(arguments)
    return [
        ToolCallStarted(call_id, name),
        ToolCallArgumentsDelta(call_id, raw[:5]),
        ToolCallArgumentsDelta(call_id, raw[5:]),
        ToolCallReady(call_id, name, arguments, raw),
    ]


def calls(*parts: tuple[str, str, dict], text: str = "Let me look. ") -> tuple:
    return (TextDelta(text), *[event for part in parts for event in a_call(*part)], Finish("tool_calls"))


@pytest.fixture
async def with_tools(scripted_service):
    """A service whose model can call tools: a scripted MCP-like source `search` (asks first) and the built-in
    calculator (only reads: runs unasked)."""

    async def make(**changes):
        source = ScriptedTools("search", ("lookup", "fetch"))
        service, provider = await scripted_service(
            CALLS_TOOLS, tools=registry_with(source, builtin=("calculator",)), **changes
        )
        return service, provider, source

    return make


def shows(generation, status: str) -> bool:
    """The reply's first call is shown (so, stored) with this status."""
    return bool(generation.calls.shown) and generation.calls.shown[0].status == status


def stored_steps(service, generation):
    return service.conversations.repository.tool_steps([generation.message_id])[generation.message_id]


async def test_a_read_only_tool_runs_unasked_and_its_result_goes_back_to_the_model(with_tools):
    service, provider, _ = await with_tools()
    provider.script(*calls(("c1", "calculator", {"expression": "6 * 7"})))
    provider.script(TextDelta("It is 42."), Finish("stop"))

    generation = await finished(service.replies.send(None, "What is 6 times 7?", "scripted:model"))

    assert generation.status == Status.COMPLETE
    assert generation.text == "Let me look. It is 42."
    [step] = stored_steps(service, generation)
    assert (step.name, step.tool, step.source, step.status) == ("calculator", "calculator", "built-in", "complete")
    assert (step.arguments, step.result, step.text_offset) == ('{"expression": "6 * 7"}', "42", len("Let me look. "))
    first, second = provider.requests
    assert [tool.name for tool in first.tools] == ["calculator", "lookup", "fetch"]
    said, results = second.turns[-2:]
    assert (said.role, said.content, said.tool_calls[0].name) == ("assistant", "Let me look. ", "calculator")
    assert (results.role, results.tool_results[0].call_id, results.tool_results[0].content) == ("tool", "c1", "42")
    assert service.metrics.registry.get_sample_value("chat_tool_calls_total", {"status": "complete"}) == 1


async def test_a_call_waits_for_the_person_who_allows_it_once(with_tools):
    service, provider, source = await with_tools()
    provider.script(*calls(("c1", "lookup", {"query": "weather"})))
    generation = await service.replies.send(None, "Weather?", "scripted:model")

    await eventually(lambda: shows(generation, "awaiting-approval"))
    assert source.calls == []  # nothing runs before the person says so
    assert stored_steps(service, generation)[0].status == ToolStatus.AWAITING_APPROVAL  # a reload shows it too
    await service.replies.decide(generation.conversation_id, 0, Decision.ALLOW_ONCE)
    await finished(generation)

    assert source.calls == [("lookup", {"query": "weather"})]
    assert stored_steps(service, generation)[0].status == ToolStatus.COMPLETE
    assert "lookup got" in provider.requests[1].turns[-1].tool_results[0].content


async def test_always_allow_remembers_the_tool_for_later_replies(with_tools):
    service, provider, source = await with_tools()
    provider.script(*calls(("c1", "lookup", {"query": "a"})))
    generation = await service.replies.send(None, "First", "scripted:model")
    await eventually(lambda: 0 in generation.calls.approvals)
    await service.replies.decide(generation.conversation_id, 0, Decision.ALWAYS)
    await finished(generation)

    provider.script(*calls(("c2", "lookup", {"query": "b"})))
    later = await finished(service.replies.send(generation.conversation_id, "Again", "scripted:model"))

    assert [step.status for step in stored_steps(service, later)] == [ToolStatus.COMPLETE]
    assert len(source.calls) == 2


async def test_a_tool_always_allowed_asks_again_once_it_is_forgotten(with_tools):
    service, provider, source = await with_tools()
    await service.permissions.allow("search/lookup")
    servers = ToolServers(service.tools, service.permissions)
    assert servers.always_allowed() == ["search/lookup"]

    await servers.forget_allowance("search/lookup")

    assert servers.always_allowed() == []
    provider.script(*calls(("c1", "lookup", {"query": "a"})))
    generation = await service.replies.send(None, "Look", "scripted:model")
    await eventually(lambda: shows(generation, "awaiting-approval"))
    assert source.calls == []
    generation.stop()
    await finished(generation)


async def test_a_denied_call_tells_the_model_so_and_the_reply_goes_on(with_tools):
    service, provider, source = await with_tools()
    provider.script(*calls(("c1", "lookup", {"query": "secret"})))
    provider.script(TextDelta("Understood, I will not look it up."), Finish("stop"))
    generation = await service.replies.send(None, "Look it up", "scripted:model")
    await eventually(lambda: 0 in generation.calls.approvals)
    await service.replies.decide(generation.conversation_id, 0, Decision.DENY)
    await finished(generation)

    assert source.calls == []
    [step] = stored_steps(service, generation)
    assert (step.status, step.is_error, step.result) == (ToolStatus.DENIED, True, DENIED)
    result = provider.requests[1].turns[-1].tool_results[0]
    assert (result.content, result.is_error) == (DENIED, True)
    assert generation.status == Status.COMPLETE


async def test_over_the_api_a_tool_that_is_not_approved_in_advance_does_not_run(with_tools):
    service, provider, source = await with_tools()
    provider.script(*calls(("c1", "lookup", {"query": "x"})))
    generation = await finished(service.replies.send(None, "Look", "scripted:model", can_ask=False))

    assert source.calls == []
    assert stored_steps(service, generation)[0].result == NOT_ASKABLE


async def test_tools_auto_approve_runs_every_call_unasked(with_tools):
    service, provider, source = await with_tools(tools_auto_approve=True)
    provider.script(*calls(("c1", "lookup", {"query": "x"})))
    await finished(service.replies.send(None, "Look", "scripted:model", can_ask=False))
    assert source.calls == [("lookup", {"query": "x"})]


async def test_parallel_calls_of_one_round_run_side_by_side_and_go_back_together(with_tools):
    service, provider, source = await with_tools(tools_auto_approve=True)
    source.answers = {"lookup": 0.3, "fetch": 0.3}
    provider.script(*calls(("a", "lookup", {"query": "1"}), ("b", "fetch", {"query": "2"})))
    started = asyncio.get_running_loop().time()
    generation = await finished(service.replies.send(None, "Both", "scripted:model"))

    assert asyncio.get_running_loop().time() - started < 0.55  # not one after the other
    assert [(s.call_id, s.position, s.round) for s in stored_steps(service, generation)] == [("a", 0, 0), ("b", 1, 0)]
    assert [r.call_id for r in provider.requests[1].turns[-1].tool_results] == ["a", "b"]


async def test_a_tool_error_is_shown_on_the_step_and_sent_to_the_model_as_an_error(with_tools):
    service, provider, source = await with_tools(tools_auto_approve=True)
    source.answers = {"fetch": RuntimeError("disk on fire")}
    provider.script(*calls(("a", "lookup", {"query": "fail"}), ("b", "fetch", {})))
    generation = await finished(service.replies.send(None, "Try", "scripted:model"))

    failing, crashing = stored_steps(service, generation)
    assert (failing.status, failing.result) == (ToolStatus.ERROR, "no luck")
    assert crashing.status == ToolStatus.ERROR and "disk on fire" in crashing.result
    assert all(result.is_error for result in provider.requests[1].turns[-1].tool_results)
    assert generation.status == Status.COMPLETE


async def test_arguments_that_are_not_json_and_unknown_tools_are_errors_for_the_model(with_tools):
    service, provider, source = await with_tools(tools_auto_approve=True)
    provider.script(
        ToolCallStarted("a", "lookup"),
        ToolCallReady("a", "lookup", None, '{"query": '),
        ToolCallStarted("b", "rm_rf"),
        ToolCallReady("b", "rm_rf", {}, "{}"),
        Finish("tool_calls"),
    )
    generation = await finished(service.replies.send(None, "Go", "scripted:model"))

    broken, unknown = stored_steps(service, generation)
    assert broken.status == ToolStatus.ERROR and "not a JSON object" in broken.result
    assert unknown.status == ToolStatus.ERROR and "no tool called 'rm_rf'" in unknown.result
    assert source.calls == []


async def test_stop_while_a_call_runs_cancels_it_at_once_and_keeps_the_step_as_stopped(with_tools):
    service, provider, source = await with_tools(tools_auto_approve=True)
    source.answers = {"lookup": 30.0}
    provider.script(*calls(("a", "lookup", {"query": "slow"})))
    generation = await service.replies.send(None, "Slow one", "scripted:model")
    await eventually(lambda: source.running == 1)

    stopped_at = asyncio.get_running_loop().time()
    service.replies.stop(generation.conversation_id)
    await finished(generation)

    assert asyncio.get_running_loop().time() - stopped_at < 0.5
    assert source.running == 0
    assert generation.status == Status.STOPPED
    assert stored_steps(service, generation)[0].status == ToolStatus.STOPPED
    assert generation.text == "Let me look. "


async def test_stop_while_waiting_for_approval_stops_the_reply(with_tools):
    service, provider, _ = await with_tools()
    provider.script(*calls(("a", "lookup", {"query": "x"})))
    generation = await service.replies.send(None, "Ask me", "scripted:model")
    await eventually(lambda: 0 in generation.calls.approvals)
    service.replies.stop(generation.conversation_id)
    await finished(generation)
    assert stored_steps(service, generation)[0].status == ToolStatus.STOPPED
    with pytest.raises(ValueError, match="no longer waiting"):
        await service.replies.decide(generation.conversation_id, 0, Decision.ALLOW_ONCE)


async def test_rounds_of_calls_end_at_tool_rounds(with_tools):
    service, provider, source = await with_tools(tools_auto_approve=True, tool_rounds=2)
    for number in range(3):
        provider.script(*calls((f"c{number}", "lookup", {"query": str(number)}), text=f"Round {number}. "))
    generation = await finished(service.replies.send(None, "Loop", "scripted:model"))

    steps = stored_steps(service, generation)
    assert [(s.round, s.status) for s in steps] == [(0, "complete"), (1, "complete"), (2, "error")]
    assert len(source.calls) == 2 and "TOOL_ROUNDS" in generation.note
    assert generation.text == "Round 0. Round 1. Round 2. "


async def test_a_later_question_sends_the_earlier_calls_and_results_with_the_history(with_tools):
    service, provider, _ = await with_tools()
    provider.script(*calls(("c1", "calculator", {"expression": "2+2"})))
    provider.script(TextDelta("Four."), Finish("stop"))
    first = await finished(service.replies.send(None, "2+2?", "scripted:model"))
    await finished(service.replies.send(first.conversation_id, "And doubled?", "scripted:model"))

    turns = provider.requests[-1].turns
    assert [(t.role, t.content) for t in turns] == [
        ("user", "2+2?"),
        ("assistant", "Let me look. "),
        ("tool", ""),
        ("assistant", "Four."),
        ("user", "And doubled?"),
    ]
    assert turns[1].tool_calls[0].arguments == {"expression": "2+2"} and turns[2].tool_results[0].content == "4"


async def test_a_model_that_cannot_call_tools_is_offered_none_and_reads_only_the_text(scripted_service):
    service, provider = await scripted_service(tools=registry_with(ScriptedTools(), builtin=("calculator",)))
    await finished(service.replies.send(None, "Hi", "scripted:model"))
    assert provider.requests[0].tools == ()


async def test_tools_are_chosen_per_conversation_and_remembered(with_tools):
    service, provider, _ = await with_tools()
    first = await finished(service.replies.send(None, "Hi", "scripted:model"))
    options = service.conversations.options(first.conversation_id)
    assert options.tool_sources is None  # a new one: every source on

    await service.conversations.configure(first.conversation_id, replace(options, tool_sources=frozenset({"built-in"})))
    await finished(service.replies.send(first.conversation_id, "Again", "scripted:model"))

    assert [tool.name for tool in provider.requests[-1].tools] == ["calculator"]
    assert service.conversations.options(first.conversation_id).tool_sources == {"built-in"}


async def test_a_new_conversation_can_start_with_its_tools_chosen(with_tools):
    service, provider, _ = await with_tools()
    only_search = ConversationOptions(tool_sources=frozenset({"search"}))
    await finished(service.replies.send(None, "Hi", "scripted:model", options=only_search))
    assert [tool.name for tool in provider.requests[-1].tools] == ["lookup", "fetch"]


async def test_a_huge_tool_result_is_kept_whole_and_cut_for_the_model(with_tools):
    service, provider, source = await with_tools(tools_auto_approve=True)
    huge = "x" * 10_000_000
    source.answers = {"lookup": ToolOutput(huge)}
    provider.script(*calls(("a", "lookup", {})))
    generation = await finished(service.replies.send(None, "Big", "scripted:model"))

    assert stored_steps(service, generation)[0].result == huge
    sent = provider.requests[1].turns[-1].tool_results[0].content
    assert len(sent) < 60_000 and "characters of this result were cut" in sent


async def test_a_crash_mid_call_leaves_the_step_interrupted_at_the_next_start(with_tools):
    service, provider, source = await with_tools(tools_auto_approve=True)
    source.answers = {"lookup": 30.0}
    provider.script(*calls(("a", "lookup", {"query": "x"})))
    generation = await service.replies.send(None, "Crash", "scripted:model")
    await eventually(lambda: shows(generation, "running"))

    repository = service.conversations.repository  # as a new process would find the database
    assert repository.mark_streaming_interrupted() == 1
    assert stored_steps(service, generation)[0].status == ToolStatus.INTERRUPTED
    service.replies.stop(generation.conversation_id)


async def test_a_regenerated_reply_has_its_own_calls_and_the_old_version_keeps_its_own(with_tools):
    service, provider, _ = await with_tools()
    provider.script(*calls(("c1", "calculator", {"expression": "1+1"})))
    provider.script(TextDelta("Two."), Finish("stop"))
    first = await finished(service.replies.send(None, "1+1?", "scripted:model"))
    provider.script(TextDelta("Plainly two."), Finish("stop"))
    again = await finished(service.replies.retry(first.conversation_id, "scripted:model"))

    steps = service.conversations.repository.tool_steps([first.message_id, again.message_id])
    assert [s.result for s in steps[first.message_id]] == ["2"] and again.message_id not in steps
    assert [t.role for t in provider.requests[-1].turns] == ["user"]  # the new version starts from the question


async def test_deleting_a_conversation_deletes_its_calls(with_tools):
    service, provider, _ = await with_tools()
    provider.script(*calls(("c1", "calculator", {"expression": "1+1"})))
    generation = await finished(service.replies.send(None, "1+1?", "scripted:model"))

    await service.conversations.delete(generation.conversation_id)

    assert service.conversations.repository.tool_steps([generation.message_id]) == {}


async def test_the_tokens_of_every_round_are_counted(with_tools):
    service, provider, _ = await with_tools()
    provider.script(*calls(("c1", "calculator", {"expression": "1+1"}))[:-1], Usage(10, 5), Finish("tool_calls"))
    provider.script(TextDelta("Two."), Usage(20, 3), Finish("stop"))
    generation = await finished(service.replies.send(None, "1+1?", "scripted:model"))
    assert (generation.input_tokens, generation.output_tokens) == (30, 8)


async def test_a_big_result_is_written_once_not_again_with_each_later_change(with_tools, monkeypatch):
    service, provider, source = await with_tools(tools_auto_approve=True)
    source.answers = {"lookup": ToolOutput("y" * 1_000_000)}
    provider.script(*calls(("a", "lookup", {})))
    provider.script(*calls(("b", "fetch", {"query": "small"})))
    written_results: list[int] = []
    real_write = service.conversations.repository.write_replies

    def write_replies(pieces, finals, connection=None, steps=()):
        written_results.extend(len(fields["result"] or "") for _, fields in steps)
        return real_write(pieces, finals, connection, steps)

    monkeypatch.setattr(service.conversations.repository, "write_replies", write_replies)
    await finished(service.replies.send(None, "Big, then small", "scripted:model"))

    assert written_results.count(1_000_000) == 1


@pytest.mark.parametrize("dialect", ["openai", "anthropic", "together"])
async def test_the_loop_through_each_real_sdk_sends_the_results_back_in_its_own_shape(service_with, fakes, dialect):
    service = await service_with(builtin_tools=["calculator"])
    model = next(option for option in service.conversations.models.options if option.provider.id == dialect)
    fakes[dialect].play(
        Reply(tokens=["Working. "], tool_calls=[FakeToolCall("calculator", '{"expression": "6*7"}', id="call_1")]),
        Reply(tokens=["It is 42."]),
    )

    generation = await finished(service.replies.send(None, "6*7?", model.key))

    assert generation.status == Status.COMPLETE and generation.text == "Working. It is 42."
    assert stored_steps(service, generation)[0].result == "42"
    sent = fakes[dialect].chat_requests[-1].body["messages"]
    if dialect == "anthropic":
        assert sent[-1]["content"] == [
            {"type": "tool_result", "tool_use_id": "call_1", "content": "42", "is_error": False}
        ]
    else:
        assert sent[-1] == {"role": "tool", "tool_call_id": "call_1", "content": "42"}


async def test_the_time_the_tools_take_is_not_counted_as_writing_time(with_tools):
    service, provider, source = await with_tools(tools_auto_approve=True)
    source.answers["lookup"] = 0.5  # seconds the call takes
    provider.script(*calls(("c1", "lookup", {"query": "slow"})))
    provider.script(TextDelta("Found it."), Usage(5, 40), Finish("stop"))

    generation = await finished(service.replies.send(None, "Look it up", "scripted:model"))

    [reply] = [m for m in service.conversations.messages(generation.conversation_id) if m.id == generation.message_id]
    assert reply.tools_ms >= 500
    writing_ms = reply.duration_ms - reply.first_token_ms - reply.tools_ms
    assert 0 <= writing_ms < 400  # the model wrote for a moment; the tool took half a second
    with_tools_left_out = tokens_per_second(40, reply.first_token_ms, reply.duration_ms, reply.tools_ms)
    assert with_tools_left_out > 2 * tokens_per_second(40, reply.first_token_ms, reply.duration_ms)
    assert generation.stats()["tools_ms"] == reply.tools_ms  # the footer, live and stored, says the same
