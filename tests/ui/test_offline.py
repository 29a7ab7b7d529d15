"""A fresh machine, no key, no model server: the embedded model is chosen and answers."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User

from tests.ui.helpers import assert_status, eventually, replies, reply_text, send

pytestmark = pytest.mark.usefixtures("offline_env")

LOCAL_MODEL = "local:SmolLM2-135M-Instruct"


async def test_with_no_keys_and_no_servers_the_embedded_model_is_selected_and_answers(user: User):
    await user.open("/")

    [select] = user.find(kind=ui.select, content="Model").elements
    assert select.value == LOCAL_MODEL
    assert select.options == {LOCAL_MODEL: "Local · SmolLM2-135M-Instruct (offline, small)"}
    await user.should_see("How can I help?")
    await user.should_see("You are on the small offline model")

    await send(user, "What is bread made of?")

    await eventually(lambda: assert_status(replies(user)[0], "complete"), timeout=30)
    assert len(reply_text(replies(user)[0])) > 20
    await user.should_see("Local · SmolLM2-135M-Instruct (offline, small)")


@pytest.fixture
def long_replies(offline_env, monkeypatch) -> None:
    monkeypatch.setenv("MAX_OUTPUT_TOKENS", "1000")


async def test_a_reply_waiting_for_the_model_says_it_is_queued_until_the_first_is_stopped(
    long_replies, user: User, create_user
):
    await user.open("/")
    await send(user, "Tell me a long story about a baker.")
    await eventually(lambda: reply_text(replies(user)[0]) != "", timeout=30)

    neighbour = create_user()  # someone else on the same server, while that reply is still being written
    await neighbour.open("/")
    await send(neighbour, "What is bread made of?")

    await neighbour.should_see("Queued: this model writes one reply at a time; 1 reply ahead of this one.")
    assert_status(replies(neighbour)[0], "streaming")
    assert reply_text(replies(neighbour)[0]) == ""

    user.find(kind=ui.button, content="Stop").click()

    await eventually(lambda: assert_status(replies(user)[0], "stopped"))
    await eventually(lambda: reply_text(replies(neighbour)[0]) != "", timeout=10)
    await neighbour.should_not_see("Queued")
    neighbour.find(kind=ui.button, content="Stop").click()
    await eventually(lambda: assert_status(replies(neighbour)[0], "stopped"))


@pytest.fixture
def calculator_on(offline_env, monkeypatch) -> None:
    monkeypatch.setenv("BUILTIN_TOOLS", "calculator")


async def test_the_embedded_model_is_said_to_call_no_tools(calculator_on, user: User):
    await user.open("/")
    user.find(kind=ui.button, content="Settings").click()
    await user.should_see("Local · SmolLM2-135M-Instruct (offline, small) cannot call tools: none are offered to it.")
