"""What the chat says when it will not do something, and how a database write is made without blocking pages."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from app.storage.database import failure_reason

Result = TypeVar("Result")


class InputRefused(ValueError):
    """A request the person can fix: the message says how; `status` is the HTTP status that fits it."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class StorageFailed(InputRefused):
    """The database would not take a write (locked by another process, disk full): nothing was changed."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Could not save ({reason}); nothing was changed. Try again in a moment.", 503)
        self.reason = reason


async def written(write: Callable[..., Result], *args: object, **kwargs: object) -> Result:
    """A database write, on a worker thread: a locked or slow database must not stall every page and stream.
    A failure the person can retry is said in words."""
    try:
        return await asyncio.to_thread(write, *args, **kwargs)
    except (SQLAlchemyError, OSError) as error:
        raise StorageFailed(failure_reason(error)) from None


@contextlib.contextmanager
def told_nothing_was_sent() -> Iterator[None]:
    """A message that could not be stored says what became of it."""
    try:
        yield
    except StorageFailed as failure:
        message = (
            f"Could not save your message ({failure.reason}). Nothing was sent, and your text is still in the box."
        )
        raise InputRefused(message, 503) from None
