"""What every action on a page goes through: the session must still be signed in (the page may have been open
since it was signed out), and a request the service refuses is said to the person, not raised."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from nicegui import ui

from app.chat.refusals import InputRefused

Params = ParamSpec("Params")
Result = TypeVar("Result")


class Refused:
    """What `Guard.run` returns when the action did not happen (signed out, or refused and said so)."""

    def __repr__(self) -> str:
        return "REFUSED"


REFUSED = Refused()


class Guard:
    def __init__(self, signed_in: Callable[[], bool]) -> None:
        self.signed_in = signed_in  # navigates to the login page when it says False

    async def run(
        self, action: Callable[Params, Awaitable[Result]], *args: Params.args, **kwargs: Params.kwargs
    ) -> Result | Refused:
        if not self.signed_in():
            return REFUSED
        try:
            return await action(*args, **kwargs)
        except InputRefused as refusal:
            ui.notify(str(refusal), type="warning", multi_line=True)
            return REFUSED
