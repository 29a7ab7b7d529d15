"""Routes as the person uses them: made on the Routes page, chosen in the Model selector as one entry, a reply that
moves to the next model before its first token and says so, and "Continue with" after a failure mid-reply; with
`python main.py` against the fake Anthropic and OpenAI servers."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User

from tests.fakes.provider_server import HttpError, Reply
from tests.ui.helpers import assert_status, click_labelled, eventually, replies, reply_text, send

ROUTE = "fast=anthropic:claude-haiku-4-5,openai:gpt-4o-mini"


@pytest.fixture
def routed_env(app_env, monkeypatch):
    monkeypatch.setenv("MODEL_ROUTES", ROUTE)
    monkeypatch.setenv("RETRY_ATTEMPTS", "0")
    return app_env


def model_select(user: User) -> ui.select:
    return next(iter(user.find(kind=ui.select, content="Model").elements))


def card(user: User, name: str) -> ui.element:
    return next(iter(user.find(marker=f"route-{name}").elements))


def route_models(route_card: ui.element) -> list[str]:
    """The models of a route's card, in the order they are tried."""
    items = [e for e in route_card.descendants() if "route-model" in e._markers]
    return [label.text for item in items for label in item.descendants() if isinstance(label, ui.label)]


def footer(reply: ui.element) -> str:
    return next(e.text for e in reply.descendants() if "msg-footer" in e.classes)


def note(reply: ui.element) -> str:
    return next(e.text for e in reply.descendants() if "context-note" in e._markers)


async def test_a_route_answers_with_the_next_model_and_says_why(routed_env, user: User):
    anthropic, openai = routed_env["anthropic"], routed_env["openai"]
    anthropic.play(HttpError(529, "Overloaded", "overloaded_error"))
    openai.play(Reply(tokens=["Answered ", "by GPT."]))
    await user.open("/")
    assert model_select(user).options["route:fast"] == "Route · fast"
    model_select(user).set_value("route:fast")

    await send(user, "Hello route")

    await eventually(lambda: assert_status(replies(user)[-1], "complete"))
    reply = replies(user)[-1]
    assert "Answered by GPT." in reply_text(reply)
    assert note(reply) == "Anthropic overloaded; answered by OpenAI · gpt-4o-mini."
    assert footer(reply).startswith("OpenAI · gpt-4o-mini")
    assert len(anthropic.chat_requests) == 1 and len(openai.chat_requests) == 1

    await user.open("/")  # a new chat starts on the route used last
    assert model_select(user).value == "route:fast"


async def test_a_reply_that_fails_mid_way_is_continued_by_the_next_model(routed_env, user: User):
    anthropic, openai = routed_env["anthropic"], routed_env["openai"]
    anthropic.play(Reply(tokens=["The first ", "half", " never sent"], fail_after=2))
    openai.play(Reply(tokens=[" and the second half."]))
    await user.open("/")
    model_select(user).set_value("route:fast")

    await send(user, "Tell me")

    await eventually(lambda: assert_status(replies(user)[-1], "error"))
    assert not openai.chat_requests  # nothing switched on its own
    await user.should_see("Continue with OpenAI · gpt-4o-mini")
    user.find(kind=ui.button, content="Continue with OpenAI · gpt-4o-mini").click()

    await eventually(lambda: assert_status(replies(user)[-1], "complete"))
    reply = replies(user)[-1]
    assert "The first half and the second half." in reply_text(reply)
    assert note(reply) == "Continued by OpenAI · gpt-4o-mini where Anthropic · claude-haiku-4-5 failed."
    sent = openai.chat_requests[0].body["messages"]
    assert sent[-2] == {"role": "assistant", "content": "The first half"}
    await user.should_see("2/2")  # the failed version stays, one click away


async def test_a_route_is_made_on_the_routes_page_and_offered_at_once(app_env, user: User):
    await user.open("/routes")
    await user.should_see("No route yet")
    user.find("Name").type("careful")
    adding = next(iter(user.find(kind=ui.select, content="Add a model").elements))
    adding.set_value("openai:gpt-4o-mini")
    adding.set_value("anthropic:claude-haiku-4-5")
    await user.should_see("2. Anthropic · claude-haiku-4-5")
    click_labelled(user, "Move Anthropic · claude-haiku-4-5 up")
    await user.should_see("1. Anthropic · claude-haiku-4-5")
    user.find("Save route").click()

    await user.should_see("Route careful saved")
    assert route_models(card(user, "careful")) == ["Anthropic · claude-haiku-4-5", "OpenAI · gpt-4o-mini"]
    await user.should_see("after each model's retries")
    await user.open("/")
    assert model_select(user).options["route:careful"] == "Route · careful"


async def test_a_route_of_the_environment_is_shown_and_cannot_be_changed_here(routed_env, user: User):
    await user.open("/routes")
    await user.should_see("Route · fast")
    await user.should_see("Set by MODEL_ROUTES")
    user.find("Name").type("fast")
    next(iter(user.find(kind=ui.select, content="Add a model").elements)).set_value("openai:gpt-4o-mini")
    user.find("Save route").click()
    await user.should_see("set by MODEL_ROUTES where the app starts")


async def test_a_route_made_here_is_edited_and_removed(app_env, user: User):
    await user.open("/routes")
    user.find("Name").type("pair")
    adding = next(iter(user.find(kind=ui.select, content="Add a model").elements))
    adding.set_value("openai:gpt-4o-mini")
    adding.set_value("anthropic:claude-haiku-4-5")
    user.find("Save route").click()
    await user.should_see("Route pair saved")

    click_labelled(user, "Edit route pair")
    await user.should_see("2. Anthropic · claude-haiku-4-5")
    click_labelled(user, "Take OpenAI · gpt-4o-mini out")
    await user.should_see("1. Anthropic · claude-haiku-4-5")
    user.find("Move on at once on a server or connection error (no retries first)").click()
    user.find("Save route").click()

    await eventually(lambda: route_models(card(user, "pair")) == ["Anthropic · claude-haiku-4-5"])
    await user.should_see("Moves to the next model at once on a server or connection error.")

    click_labelled(user, "Remove route pair")
    await user.should_see("No route yet")
    await user.open("/")
    assert "route:pair" not in model_select(user).options
