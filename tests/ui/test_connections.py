"""Connecting a provider from the app: tested against the fake Anthropic server with the real SDK, kept with its
key sealed outside the database, offered in the Model selector at once, and never shown back to a page."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from tests.fakes.provider_server import FakeProviderServer, Reply
from tests.ui.helpers import assert_status, eventually, replies, send


@pytest.fixture
def anthropic_unset(app_env, monkeypatch) -> FakeProviderServer:
    """The fakes as usual, but Anthropic is not in the environment: it is to be connected from the page."""
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.delenv("ANTHROPIC_BASE_URL")
    return app_env["anthropic"]


def card(user: User, kind: str) -> ui.card:
    return next(iter(user.find(marker=f"connection-{kind}").elements))


def field(user: User, kind: str, label: str) -> ui.input:
    return next(e for e in card(user, kind).descendants() if isinstance(e, ui.input) and e.props.get("label") == label)


def press(user: User, name: str) -> None:
    from nicegui.testing.user_interaction import UserInteraction

    found = next(b for b in user.find(kind=ui.button).elements if b.props.get("aria-label") == name)
    UserInteraction(user, {found}, name).click()


def model_options(user: User) -> list[str]:
    return list(next(iter(user.find(kind=ui.select, content="Model").elements)).options.values())


async def connect_anthropic(user: User, fake: FakeProviderServer) -> None:
    await user.open("/connections")
    field(user, "anthropic", "API key").set_value(fake.api_key)
    field(user, "anthropic", "Address (optional)").set_value(fake.base_url)
    press(user, "Save Anthropic")
    await user.should_see("Anthropic connected")


async def test_a_provider_is_tested_saved_and_offered_without_editing_any_file(anthropic_unset, user: User):
    fake = anthropic_unset
    await user.open("/")
    assert not any(option.startswith("Anthropic") for option in model_options(user))
    await user.open("/connections")
    await user.should_see("Set by OPENAI_API_KEY where the server was started")

    field(user, "anthropic", "API key").set_value("sk-ant-wrong-key-0000")
    field(user, "anthropic", "Address (optional)").set_value(fake.base_url)
    press(user, "Test Anthropic")
    await user.should_see("Anthropic")
    await eventually(lambda: "key" in result_text(user).lower() or "401" in result_text(user))
    field(user, "anthropic", "API key").set_value(fake.api_key)
    press(user, "Test Anthropic")
    await eventually(lambda: result_text(user).startswith("It works"))
    press(user, "Save Anthropic")

    await user.should_see("Anthropic connected")
    await user.open("/")
    assert any(option.startswith("Anthropic · ") for option in model_options(user))
    model = next(key for key, label in select_of(user).options.items() if label.startswith("Anthropic"))
    select_of(user).set_value(model)
    fake.play(Reply(tokens=["Connected ", "and answering."]))
    await send(user, "Hello Claude")
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))
    assert fake.chat_requests[-1].body["messages"][-1]["content"] == "Hello Claude"


def result_text(user: User) -> str:
    try:
        return " ".join(label.text for label in user.find(marker="connection-result").elements)
    except AssertionError:
        return ""


def select_of(user: User) -> ui.select:
    return next(iter(user.find(kind=ui.select, content="Model").elements))


async def test_the_key_is_sealed_at_rest_and_never_sent_back_to_a_page(anthropic_unset, user: User, tmp_path):
    await connect_anthropic(user, anthropic_unset)

    page = (await user.http_client.get("/connections")).text
    assert anthropic_unset.api_key not in page
    hint = f"{anthropic_unset.api_key[:3]}…{anthropic_unset.api_key[-4:]}"
    await user.open("/connections")
    await user.should_see(f"Connected · key {hint}")
    assert anthropic_unset.api_key.encode() not in Path(tmp_path / "chat.db").read_bytes()
    key_file = tmp_path / "connections.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600, "readable by the server's user alone"


async def test_a_saved_key_is_kept_when_the_address_is_edited_and_removing_takes_its_models_away(
    anthropic_unset, user: User
):
    await connect_anthropic(user, anthropic_unset)
    await user.open("/connections")
    assert field(user, "anthropic", "API key").value == "", "the key is not filled back in"

    press(user, "Test Anthropic")  # with the saved key
    await eventually(lambda: result_text(user).startswith("It works"))
    press(user, "Remove Anthropic")

    await user.should_see("Anthropic removed.")
    await user.open("/")
    assert not any(option.startswith("Anthropic") for option in model_options(user))


async def test_an_address_that_is_not_http_is_refused(anthropic_unset, user: User):
    await user.open("/connections")
    field(user, "anthropic", "API key").set_value("sk-ant-something-long")
    field(user, "anthropic", "Address (optional)").set_value("file:///etc/passwd")

    press(user, "Save Anthropic")

    await eventually(lambda: "must start with http" in result_text(user))


@pytest.fixture
def gemini_fake() -> FakeProviderServer:
    server = FakeProviderServer("gemini").start()
    yield server
    server.stop()


async def test_gemini_is_connected_from_the_page_too(app_env, gemini_fake, user: User):
    await user.open("/connections")
    field(user, "gemini", "API key").set_value(gemini_fake.api_key)
    field(user, "gemini", "Address (optional)").set_value(gemini_fake.base_url)
    press(user, "Save Google Gemini")
    await user.should_see("Google Gemini connected")

    await user.open("/")
    model = next(key for key, label in select_of(user).options.items() if label == "Gemini · gemini-2.5-flash")
    select_of(user).set_value(model)
    gemini_fake.play(Reply(tokens=["Gemini ", "answers."]))
    await send(user, "Hello Gemini")
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))
    assert gemini_fake.chat_requests[-1].headers["x-goog-api-key"] == gemini_fake.api_key
