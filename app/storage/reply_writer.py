"""Replies are written on a thread of their own, so a slow, locked or full database never stalls the event loop,
and text is shown only once it is stored.

The event loop hands over what a reply has received so far (`ReplyRecord`); the thread writes whatever is new
for every reply in one transaction, then tells the loop how much of each is now durable. While a transaction is
under way, new text collects and goes into the next one, so a fast stream costs a bounded number of commits, not
one per token. A failing write is retried with backoff for as long as it takes: nothing received is dropped, and
the loop is told of the failure (to warn the person) and of the recovery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from app.storage.database import failure_reason
from app.storage.repository import ChatRepository

log = logging.getLogger(__name__)

# After each commit the thread waits this long, so the tokens that arrive meanwhile share the next commit: at most
# ~125 commits a second, and a token waits at most this long (half a frame) before it can be shown. Measured with
# benchmarks/stream.py: 4 ms cost ~40% more server CPU per token for no gain in latency on screen.
GROUP_SECONDS = 0.008
FIRST_RETRY_SECONDS = 0.05
LONGEST_RETRY_SECONDS = 2.0


@dataclass(eq=False)
class ReplyRecord:
    """One reply as the writer sees it. The loop sets `text` (everything received) and, at the end, `final`; the
    thread alone sets `written` and `steps_written`. Callbacks run on the loop: `on_written(length, steps,
    final_written)` once the first `length` characters, the tool steps `steps` (None: unchanged) and the final
    state, if set, are stored; `on_failing(reason)` while writes fail."""

    message_id: int
    on_written: Callable[[int, tuple | None, bool], None]
    on_failing: Callable[[str], None]
    text: str = ""
    final: dict | None = None
    written: int = 0
    # The reply's tool steps as they are now (a new tuple on every change; each step a read model with a
    # `position`), and the tuple stored last.
    steps: tuple = ()
    steps_written: tuple = ()
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.get_running_loop)


class ReplyWriter:
    def __init__(self, repository: ChatRepository) -> None:
        self.repository = repository
        self._changed = threading.Condition(threading.Lock())  # save() takes it for every token: no RLock needed
        self._waiting: dict[int, ReplyRecord] = {}
        self._closed = False
        self._give_up_at = float("inf")  # once closed: how long a failing write is still retried
        self._thread: threading.Thread | None = None

    def save(self, record: ReplyRecord) -> None:
        """Write what is new in `record` soon (called on the loop after `text` or `final` changed)."""
        with self._changed:
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_forever, name="reply-writer", daemon=True)
                self._thread.start()
            self._waiting[record.message_id] = record
            self._changed.notify()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is waiting (for up to `timeout` seconds), then stop. What could not be written is in the
        database's pieces already, or was never shown; start-up marks such a reply interrupted."""
        with self._changed:
            self._closed = True
            self._give_up_at = time.monotonic() + timeout
            self._changed.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def _write_forever(self) -> None:
        retry_in = 0.0
        connection: Connection | None = None  # kept from one batch to the next: no pool round trip per commit
        try:
            while (batch := self._next_batch()) is not None:
                if connection is None:
                    connection = self._connect()
                wrote_some, retry_in = bool(batch), self._write(batch, retry_in, connection)
                del batch  # while waiting for the next one, this thread holds no reply: ended ones can be freed
                if wrote_some and not retry_in:
                    time.sleep(GROUP_SECONDS)  # holding nothing: a reply that just ended is not kept alive
                if retry_in:
                    self._drop(connection)  # a broken connection must not be the next try's
                    connection = None
                    if self._closed_after(retry_in):
                        return
        finally:
            self._drop(connection)

    def _connect(self) -> Connection | None:
        try:
            return self.repository.engine.connect()
        except (SQLAlchemyError, OSError):
            return None  # the write below opens one of its own, and fails or not in the usual way

    @staticmethod
    def _drop(connection: Connection | None) -> None:
        if connection is not None:
            with contextlib.suppress(SQLAlchemyError, OSError):
                connection.close()

    def _write(self, batch: list[ReplyRecord], retry_in: float, connection: Connection | None) -> float:
        """One transaction for the batch; returns how long to wait before retrying it (0: it worked)."""
        if not batch:
            return retry_in
        snapshot = [(record, record.text, record.final, record.steps) for record in batch]
        try:
            self.repository.write_replies(*_pieces_and_finals(snapshot), connection=connection, steps=_steps(snapshot))
        except Exception as error:  # the database's (locked, full, gone) or not: the writer must live on
            if not isinstance(error, SQLAlchemyError | OSError):
                log.exception("Saving replies failed unexpectedly")
            retry_in = min(LONGEST_RETRY_SECONDS, retry_in * 2 or FIRST_RETRY_SECONDS)
            self._failed(batch, error, retry_in)
            return retry_in
        if retry_in:
            log.warning("Saving replies works again")
        for record, text, final, steps in snapshot:
            record.written = len(text)
            new_steps = steps if steps is not record.steps_written else None
            record.steps_written = steps
            _tell(record, record.on_written, len(text), new_steps, final is not None)
        return 0.0

    def _next_batch(self) -> list[ReplyRecord] | None:
        """The replies with something new to write, once there are any; None once closed with nothing left."""
        with self._changed:
            while not self._waiting and not self._closed:
                self._changed.wait()
            if not self._waiting:
                return None
            batch = [r for r in self._waiting.values() if r.final is not None or _has_news(r)]
            self._waiting.clear()
            return batch

    def _failed(self, batch: list[ReplyRecord], error: Exception, retry_in: float) -> None:
        reason = failure_reason(error)
        if retry_in == FIRST_RETRY_SECONDS:
            # A warning, not an error: nothing is lost, and the person is told; it is retried until it works.
            log.warning("Saving replies failed (%s); retrying until the database is writable", reason)
        with self._changed:
            for record in batch:
                # Newer text may have come for a reply meanwhile: it is the same record, so nothing is lost.
                self._waiting.setdefault(record.message_id, record)
        for record in batch:
            _tell(record, record.on_failing, reason)

    def _closed_after(self, seconds: float) -> bool:
        """Wait before the next try; True when the writer was closed and its time to finish is up."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed, seconds)
        if not self._closed:
            return False
        time.sleep(max(0.0, min(seconds, self._give_up_at - time.monotonic())))
        return time.monotonic() >= self._give_up_at


Snapshot = list[tuple[ReplyRecord, str, dict | None, tuple]]


def _has_news(record: ReplyRecord) -> bool:
    return len(record.text) > record.written or record.steps is not record.steps_written


def _pieces_and_finals(snapshot: Snapshot) -> tuple[list, list]:
    """What is new of each reply still being written, and the whole of each reply that ended."""
    pieces = [(record.message_id, text[record.written :]) for record, text, final, _ in snapshot if final is None]
    finals = [(record.message_id, {**final, "content": text}) for record, text, final, _ in snapshot if final]
    return pieces, finals


def _steps(snapshot: Snapshot) -> list[tuple[int, dict]]:
    """The tool steps that changed since they were last stored (a step is a new snapshot when it changes), as they
    are now: a 10 MB result is written once, not again with every later change of the reply."""
    return [
        (record.message_id, step.model_dump())
        for record, _, _, steps in snapshot
        if steps is not record.steps_written
        for position, step in enumerate(steps)
        if position >= len(record.steps_written) or step is not record.steps_written[position]
    ]


def _tell(record: ReplyRecord, callback: Callable[..., None], *args: object) -> None:
    """Run `callback(*args)` on the reply's event loop; one that has closed (the server is gone) hears nothing."""
    with contextlib.suppress(RuntimeError):
        record.loop.call_soon_threadsafe(callback, *args)
