"""The one way tests wait for something to happen: poll a check until it holds, with a deadline."""

from __future__ import annotations

import asyncio
import inspect
import time


async def eventually(check, timeout: float = 5.0) -> None:
    """Wait until `check()` neither raises AssertionError nor returns False; after `timeout` seconds, fail with
    what it last said."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            assert check() is not False
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.02)


async def finished(started):
    """The reply (or the send, retry or edit that starts it) once it has ended."""
    generation = await started if inspect.isawaitable(started) else started
    await asyncio.wait_for(generation.wait(), 10)
    return generation
