"""Storage on a real SQLite file: what was seen survives cancellation, crashes and restarts."""

from __future__ import annotations

import asyncio
import sqlite3

from app.storage.database import create_database
from app.storage.models import Role, Status
from app.storage.repository import ChatRepository
from tests.fakes.provider_server import Reply


def reopen(database_url: str) -> ChatRepository:
    """A fresh engine on the same file, as after a restart."""
    return ChatRepository(create_database(database_url))


async def test_partial_text_survives_a_cancelled_task(service, fakes, database_url):
    fakes["openai"].play(Reply(tokens=[f"part{i} " for i in range(300)], delay=0.01))
    generation = await service.send(None, "Tell me", "openai:gpt-4o-mini")
    while len(generation.text) < 40:
        await asyncio.sleep(0.01)

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


def test_a_database_from_an_earlier_version_gains_the_new_columns_and_keeps_its_messages(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        # The message table as the first release made it: no `note` column yet.
        old.executescript(
            """
            CREATE TABLE conversation (id VARCHAR(64) PRIMARY KEY, title VARCHAR NOT NULL, model VARCHAR NOT NULL,
                created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
            CREATE TABLE message (id INTEGER PRIMARY KEY,
                conversation_id VARCHAR(64) NOT NULL REFERENCES conversation(id), role VARCHAR(9) NOT NULL,
                content VARCHAR NOT NULL, status VARCHAR(11) NOT NULL, error VARCHAR,
                model VARCHAR, finish_reason VARCHAR, input_tokens INTEGER, output_tokens INTEGER,
                created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
            INSERT INTO conversation VALUES ('c1', 'Old chat', 'openai:gpt-4o',
                '2026-01-01 00:00:00', '2026-01-01 00:00:00');
            INSERT INTO message VALUES (1, 'c1', 'USER', 'Hello from last year', 'COMPLETE',
                NULL, NULL, NULL, NULL, NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00');
            INSERT INTO message VALUES (2, 'c1', 'ASSISTANT', 'Hello back', 'COMPLETE',
                NULL, NULL, NULL, NULL, NULL, '2026-01-01 00:00:01', '2026-01-01 00:00:01');
            """
        )

    repository = reopen(f"sqlite:///{path}")

    message, reply = repository.messages("c1")
    assert (message.content, message.note) == ("Hello from last year", None)
    repository.save_reply(message.id, note="kept")
    assert repository.messages("c1")[0].note == "kept"
    # Before branches a conversation was its messages in order: each now follows the one before.
    assert (message.parent_id, reply.parent_id) == (None, 1)
    assert repository.get_conversation("c1").leaf_id == 2
