"""A route over the HTTP API: a script names it as `model`, and every event says which model answered."""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_chat_api import events_of
from tests.app_process import chat_app
from tests.fakes.provider_server import HttpError, Reply

API_KEY = "chat-test-key-for-routes"
ROUTE = "fast=anthropic:claude-haiku-4-5,openai:gpt-4o-mini"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("routes-api")
    with chat_app(folder, CHAT_API_KEY=API_KEY, MODEL_ROUTES=ROUTE, ROUTE_SWITCH_AT_ONCE="true") as running:
        yield running


@pytest.fixture
def api(server):
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=20) as client:
        yield client


def test_the_routes_are_listed_with_the_models(api):
    listed = api.get("/api/models").json()
    assert listed["routes"] == [
        {
            "id": "route:fast",
            "name": "fast",
            "label": "Route · fast",
            "models": ["anthropic:claude-haiku-4-5", "openai:gpt-4o-mini"],
        }
    ]


def test_a_route_named_as_model_answers_with_the_next_model_when_the_first_is_overloaded(api, server):
    server.fakes["anthropic"].play(HttpError(529, "Overloaded", "overloaded_error"))
    server.fakes["openai"].play(Reply(tokens=["From", " OpenAI"]))

    with api.stream("POST", "/api/chat", json={"message": "Hi", "model": "fast"}) as response:
        assert response.status_code == 200
        *tokens, done = events_of(response)

    assert [event["token"] for event in tokens] == ["From", " OpenAI"]
    assert all(event["model"] == "gpt-4o-mini" for event in tokens)
    assert done["done"] is True and done["finish_reason"] == "stop"
    assert (done["model"], done["provider"], done["route"]) == ("gpt-4o-mini", "openai", "fast")
    assert done["note"] == "Anthropic overloaded; answered by OpenAI · gpt-4o-mini."
    assert len(server.fakes["anthropic"].chat_requests) == 1  # switched at once: no retry of a 529 first

    history = api.get(f"/api/conversations/{done['conversation_id']}").json()
    assert history["model"] == "route:fast"
    assert history["messages"][-1]["model"] == "openai:gpt-4o-mini"


def test_a_reply_that_is_not_streamed_names_its_model_too(api, server):
    server.fakes["anthropic"].play(Reply(tokens=["Claude", " here"]))

    body = api.post("/api/chat", json={"message": "Hi", "model": "route:fast", "stream": False}).json()

    assert body["text"] == "Claude here"
    answered_by = (body["model"], body["provider"], body["route"], body["note"])
    assert answered_by == ("claude-haiku-4-5", "anthropic", "fast", None)


def test_an_unknown_route_is_refused_clearly(api):
    response = api.post("/api/chat", json={"message": "Hi", "model": "route:nowhere"})
    assert response.status_code == 400 and "not available" in response.json()["error"]


def test_a_reply_cut_off_mid_way_is_continued_by_the_next_model_over_the_api(api, server):
    server.fakes["anthropic"].play(Reply(tokens=["Half ", "of it", " never sent"], fail_after=2))
    server.fakes["openai"].play(Reply(tokens=[" and", " the rest."]))

    with api.stream("POST", "/api/chat", json={"message": "Tell me", "model": "fast"}) as response:
        *_, failed = events_of(response)
    assert failed["error_code"] == "OVERLOADED" and failed["model"] == "claude-haiku-4-5"
    assert failed["continue_with"] == "openai:gpt-4o-mini"

    conversation = failed["conversation_id"]
    with api.stream("POST", f"/api/conversations/{conversation}/continue", json={}) as response:
        assert response.status_code == 200
        *tokens, done = events_of(response)

    assert [event["token"] for event in tokens] == [" and", " the rest."]  # the text so far is not sent again
    assert (done["done"], done["model"], done["route"]) == (True, "gpt-4o-mini", "fast")
    assert done["note"] == "Continued by OpenAI · gpt-4o-mini where Anthropic · claude-haiku-4-5 failed."
    last = api.get(f"/api/conversations/{conversation}").json()["messages"][-1]
    assert (last["content"], last["model"]) == ("Half of it and the rest.", "openai:gpt-4o-mini")

    again = api.post(f"/api/conversations/{conversation}/continue")  # it is complete now: nothing to continue
    assert again.status_code == 400 and "cannot be continued" in again.json()["error"]
    assert api.post("/api/conversations/nowhere/continue").status_code == 404
