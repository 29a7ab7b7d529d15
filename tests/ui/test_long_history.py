"""A long history opens at once: a page shows the newest messages and the first conversations, and more as the
person scrolls (static/chat.js clicks the buttons below as they come into view)."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User

from tests.seeding import seed_history
from tests.ui.helpers import drawer_titles, eventually, in_page_order, replies, reply_text, user_messages

pytestmark = pytest.mark.usefixtures("app_env")


def shown(user: User, marker: str) -> ui.element | None:
    try:
        return next(iter(user.find(marker=marker).elements))
    except AssertionError:  # the page shows none
        return None


def earlier_button(user: User) -> ui.button | None:
    return shown(user, "load-earlier")


async def test_a_long_conversation_opens_on_its_newest_messages_and_earlier_ones_load_above(user: User, database_url):
    conversation = seed_history(database_url, messages=1000)

    await user.open(f"/c/{conversation}")

    assert len(user_messages(user)) + len(replies(user)) == 20
    assert user_messages(user)[-1].startswith("Question 998:")
    assert "part 999" in reply_text(replies(user)[-1])
    assert earlier_button(user).text == "Show earlier messages (980)"
    user.find(marker="load-earlier").click()  # what static/chat.js does when it scrolls into view

    await eventually(lambda: len(user_messages(user)) == 20)
    assert user_messages(user)[0].startswith("Question 960:"), "the older page sits above the newer one"
    assert earlier_button(user).text == "Show earlier messages (960)"


async def test_scrolling_up_to_the_very_first_message_ends_the_earlier_button(user: User, database_url):
    conversation = seed_history(database_url, messages=50)
    await user.open(f"/c/{conversation}")

    user.find(marker="load-earlier").click()
    await eventually(lambda: len(user_messages(user)) == 20)
    user.find(marker="load-earlier").click()

    await eventually(lambda: len(user_messages(user)) == 25)
    assert user_messages(user)[0].startswith("Question 0:")
    assert earlier_button(user) is None
    assert [int(text.split()[1][:-1]) for text in user_messages(user)] == list(range(0, 50, 2)), "in order, once each"


async def test_only_the_last_reply_can_be_regenerated_whatever_page_it_is_on(user: User, database_url):
    conversation = seed_history(database_url, messages=100)
    await user.open(f"/c/{conversation}")
    user.find(marker="load-earlier").click()

    await eventually(lambda: len(replies(user)) == 20)
    visible = [reply for reply in replies(user) if reply.descendants() and _can_regenerate(reply)]
    assert len(visible) == 1 and "part 99" in reply_text(visible[0])


def _can_regenerate(reply: ui.element) -> bool:
    buttons = [d for d in reply.descendants() if isinstance(d, ui.button)]
    return any(b.props.get("aria-label") == "Regenerate" and b.visible for b in buttons)


async def test_the_drawer_lists_conversations_a_page_at_a_time_grouped_by_when_they_were_used(user: User, database_url):
    seed_history(database_url, conversations=120, days=60)

    await user.open("/")

    assert len(drawer_titles(user)) == 50
    headings = [label.text for label in in_page_order(user, "conversation-group")]
    assert headings[:1] == ["Today"] and "Previous 7 days" in headings and headings[-1] == "Previous 30 days"
    user.find(marker="load-more").click()
    await eventually(lambda: len(drawer_titles(user)) == 100)
    user.find(marker="load-more").click()
    await eventually(lambda: len(drawer_titles(user)) == 120)
    assert drawer_titles(user) == [f"Conversation {i}" for i in range(120)]
    assert [label.text for label in in_page_order(user, "conversation-group")][-1] == "Older"
    assert shown(user, "load-more") is None, "all are listed"


async def test_opening_a_conversation_far_down_the_list_shows_the_list_down_to_it(user: User, database_url):
    seed_history(database_url, conversations=200)
    await user.open("/")
    user.find(marker="load-more").click()
    await eventually(lambda: len(drawer_titles(user)) == 100)
    user.find(marker="load-more").click()
    await eventually(lambda: len(drawer_titles(user)) == 150)
    link = next(c for c in user.find(kind=ui.link).elements if c.text == "Conversation 130")

    await user.open(link.props["href"])

    assert len(drawer_titles(user)) == 150
    current = next(c for c in user.find(kind=ui.link).elements if c.text == "Conversation 130")
    assert current.props.get("aria-current") == "page" and current.props["title"] == "Conversation 130"


async def test_reading_far_back_keeps_a_bounded_number_of_messages_and_the_latest_come_back(user: User, database_url):
    conversation = seed_history(database_url, messages=600)
    await user.open(f"/c/{conversation}")

    for loaded in range(2, 15):
        user.find(marker="load-earlier").click()
        await eventually(lambda n=loaded: earlier_button(user).text == f"Show earlier messages ({600 - 20 * n})")

    assert len(user_messages(user)) + len(replies(user)) == 200, "ten pages at most"
    assert user_messages(user)[0].startswith("Question 320:") and user_messages(user)[-1].startswith("Question 518:")
    user.find(marker="show-latest").click()

    await eventually(lambda: "part 599" in reply_text(replies(user)[-1]))
    assert len(replies(user)) == 10 and shown(user, "show-latest") is None
