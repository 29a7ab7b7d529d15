"""Regenerate and edit: each makes a new version, and the older ones stay a click away (‹ 1/2 ›)."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from tests.fakes.provider_server import Reply
from tests.ui.helpers import assert_status, click_labelled, eventually, replies, reply_text, send, user_messages

pytestmark = pytest.mark.usefixtures("app_env")


async def test_regenerate_writes_a_new_version_of_the_reply(user: User, app_env):
    app_env["openai"].play(Reply(tokens=["First ", "try."]), Reply(tokens=["Second ", "try."]))
    await user.open("/")
    await send(user, "Tell me a joke")
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))

    click_labelled(user, "Regenerate")

    await eventually(lambda: "Second try." in reply_text(replies(user)[-1]))
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))
    await user.should_see("2/2")
    assert len(replies(user)) == 1, "the new version takes the old one's place"
    click_labelled(user, "Previous version")
    await eventually(lambda: "First try." in reply_text(replies(user)[-1]))
    await user.should_see("1/2")


async def test_editing_a_message_resends_it_and_keeps_the_original_branch(user: User, app_env):
    app_env["openai"].play(Reply(tokens=["Paris."]), Reply(tokens=["Lyon is nice."]), Reply(tokens=["Rome."]))
    await user.open("/")
    await send(user, "Capital of France?")
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))
    await send(user, "A city to visit?")
    await eventually(lambda: "Lyon is nice." in reply_text(replies(user)[-1]))
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))  # else the edit waits for it, refused

    click_labelled(user, "Edit", index=0)
    user.find(marker="edit-box").clear().type("Capital of Italy?")
    click_labelled(user, "Save and send")

    await eventually(lambda: "Rome." in reply_text(replies(user)[-1]))
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))  # versions switch once it is written
    assert user_messages(user) == ["Capital of Italy?"], "what followed the edited message is on the other branch"
    sent = app_env["openai"].chat_requests[-1].body["messages"]
    assert [m["content"] for m in sent] == ["Capital of Italy?"]
    click_labelled(user, "Previous version", index=0)
    await eventually(lambda: user_messages(user) == ["Capital of France?", "A city to visit?"])
    assert "Lyon is nice." in reply_text(replies(user)[-1])
