"""The API and the pages share one chat: replies started over HTTP show in open tabs; keys are made in the UI."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import ui
from nicegui.testing import User

from app.api.events import reply_events
from tests.fakes.provider_server import Reply
from tests.ui.helpers import assert_status, eventually, replies, reply_text, send

ENV_KEY = "chat-key-from-the-environment"


@pytest.fixture
def api_env(app_env, monkeypatch):
    monkeypatch.setenv("CHAT_API_KEY", ENV_KEY)
    return app_env


def open_conversation_id(user: User) -> str:
    link = next(e for e in user.find(kind=ui.link).elements if "current" in e.classes)
    return link.props["href"].removeprefix("/c/")


async def test_a_reply_started_over_the_api_shows_in_an_open_tab_of_that_conversation(api_env, user: User):
    await user.open("/")
    await send(user, "First, typed in the page")
    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    api_env["openai"].play(Reply(tokens=["From ", "the ", "API."], delay=0.05))

    response = await user.http_client.post(
        "/api/chat",
        json={"message": "Second, from a script", "conversation_id": open_conversation_id(user), "stream": False},
        headers={"Authorization": f"Bearer {ENV_KEY}"},
    )

    assert response.status_code == 200 and response.json()["text"] == "From the API."
    await user.should_see("Second, from a script")
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))
    assert "From the API." in reply_text(replies(user)[-1])


async def test_an_api_key_made_in_the_ui_is_shown_once_works_and_can_be_revoked(api_env, user: User):
    await user.open("/")
    user.find(kind=ui.button, content="API keys").click()
    user.find("Key name").type("laptop script")

    user.find(kind=ui.button, content="Create key").click()

    await user.should_see("Copy this key now: it is not shown again.")
    [shown] = user.find(marker="new-api-key").elements
    key = shown.value
    headers = {"Authorization": f"Bearer {key}"}
    assert (await user.http_client.get("/api/models", headers=headers)).status_code == 200
    await user.should_see("laptop script")

    user.find(kind=ui.button, content="Revoke").click()
    await user.should_see("Revoke “laptop script”?")  # it asks first
    user.find(marker="revoke-confirm").click()

    await user.should_see("No keys yet.")
    assert (await user.http_client.get("/api/models", headers=headers)).status_code == 401


async def test_a_quiet_stream_sends_keep_alive_comments(service, fakes):
    fakes["openai"].play(Reply(tokens=["late"], delay=0.3))
    generation = await service.replies.send(None, "Take your time", "openai:gpt-4o-mini")

    events = [event async for event in reply_events(generation, keep_alive=0.05)]

    assert events[0] == ": keep-alive\n\n"
    assert '"token": "late"' in "".join(events) and '"done": true' in events[-1]
    await asyncio.wait_for(generation.wait(), 5)
