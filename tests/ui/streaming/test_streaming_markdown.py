"""A reply's element in one tab: patches go out one at a time, each after the browser says it applied the last."""

from __future__ import annotations

import asyncio
import json

import pytest
from nicegui.testing import User

from app.ui.markdown import render_markdown
from app.ui.streaming import streaming_markdown
from app.ui.streaming.incremental import IncrementalMarkdown
from app.ui.streaming.streaming_markdown import StreamingMarkdown

pytestmark = pytest.mark.usefixtures("app_env")


async def open_reply(user: User) -> tuple[StreamingMarkdown, list[str]]:
    """A page with a reply element being written, and the patch calls its browser is sent."""
    await user.open("/")
    sent: list[str] = []
    enqueue = user.client.outbox.enqueue_message

    def recording(kind: str, data: dict, target: str) -> None:
        if kind == "run_javascript" and data["code"].startswith("chatPatch("):
            sent.append(data["code"])
        enqueue(kind, data, target)

    user.client.outbox.enqueue_message = recording  # type: ignore[method-assign]
    with user.client:
        element = StreamingMarkdown.following(IncrementalMarkdown())
    return element, sent


async def sent_on(sent: list[str]) -> list[str]:
    """The calls sent so far: NiceGUI puts a call in the outbox from a task of its own."""
    await asyncio.sleep(0.02)
    return sent


def browser_says_shown(user: User, element: StreamingMarkdown, seq: int) -> None:
    """The event the browser sends once it has applied a patch, as NiceGUI's socket handler passes it on."""
    listener_id = next(id for id, listener in element._event_listeners.items() if listener.type == "shown")
    user.client.handle_event({"id": element.id, "listener_id": listener_id, "args": [json.dumps(seq)]})


async def test_a_tab_that_has_not_applied_a_patch_gets_the_next_ones_merged_once_it_has(user: User):
    element, sent = await open_reply(user)
    markdown = IncrementalMarkdown()

    first = markdown.update("Hello")
    element.apply(first)
    element.apply(markdown.update("Hello wor"))
    element.apply(markdown.update("Hello world, **again**"))
    assert len(await sent_on(sent)) == 1, "one patch in flight until the browser has applied it"

    browser_says_shown(user, element, first.seq)
    assert len(await sent_on(sent)) == 2
    assert "again" in sent[1] and "wor" in sent[1], "the two waiting patches went as one"
    assert element.html == render_markdown("Hello world, **again**")

    browser_says_shown(user, element, first.seq)  # an answer replayed after a reconnection
    element.apply(markdown.update("Hello world, **again** and again"))
    assert len(await sent_on(sent)) == 2, "an old answer does not count for the patch in flight"


async def test_a_tab_that_never_answers_still_gets_patches_slowly(user: User, monkeypatch):
    monkeypatch.setattr(streaming_markdown, "SHOWN_TIMEOUT", 0.05)
    element, sent = await open_reply(user)
    markdown = IncrementalMarkdown()

    element.apply(markdown.update("Hidden"))
    element.apply(markdown.update("Hidden tab"))
    await asyncio.sleep(0.2)

    assert len(sent) == 2 and "tab" in sent[1]
