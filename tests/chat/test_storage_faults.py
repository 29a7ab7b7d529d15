"""When the database is locked by another process or cannot be written: the server keeps answering, the person is
told, nothing received is dropped, and every reply's end is stored once the database is writable again."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import time
import weakref
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

from app.chat.conversations import ConversationOptions
from app.chat.refusals import InputRefused
from app.storage.models import Status
from app.ui.streaming.live_reply import LiveReply, live_replies
from tests.chat.test_service import OPENAI, reply_row
from tests.fakes.provider_server import Reply
from tests.waiting import eventually, finished

TOKENS = [f"w{i} " for i in range(40)]


@contextmanager
def write_lock_held(database_url: str):
    """Another process's view of the database: a write transaction it keeps open."""
    holder = sqlite3.connect(make_url(database_url).database, timeout=0, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


class LoopLag:
    """The longest the event loop went without running a 10 ms timer: how long anything else had to wait."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task = asyncio.get_running_loop().create_task(self._measure())

    async def _measure(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.monotonic() - before - 0.01)

    def stop(self) -> float:
        self._task.cancel()
        return self.worst


@pytest.mark.sqlite_only
async def test_a_locked_database_neither_freezes_the_server_nor_loses_text(service_with, fakes, database_url):
    service = await service_with(database_busy_timeout=0.2)
    fakes["openai"].play(Reply(tokens=TOKENS, delay=0.03))
    generation = await service.replies.send(None, "Write while I hold the database", OPENAI)
    shown_before_stored = []
    generation.subscribe(
        lambda changed: (
            shown_before_stored.append(1)
            if not service.conversations.repository.reply_text(changed.message_id).startswith(changed.text)
            else None
        )
    )
    await eventually(lambda: len(generation.text) > 10)

    lag = LoopLag()
    with write_lock_held(database_url):
        await eventually(lambda: generation.save_warning is not None)
        assert "Saving is failing" in generation.save_warning and "locked" in generation.save_warning
        await eventually(lambda: generation.provider_done, timeout=10)  # the reply ends while the lock is held
        shown_while_locked = generation.text
        await asyncio.sleep(0.5)
        assert generation.is_running, "its end is not stored yet, so it has not ended for anyone"
        assert generation.text == shown_while_locked and len(generation.received) > len(shown_while_locked)
    await finished(generation)

    assert lag.stop() < 0.15, "the event loop was blocked"
    row = reply_row(service, generation.conversation_id)
    assert (row.status, row.content) == (Status.COMPLETE, "".join(TOKENS))
    assert generation.text == row.content and generation.save_warning is None
    assert not shown_before_stored


@pytest.mark.sqlite_only
async def test_a_message_sent_while_the_database_is_locked_is_refused_in_words(service_with, fakes, database_url):
    service = await service_with(database_busy_timeout=0.2)
    first = await finished(service.replies.send(None, "First", OPENAI))
    lag = LoopLag()

    with write_lock_held(database_url), pytest.raises(InputRefused, match="Could not save your message"):
        await service.replies.send(first.conversation_id, "Second", OPENAI)

    assert lag.stop() < 0.15
    assert [m.content for m in service.conversations.messages(first.conversation_id)] == ["First", "Hello, world!"]
    assert service.replies.active(first.conversation_id) is None, "the conversation can be used again"


async def test_a_write_that_fails_outright_is_retried_until_it_works(service, fakes, monkeypatch):
    """A full disk or a read-only file: the writes themselves fail; they are retried, and the text waits."""
    fakes["openai"].play(Reply(tokens=TOKENS, delay=0.01))
    real_write = service.conversations.repository.write_replies
    failing = {"on": True}

    def write_replies(pieces, finals, connection=None, steps=()):
        if failing["on"]:
            raise OSError(28, "No space left on device")
        return real_write(pieces, finals, connection, steps)

    monkeypatch.setattr(service.conversations.repository, "write_replies", write_replies)
    generation = await service.replies.send(None, "Go", OPENAI)
    await eventually(lambda: generation.provider_done)
    assert generation.text == "" and "No space left on device" in generation.save_warning

    failing["on"] = False
    await finished(generation)

    assert reply_row(service, generation.conversation_id).content == generation.text == "".join(TOKENS)
    assert generation.status == Status.COMPLETE


async def test_a_first_message_refused_for_its_options_leaves_no_conversation_behind(service, fakes):
    with pytest.raises(InputRefused, match="temperature"):
        await service.replies.send(None, "Hello", OPENAI, options=ConversationOptions(temperature=5))

    assert service.conversations.list() == []


async def test_replies_are_released_once_they_end_and_no_page_shows_them(service, fakes):
    fakes["openai"].play(*[Reply(tokens=["Some ", "text."]) for _ in range(20)])
    ended = []
    for number in range(20):
        generation = await service.replies.send(None, f"Question {number}", OPENAI)
        live = LiveReply.of(generation)  # as a page showing it would
        stop_watching = live.watch(lambda _patch, _generation: None)
        await finished(generation)
        stop_watching()
        ended.append(weakref.ref(generation))
        del generation, live

    gc.collect()

    assert not live_replies(), "a renderer outlived its reply"
    assert sum(ref() is not None for ref in ended) == 0, "replies that ended are still held"


@pytest.mark.sqlite_only
async def test_renaming_or_pinning_while_the_database_is_held_is_refused_without_stalling(
    service_with, fakes, database_url
):
    service = await service_with(database_busy_timeout=0.2)
    first = await finished(service.replies.send(None, "First", OPENAI))
    lag = LoopLag()

    with write_lock_held(database_url):
        for action in (
            service.conversations.rename(first.conversation_id, "New title"),
            service.conversations.pin(first.conversation_id, True),
        ):
            with pytest.raises(InputRefused, match=r"Could not save .*database is locked"):
                await action

    assert lag.stop() < 0.15
    assert service.conversations.get(first.conversation_id).title == "First"


async def test_an_api_stream_ends_with_a_storage_error_when_the_end_cannot_be_stored(service, fakes, monkeypatch):
    import json

    from app.api.events import reply_events

    def no_room(pieces, finals, connection=None, steps=()):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(service.conversations.repository, "write_replies", no_room)
    fakes["openai"].play(Reply(tokens=TOKENS[:5]))
    generation = await service.replies.send(None, "Go", OPENAI)

    events = [line async for line in reply_events(generation, patience=0.5)]

    last = json.loads(events[-1].removeprefix("data: "))
    assert last["error_code"] == "STORAGE" and last["done"] and "No space left" in last["error"]
    assert not any('"token"' in line for line in events), "nothing unstored was sent"
    monkeypatch.undo()  # the disk has room again: the end is stored after all
    await finished(generation)
    assert reply_row(service, generation.conversation_id).content == "".join(TOKENS[:5])
