"""The HTTP API as a script uses it: httpx against a running `python main.py` and the fake providers."""

from __future__ import annotations

import json
import time
from datetime import datetime

import httpx
import pytest

from tests.app_process import chat_app
from tests.conftest import DATABASE_KINDS, fresh_database
from tests.fakes.provider_server import HttpError, Reply

API_KEY = "chat-test-key-for-scripts"
OPENAI = "openai:gpt-4o-mini"


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def server(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("api")
    with (
        fresh_database(request.param, folder, request) as database_url,
        chat_app(folder, database_url=database_url, CHAT_API_KEY=API_KEY, RETRY_MAX_DELAY="5") as running,
    ):
        yield running


@pytest.fixture
def api(server):
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=20) as client:
        yield client


def events_of(response: httpx.Response) -> list[dict]:
    return [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]


def test_a_streamed_reply_arrives_token_by_token_then_a_completion(api, server):
    server.fakes["openai"].play(Reply(tokens=["Hel", "lo", ", ", "world", "!"], delay=0.02, input_tokens=9))

    with api.stream("POST", "/api/chat", json={"message": "Say hello", "model": OPENAI}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache" and response.headers["x-accel-buffering"] == "no"
        events = events_of(response)

    *tokens, done = events
    assert [e["token"] for e in tokens] == ["Hel", "lo", ", ", "world", "!"]
    assert all(e["done"] is False and e["model"] == "gpt-4o-mini" for e in tokens)
    assert all(datetime.fromisoformat(e["timestamp"]).tzinfo is not None for e in tokens)
    assert done["done"] is True and done["finish_reason"] == "stop"
    assert done["total_tokens"] == 9 + 5 and done["response_time"] > 0
    history = api.get(f"/api/conversations/{done['conversation_id']}").json()
    assert [(m["role"], m["content"], m["status"]) for m in history["messages"]] == [
        ("user", "Say hello", "complete"),
        ("assistant", "Hello, world!", "complete"),
    ]


def test_text_holding_nul_and_private_use_characters_comes_back_as_it_was_sent(api, server):
    # PostgreSQL's text cannot hold U+0000: without care the reply was lost there, its row left `streaming`.
    odd = "nul\x00here \ue000\ue001 \ue000\ue002"
    server.fakes["openai"].play(Reply(tokens=["back: ", odd]))

    done = api.post("/api/chat", json={"message": odd, "model": OPENAI, "stream": False}).json()

    assert done["text"] == "back: " + odd
    history = api.get(f"/api/conversations/{done['conversation_id']}").json()
    assert [(m["content"], m["status"]) for m in history["messages"]] == [(odd, "complete"), (done["text"], "complete")]


def test_a_follow_up_continues_the_conversation_with_its_system_prompt(api, server):
    server.fakes["anthropic"].play(Reply(tokens=["Paris."]), Reply(tokens=["About 2 million."]))
    first = api.post(
        "/api/chat",
        json={"message": "Capital of France?", "model": "claude-haiku-4-5", "stream": False, "system": "Be brief."},
    ).json()

    second = api.post(
        "/api/chat", json={"message": "Population?", "conversation_id": first["conversation_id"], "stream": False}
    ).json()

    assert (first["text"], second["text"]) == ("Paris.", "About 2 million.")
    assert second["conversation_id"] == first["conversation_id"] and second["usage"]["output_tokens"] == 1
    sent = server.fakes["anthropic"].chat_requests[-1].body
    assert sent["system"] == "Be brief."
    assert [m["content"] for m in sent["messages"]] == ["Capital of France?", "Paris.", "Population?"]


@pytest.mark.parametrize(
    ("failure", "error_code", "retry_after"),
    [
        (HttpError(429, "Rate limit reached", "rate_limit_exceeded", {"retry-after": "7"}), "RATE_LIMIT", 7),
        (HttpError(401, "Incorrect API key provided", "invalid_api_key"), "AUTH", None),
        (HttpError(400, "max_tokens is too large", "invalid_request_error"), "BAD_REQUEST", None),
        (HttpError(404, "The model does not exist", "model_not_found"), "NOT_FOUND", None),
    ],
)
def test_each_provider_error_ends_the_stream_with_its_code(api, server, failure, error_code, retry_after):
    server.fakes["openai"].play(failure)

    with api.stream("POST", "/api/chat", json={"message": "Hi", "model": OPENAI}) as response:
        [error] = events_of(response)

    assert error["done"] is True and error["error_code"] == error_code
    assert error["retry_after"] == retry_after
    assert failure.message in error["error"]


def test_a_server_error_that_outlasts_the_retries_is_an_upstream_error(api, server):
    server.fakes["openai"].play(
        *[HttpError(500, "Internal failure", "server_error")] * 4
    )  # the first try and 3 retries

    with api.stream("POST", "/api/chat", json={"message": "Hi", "model": OPENAI}) as response:
        [error] = events_of(response)

    assert error["error_code"] == "UPSTREAM" and "Internal failure" in error["error"]


def test_an_overloaded_provider_after_some_text_keeps_the_tokens_then_reports(api, server):
    server.fakes["anthropic"].play(Reply(tokens=["Half ", "an ", "answer"], fail_after=2))

    with api.stream("POST", "/api/chat", json={"message": "Go", "model": "anthropic:claude-haiku-4-5"}) as response:
        events = events_of(response)

    assert [e.get("token") for e in events[:-1]] == ["Half ", "an "]
    assert events[-1]["error_code"] == "OVERLOADED" and events[-1]["done"] is True


def test_a_client_that_disconnects_stops_the_reply_and_the_text_is_kept_as_stopped(api, server):
    fake = server.fakes["openai"]
    fake.hung_up.clear()
    fake.play(Reply(tokens=[f"w{i} " for i in range(400)], delay=0.02))

    with api.stream("POST", "/api/chat", json={"message": "Talk", "model": OPENAI}) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and json.loads(line[6:])["token"] == "w4 ":
                break
    # Leaving the block closed the connection mid-stream: that is the API's Stop.
    assert fake.hung_up.wait(2.0), "the upstream request was not closed"
    conversation_id = api.get("/api/conversations").json()["conversations"][0]["id"]
    deadline = time.monotonic() + 5
    while (reply := api.get(f"/api/conversations/{conversation_id}").json()["messages"][-1])["status"] == "streaming":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert reply["status"] == "stopped" and reply["content"].startswith("w0 w1 w2 w3 w4 ")
    assert "w399" not in reply["content"]


def test_models_lists_what_the_model_selector_offers(api):
    listed = api.get("/api/models").json()

    assert listed["default"] == "openai:gpt-4.1"
    assert {"id": OPENAI, "model": "gpt-4o-mini", "provider": "openai", "label": "OpenAI · gpt-4o-mini"} in (
        listed["models"]
    )


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", f"Basic {API_KEY}", "Bearer", API_KEY])
def test_no_key_or_a_wrong_key_is_refused_with_json(server, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    response = httpx.post(server.url + "/api/chat", headers=headers, json={"message": "Hi"})

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH"


def test_every_route_asks_for_the_key(server):
    for path in ("/api/models", "/api/conversations", "/api/nothing-here"):
        response = httpx.get(server.url + path)
        assert response.status_code == 401 and response.json()["error_code"] == "AUTH", path


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"model": OPENAI}, 422, "BAD_REQUEST"),
        ({"message": ["not", "text"]}, 422, "BAD_REQUEST"),
        ({"message": "   "}, 422, "BAD_REQUEST"),
        ({"message": "Hi", "model": "no-such-model"}, 400, "BAD_REQUEST"),
        ({"message": "Hi", "conversation_id": "missing"}, 404, "NOT_FOUND"),
    ],
)
def test_a_malformed_request_gets_a_json_error_not_a_stack_trace(api, body, status, code):
    response = api.post("/api/chat", json=body)

    assert response.status_code == status and response.json()["error_code"] == code
    assert "Traceback" not in response.text and response.json()["error"]


def test_a_body_that_is_not_json_is_a_422(api):
    response = api.post("/api/chat", content=b"{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 422 and response.json()["error_code"] == "BAD_REQUEST"


def test_an_unknown_conversation_is_a_404(api):
    response = api.get("/api/conversations/does-not-exist")

    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"
