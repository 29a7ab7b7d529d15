"""Export and import on real databases: our own JSON restores conversations exactly."""

from __future__ import annotations

import json
from contextlib import ExitStack

import pytest

from app.chat.exchange import ImportRefused, export_json, export_markdown, import_json
from app.storage.database import create_database
from app.storage.models import Role, Status, ToolStatus, ToolStepPublic
from app.storage.repository import ChatRepository
from tests.conftest import fresh_database


@pytest.fixture
def repository_at(database_kind, tmp_path, request):
    """Another empty database of the same kind, by name: where an export is restored."""
    with ExitStack() as databases:

        def make(name: str) -> ChatRepository:
            folder = tmp_path / name
            folder.mkdir()
            return ChatRepository(
                create_database(databases.enter_context(fresh_database(database_kind, folder, request)))
            )

        yield make


@pytest.fixture
def filled(database_url) -> ChatRepository:
    repository = ChatRepository(create_database(database_url))
    first = repository.create_conversation("openai:gpt-4o-mini")
    repository.add_message(first.id, Role.USER, "Bread? \u202eRTL\u202c שלום NUL[\0] \x1b[31m", Status.COMPLETE, "m")
    reply = repository.add_message(first.id, Role.ASSISTANT, "", Status.STREAMING, "openai:gpt-4o-mini")
    repository.save_reply(
        reply.id,
        content="**Flour**, water",
        status=Status.STOPPED,
        output_tokens=4,
        first_token_ms=210,
        duration_ms=900,
    )
    step = ToolStepPublic(
        call_id="call_1",
        name="lookup",
        tool="lookup",
        source="kitchen",
        arguments='{"query": "flour\\u0000"}',
        status=ToolStatus.COMPLETE,
        result="<script>alert(1)</script> NUL[\0]",
        text_offset=4,
        duration_ms=12,
    )
    repository.write_replies([], [], steps=[(reply.id, step.model_dump())])
    repository.set_system_prompt(first.id, "Be brief.")
    repository.pin_conversation(first.id, True)
    second = repository.create_conversation("anthropic:claude-haiku-4-5")
    repository.add_message(second.id, Role.USER, "Failed one", Status.COMPLETE, "anthropic:claude-haiku-4-5")
    failed = repository.add_message(second.id, Role.ASSISTANT, "", Status.STREAMING, "anthropic:claude-haiku-4-5")
    repository.save_reply(failed.id, status=Status.ERROR, error="Anthropic: the service is overloaded.", note="n")
    return repository


def every_id(repository: ChatRepository) -> list[str]:
    return [conversation.id for conversation in repository.list_conversations(limit=None)]


def test_an_export_imported_into_an_empty_database_is_restored_exactly(filled, repository_at):
    exported = export_json(filled, every_id(filled))
    restored = repository_at("restored")

    assert import_json(restored, exported) == 2

    assert export_json(restored, every_id(restored)) == exported
    [reply] = [m for m in json.loads(exported)["conversations"][0]["messages"] if m["tool_steps"]]
    assert reply["tool_steps"][0]["result"] == "<script>alert(1)</script> NUL[\0]"
    assert [c.title for c in restored.list_conversations()] == [c.title for c in filled.list_conversations()]
    assert restored.search_conversations("flour"), "imported text is searchable"


def test_importing_the_same_export_twice_adds_nothing_the_second_time(filled):
    exported = export_json(filled, every_id(filled))

    assert import_json(filled, exported) == 0
    assert len(every_id(filled)) == 2


@pytest.mark.parametrize(
    "raw",
    [b"not json at all", b'{"format": "something-else", "conversations": []}', b"[1, 2, 3]"],
    ids=["not JSON", "another format", "a list"],
)
def test_a_file_that_is_not_our_export_is_refused_with_a_message(filled, raw):
    with pytest.raises(ImportRefused):
        import_json(filled, raw)


def test_a_damaged_export_imports_nothing(filled, repository_at):
    data = json.loads(export_json(filled, every_id(filled)))
    del data["conversations"][1]["messages"][0]["role"]
    restored = repository_at("restored")

    with pytest.raises(ImportRefused, match="damaged"):
        import_json(restored, json.dumps(data))

    assert every_id(restored) == []


def test_markdown_export_reads_like_the_conversation(filled):
    text = export_markdown(filled, every_id(filled))

    assert "# Bread?" in text and "*System prompt:* Be brief." in text
    assert "## Assistant (openai:gpt-4o-mini) — *stopped*\n\n**Flour**, water" in text
    assert "> Error: Anthropic: the service is overloaded." in text
    assert "*Tool call: `lookup` (kitchen), complete*" in text and "```text\n<script>alert(1)</script>" in text


def test_branches_survive_the_round_trip_even_when_message_ids_are_taken(filled, repository_at):
    conversation_id = filled.list_conversations()[0].id
    question = filled.messages(conversation_id)[0]
    filled.add_message(conversation_id, Role.USER, "Edited question", Status.COMPLETE, "m", parent_id=None)
    exported = export_json(filled, every_id(filled))
    busy = repository_at("busy")
    other = busy.create_conversation("m")
    for number in range(10):  # this database already has messages with the exported ids
        busy.add_message(other.id, Role.USER, f"taken {number}", Status.COMPLETE, "m")

    assert import_json(busy, exported) == 2

    restored = busy.get_conversation(conversation_id)
    leaf = next(m for m in busy.messages(conversation_id) if m.id == restored.leaf_id)
    assert leaf.content == "Edited question" and leaf.parent_id is None
    first_answer = next(m for m in busy.messages(conversation_id) if m.content == "**Flour**, water")
    assert busy.messages(conversation_id)[0].id == first_answer.parent_id
    assert question.id != busy.messages(conversation_id)[0].id, "ids were taken, so new ones were given"
