"""Storage on a real SQLite file: what was seen survives cancellation, crashes and restarts."""

from __future__ import annotations

import asyncio

import pytest

from app.storage.database import create_database
from app.storage.models import Role, Status
from app.storage.repository import ChatRepository
from tests.fakes.provider_server import Reply
from tests.waiting import eventually


def reopen(database_url: str) -> ChatRepository:
    """A fresh engine on the same file, as after a restart."""
    return ChatRepository(create_database(database_url))


async def test_partial_text_survives_a_cancelled_task(service, fakes, database_url):
    fakes["openai"].play(Reply(tokens=[f"part{i} " for i in range(300)], delay=0.01))
    generation = await service.replies.send(None, "Tell me", "openai:gpt-4o-mini")
    await eventually(lambda: len(generation.text) >= 40)

    generation.task.cancel()  # not a Stop: whatever cancels the task, the text must be written
    await asyncio.gather(generation.task, return_exceptions=True)

    reply = reopen(database_url).messages(generation.conversation_id)[-1]
    assert reply.content == generation.text and len(reply.content) >= 40
    assert reply.status == Status.INTERRUPTED


def test_start_up_marks_replies_left_streaming_by_a_crash_as_interrupted(database_url):
    before_crash = reopen(database_url)
    conversation = before_crash.create_conversation("openai:gpt-4o-mini")
    before_crash.add_message(conversation.id, Role.USER, "Hi", Status.COMPLETE, "openai:gpt-4o-mini")
    reply = before_crash.add_message(conversation.id, Role.ASSISTANT, "", Status.STREAMING, "openai:gpt-4o-mini")
    before_crash.save_reply(reply.id, content="Half of what was se")
    finished = before_crash.add_message(conversation.id, Role.ASSISTANT, "Done.", Status.COMPLETE, "x")

    after_restart = reopen(database_url)
    assert after_restart.mark_streaming_interrupted() == 1

    rows = {m.id: m for m in after_restart.messages(conversation.id)}
    assert (rows[reply.id].status, rows[reply.id].content) == (Status.INTERRUPTED, "Half of what was se")
    assert rows[finished.id].status == Status.COMPLETE


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(database_url):
    engine = create_database(database_url)

    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_conversations_are_listed_newest_first_and_ids_are_unguessable(database_url):
    repository = reopen(database_url)
    first = repository.create_conversation("m")
    second = repository.create_conversation("m")
    repository.add_message(first.id, Role.USER, "Bump the first", Status.COMPLETE, "m")

    assert [c.id for c in repository.list_conversations()] == [first.id, second.id]
    assert len(first.id) >= 20 and first.id != second.id


def test_a_title_is_the_first_words_of_the_first_message(database_url):
    repository = reopen(database_url)
    conversation = repository.create_conversation("m")
    question = "  Why   is the\nsky blue? " + "and more " * 20
    repository.add_message(conversation.id, Role.USER, question, Status.COMPLETE, "m")
    repository.add_message(conversation.id, Role.USER, "Second question", Status.COMPLETE, "m")

    title = repository.get_conversation(conversation.id).title
    assert title.startswith("Why is the sky blue? and more") and title.endswith("…") and len(title) <= 60


def test_any_text_is_stored_unchanged_nul_and_private_use_characters_included(database_url):
    odd = "a\x00b \ue000 \ue000\ue001 \ue000\ue002 \x00\x00 end"
    repository = reopen(database_url)
    conversation = repository.create_conversation("m")
    question = repository.add_message(conversation.id, Role.USER, odd, Status.COMPLETE, "m")
    reply = repository.add_message(conversation.id, Role.ASSISTANT, "", Status.STREAMING, "m")
    repository.write_replies([(reply.id, odd), (reply.id, "\x00")], [])
    assert repository.reply_text(reply.id) == odd + "\x00"
    repository.write_replies([], [(reply.id, {"content": odd, "status": Status.ERROR, "error": odd})])
    repository.configure_conversation(conversation.id, odd, None, None)

    again = reopen(database_url)
    stored = {m.id: m for m in again.messages(conversation.id)}
    assert stored[question.id].content == odd
    assert (stored[reply.id].content, stored[reply.id].error) == (odd, odd)
    assert again.get_conversation(conversation.id).system_prompt == odd


@pytest.mark.parametrize("typed", ["cafe", "CAFÉ", "Café", "caf", "naive creme", "crème brûlée"])
def test_search_ignores_case_and_accents(database_url, typed):
    repository = reopen(database_url)
    found = repository.create_conversation("m")
    repository.add_message(found.id, Role.USER, "A naïve café serving crème brûlée", Status.COMPLETE, "m")
    other = repository.create_conversation("m")
    repository.add_message(other.id, Role.USER, "Tea and scones", Status.COMPLETE, "m")

    assert [c.id for c in repository.search_conversations(typed)] == [found.id]


def test_a_renamed_title_is_found_without_its_accents(database_url):
    repository = reopen(database_url)
    conversation = repository.create_conversation("m")
    repository.add_message(conversation.id, Role.USER, "Hello", Status.COMPLETE, "m")
    repository.rename_conversation(conversation.id, "Señor Über")

    assert [c.id for c in repository.search_conversations("senor uber")] == [conversation.id]
