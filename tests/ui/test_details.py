"""Smaller things a demanding user notices: settings that refuse instead of clamping, presets kept tidy, the system
prompt in view, the edit box's keys, the model of a new chat, titles, the API keys dialog and imports."""

from __future__ import annotations

import json

import pytest
from nicegui import ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from tests.ui.helpers import assert_status, button, drawer_titles, eventually, replies, send, user_messages

pytestmark = pytest.mark.usefixtures("app_env")


async def chat(user: User, text: str) -> None:
    await send(user, text)
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))


def preset_select(user: User) -> ui.select:
    return next(s for s in user.find(kind=ui.select).elements if s.props.get("label") == "Preset")


def settings_field(user: User, label: str) -> ui.number:
    return next(iter(user.find(label).elements))


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("Temperature", "3.5", "From 0 to 2"),
        ("Temperature", "-5", "From 0 to 2"),
        ("Max output tokens", "0", "A whole number from 1"),
        ("Max output tokens", "12.5", "A whole number from 1"),
    ],
)
async def test_a_setting_out_of_range_is_refused_beside_its_field_and_not_changed(user: User, field, value, message):
    await user.open("/")
    user.find(kind=ui.button, content="Settings").click()
    user.find(field).type(value)

    user.find(marker="settings-save").click()

    number = settings_field(user, field)
    assert number.error and number.error.startswith(message)
    assert number.value == float(value), "what was typed stays, to be corrected"
    await user.should_not_see("Settings saved")


async def test_settings_offer_a_temperature_only_for_a_model_that_takes_one(user: User):
    await user.open("/")
    model = next(s for s in user.find(kind=ui.select).elements if s.props.get("label") == "Model")
    model.set_value("anthropic:claude-haiku-4-5")
    user.find(kind=ui.button, content="Settings").click()

    temperature = next(e for e in user.client.layout.descendants() if e.props.get("label") == "Temperature")
    assert not temperature.visible
    await user.should_see("Anthropic · claude-haiku-4-5 takes no temperature: none is sent.")

    user.find(kind=ui.button, content="Cancel").click()
    model.set_value("openai:gpt-4o-mini")
    user.find(kind=ui.button, content="Settings").click()
    assert temperature.visible
    await user.should_not_see("takes no temperature")


async def test_a_preset_can_be_renamed_and_deleted(user: User):
    await user.open("/")
    user.find(kind=ui.button, content="Settings").click()
    user.find("System prompt").type("Answer briefly.")
    user.find("Preset name").type("Brief")
    user.find(kind=ui.button, content="Save as preset").click()
    await user.should_see("Preset “Brief” saved.")
    user.find("Preset").click()
    user.find("Brief").click()

    user.find("Preset name").clear().type("Short answers")
    user.find(kind=ui.button, content="Rename").click()
    await user.should_see("Preset renamed to “Short answers”.")
    assert list(preset_select(user).options) == ["Short answers"]
    user.find(kind=ui.button, content="Delete").click()

    await user.should_see("Preset “Short answers” deleted")
    assert list(preset_select(user).options) == []


async def test_the_system_prompt_in_use_is_shown_in_the_chat(user: User):
    await user.open("/")
    user.find(kind=ui.button, content="Settings").click()
    user.find("System prompt").type("Answer like a pirate.")
    user.find(marker="settings-save").click()

    await user.should_see("System prompt: Answer like a pirate.")
    await chat(user, "Hello")
    link = next(c for c in user.find(kind=ui.link).elements if c.text == "Hello")
    await user.open(link.props["href"])
    await user.should_see("System prompt: Answer like a pirate.")


def labelled(user: User, label: str) -> ui.button:
    return next(b for b in user.find(kind=ui.button).elements if b.props.get("aria-label") == label and b.visible)


def shown(user: User, marker: str) -> bool:
    try:
        return bool(user.find(marker=marker).elements)
    except AssertionError:  # the page shows none
        return False


async def test_in_the_edit_box_enter_saves_and_sends_and_escape_cancels(user: User):
    await user.open("/")
    await chat(user, "Capital of Franse?")

    UserInteraction(user, {labelled(user, "Edit")}, "Edit").click()
    box = next(iter(user.find(marker="edit-box").elements))
    box.set_value("Capital of France?")
    UserInteraction(user, {box}, "").trigger("keydown.enter.exact")

    await eventually(lambda: user_messages(user) == ["Capital of France?"])
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))
    UserInteraction(user, {labelled(user, "Edit")}, "Edit").click()
    box = next(iter(user.find(marker="edit-box").elements))
    box.set_value("something else")
    UserInteraction(user, {box}, "").trigger("keydown.esc")

    await eventually(lambda: not shown(user, "edit-box"))
    assert user_messages(user) == ["Capital of France?"], "nothing was sent"


async def test_a_pinned_conversation_does_not_decide_the_model_of_a_new_chat(user: User, app_env):
    await user.open("/")
    await chat(user, "On the first model")
    pinned_model = button_select(user).value
    other = next(key for key in button_select(user).options if key != pinned_model)
    row = next(iter(user.find(marker="conversation").elements))
    item = next(d for d in row.descendants() if isinstance(d, ui.menu_item) and "Pin" in d._markers)
    UserInteraction(user, {item}, "Pin").click()
    await user.open("/")
    button_select(user).set_value(other)
    await chat(user, "On another model")

    await user.open("/")

    assert button_select(user).value == other, "the model used last, not the pinned conversation's"


def button_select(user: User) -> ui.select:
    return next(s for s in user.find(kind=ui.select).elements if s.props.get("label") == "Model")


async def test_revoking_an_api_key_asks_first(user: User):
    await user.open("/")
    user.find(kind=ui.button, content="HTTP API keys").click()
    user.find("Key name").type("laptop")
    user.find(kind=ui.button, content="Create key").click()
    await user.should_see("Copy this key now")
    UserInteraction(user, {labelled(user, "Revoke laptop")}, "Revoke").click()

    await user.should_see("Revoke “laptop”?")
    assert user.find(marker="api-key").elements, "nothing revoked yet"
    user.find(marker="revoke-confirm").click()
    await user.should_see("No keys yet.")


async def test_importing_a_file_whose_conversations_are_all_here_says_so(user: User):
    await user.open("/")
    await chat(user, "Keep me")
    service_export = json.dumps(
        {"format": "llm-chat", "version": 1, "conversations": [{"id": drawer_conversation_id(user), "messages": []}]}
    )
    user.find(kind=ui.button, content="Import").click()
    [upload] = user.find(kind=ui.upload).elements

    files = {"file": ("chats.json", service_export.encode(), "application/json")}
    assert (await user.http_client.post(upload._registered_url, files=files)).status_code == 200

    await user.should_see("All 1 conversation in that file are here already.")
    assert drawer_titles(user) == ["Keep me"]


def drawer_conversation_id(user: User) -> str:
    link = next(c for c in user.find(kind=ui.link).elements if c.text == "Keep me")
    return link.props["href"].removeprefix("/c/")


async def test_with_no_model_chosen_send_says_what_to_do_and_keeps_the_text(user: User):
    await user.open("/")
    button_select(user).set_value(None)

    await send(user, "Anyone there?")

    await user.should_see("Pick a model first.")
    assert button(user, "Send").visible and user.find("Message").elements.pop().value == "Anyone there?"
