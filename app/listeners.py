"""Callbacks to notify of a change, where one failing callback must not keep the change from the others."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, ParamSpec

log = logging.getLogger(__name__)

P = ParamSpec("P")


class Listeners(Generic[P]):
    def __init__(self, description: str) -> None:
        self.description = description  # for the log: whose listener failed
        self._callbacks: list[Callable[P, None]] = []

    def __bool__(self) -> bool:
        return bool(self._callbacks)

    def add(self, callback: Callable[P, None]) -> Callable[[], None]:
        """Register `callback`; returns the function that removes it again."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def notify(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for callback in list(self._callbacks):
            try:
                callback(*args, **kwargs)
            except Exception:  # one broken page must not stop the others, nor the reply itself
                log.exception("A listener of %s failed", self.description)
