"""What the UI tests look at and do, as a person would: find by label, marker or text; wait until shown."""

from __future__ import annotations

import contextlib

from nicegui import ui
from nicegui.testing import User

from app.ui.streaming.streaming_markdown import StreamingMarkdown
from tests.waiting import eventually


def in_page_order(user: User, marker: str) -> list[ui.element]:
    """The elements with `marker`, top to bottom as the page shows them (older messages load above newer ones)."""
    found = user.find(marker=marker).elements
    return [element for element in user.client.layout.descendants() if element in found]


def replies(user: User) -> list[ui.element]:
    return in_page_order(user, "reply")


def reply_text(reply: ui.element) -> str:
    """The reply's HTML as the browser has it after applying every patch (each segment's, where it called tools)."""
    return "".join(e.html for e in reply.descendants() if isinstance(e, StreamingMarkdown))


def user_messages(user: User) -> list[str]:
    elements = in_page_order(user, "user-message")
    return [
        label.text
        for element in elements
        for label in element.descendants()
        if isinstance(label, ui.label) and "msg-text" in label.classes
    ]


def status_of(reply: ui.element) -> str:
    return reply.props["data-status"]


def button(user: User, name: str) -> ui.button:
    """The button, shown or hidden (`user.find` sees only what is shown)."""
    return next(e for e in user.current_layout.descendants() if isinstance(e, ui.button) and e.text == name)


async def send(user: User, text: str) -> None:
    """Type and press Send, then wait until the page shows the message or says why not: the send is stored
    first, so a test that looked at once would find the reply before it (the last one shown, maybe complete)."""
    shown, said = shown_count(user, "user-message"), len(user.notify.messages)
    user.find("Message").type(text)
    user.find(kind=ui.button, content="Send").click()
    with contextlib.suppress(AssertionError):
        await eventually(
            lambda: shown_count(user, "user-message") > shown or len(user.notify.messages) > said, timeout=5
        )


def shown_count(user: User, marker: str) -> int:
    try:
        return len(user.find(marker=marker).elements)
    except AssertionError:  # none at all
        return 0


def assert_status(reply: ui.element, expected: str) -> None:
    assert status_of(reply) == expected


def click_labelled(user: User, label: str, index: int = -1) -> None:
    """Click a button known by its accessible name only (an icon button): the last one shown, by default."""
    from nicegui.testing.user_interaction import UserInteraction

    labelled = [e for e in user.find(kind=ui.button).elements if e.props.get("aria-label") == label and e.visible]
    labelled.sort(key=lambda element: element.id)
    UserInteraction(user, {labelled[index]}, label).click()


def drawer_titles(user: User) -> list[str]:
    """The conversations in the drawer, top to bottom."""
    rows = user.find(marker="conversation").elements
    if not rows:
        return []
    column = next(iter(rows)).parent_slot.parent
    ordered = [child for child in column.default_slot.children if child in rows]
    return [link.text for row in ordered for link in row.descendants() if isinstance(link, ui.link)]


def open_conversation_id(user: User) -> str:
    """The open conversation's id, from its highlighted entry in the drawer."""
    link = next(e for e in user.find(kind=ui.link).elements if "current" in e.classes)
    return link.props["href"].removeprefix("/c/")
